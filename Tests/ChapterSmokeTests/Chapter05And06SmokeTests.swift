// Chapter05And06SmokeTests.swift — chapters 5 and 6 run end to end on their tiny configurations.
import Testing
import FullFineTuning
@testable import Chapter05FineTuning
@testable import Chapter06Tactics

@Suite struct Chapter05And06SmokeTests {
    @Test func chapter05RunsAndPrintsTheDecisionTable() throws {
        var lines: [String] = []
        let report = try Chapter05FineTuning.run(.tiny) { lines.append($0) }
        #expect(report.forgetting.count == 3)
        #expect(report.forgetting.map(\.setup) == ["full", "last 2 blocks", "last 1 block"])
        #expect(report.forgetting[0].trainableParameters > report.forgetting[1].trainableParameters)
        #expect(lines.contains { $0.hasPrefix("Decision table") })
        // Retrieval finds the right sentence: it is the only one with the person's name and "live".
        #expect(report.retrieval.retrievalHitRate == 1)
    }

    @Test func chapter06RunsAndAccumulationMatches() throws {
        var lines: [String] = []
        let report = try Chapter06Tactics.run(.tiny) { lines.append($0) }
        #expect(report.learningRateSweep.count == 2)
        #expect(report.accumulationMaxDifference < 1e-4)
        #expect(report.earlyStopStep <= report.earlyStopBudget)
        #expect(report.memory.count == 4)
        for m in report.memory {
            #expect(m.measured.weights == m.estimated.weights && m.measured.optimizerState == m.estimated.optimizerState)
            #expect(abs(m.measured.activations / m.estimated.activations - 1) < 0.05, "\(m.label)")
        }
    }
}
