// Chapter05And06SmokeTests.swift — chapters 5 and 6 run end to end on their tiny configurations.
import Testing
import FullFineTuning
@testable import Training
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
        // Forgetting under control: the chapter recipe, three changes of it, and replay alone; each row printed.
        #expect(report.control.map(\.recipe) == ["chapter recipe (lr 0.003)", "lr 0.001", "+ early stopping", "+ 25% replay",
                                                 "25% replay alone (lr 0.003)"])
        // Replay alone has no early stopping: it runs the chapter recipe's 30 steps.
        #expect(report.control.last?.stepsRun == 30)
        #expect(report.control[0].corpusLoss == report.forgetting[0].corpusLossAfter)
        #expect(report.control.allSatisfy { $0.stepsRun <= 30 && $0.stepsRun > 0 })
        for row in report.control { #expect(lines.contains { $0.hasPrefix("  " + row.recipe) }, "\(row.recipe)") }
        // Retrieval finds the right sentence: it is the only one with the person's name and "live".
        #expect(report.retrieval.retrievalHitRate == 1)
    }

    static func row(_ name: String, task: Double, corpus: Float) -> Chapter05FineTuning.ControlRow {
        .init(recipe: name, stepsRun: 10, taskB: TaskScore(accuracy: task, loss: 0, count: 10), taskA: TaskScore(accuracy: 0, loss: 0, count: 10),
              corpusLoss: corpus)
    }

    @Test func theControlVerdictNamesTheFirstRecipeThatKeepsBoth() {
        // Baseline 3.0: the first recipe wrecks the base, the second forgets less but loses the task, the third keeps both.
        let rows = [Self.row("a", task: 1, corpus: 5), Self.row("b", task: 0.5, corpus: 2), Self.row("c", task: 0.95, corpus: 2.5)]
        let verdict = Chapter05FineTuning.controlVerdict(rows, baseline: 3)
        #expect(verdict.contains("above the unigram baseline 3.000: it wrecks the base"))
        #expect(verdict.contains("Recommended: \"c\""))
        let none = Chapter05FineTuning.controlVerdict(Array(rows.prefix(2)), baseline: 3)
        #expect(none.contains("No recipe here") && none.contains("above it: a"))
    }

    @Test func chapter06SweepVerdictReadsTheBestRunsCorpusLoss() {
        func row(_ setting: String, _ accuracy: Double, _ corpus: Float) -> Chapter06Tactics.Row {
            Chapter06Tactics.Row(setting: setting, finalLoss: 0, score: TaskScore(accuracy: accuracy, loss: 0, count: 100), corpusLoss: corpus)
        }
        let kept = Chapter06Tactics.sweepVerdict([row("lr 1e-04", 0.15, 0.4), row("lr 5e-04", 1, 0.5), row("lr 2e-03", 1, 3.9)],
                                                 baseCorpusLoss: 0.25, unigramBaseline: 3.274)
        // The tie at 100% goes to the lower rate; the higher one is named for ending above the baseline.
        #expect(kept == "  Best score: lr 5e-04 (100%), corpus loss 0.500 (base 0.250, unigram baseline 3.274) — below the baseline: "
                + "the best rate learns the task and keeps the base. Above the baseline: lr 2e-03.")
        let partly = Chapter06Tactics.sweepVerdict([row("lr 5e-04", 0.71, 0.333)], baseCorpusLoss: 0.258, unigramBaseline: 3.274)
        #expect(partly.hasSuffix("below the baseline: it keeps the base, but learns only 71% of the task in this budget "
                                 + "(replay takes a share of every batch; chapter 5 gives it more steps)."))
        let wrecked = Chapter06Tactics.sweepVerdict([row("lr 5e-04", 1, 4.9)], baseCorpusLoss: 0.25, unigramBaseline: 3.274)
        #expect(wrecked.hasSuffix("above the baseline: this rate learns the task by wrecking the base. Above the baseline: lr 5e-04."))
    }

    @Test func chapter06RunsAndAccumulationMatches() throws {
        var lines: [String] = []
        let report = try Chapter06Tactics.run(.tiny) { lines.append($0) }
        #expect(report.learningRateSweep.count == 2)
        // Every sweep run was scored on held-out pretraining text too, and the sentence reads those numbers.
        #expect(report.learningRateSweep.allSatisfy { ($0.corpusLoss ?? 0) > 0 })
        #expect(lines.contains { $0.hasPrefix("1. Learning rate") && $0.contains("25% replay (16-character windows") })
        #expect(lines.contains { $0.hasPrefix("  Best score: lr ") && $0.contains(String(format: "unigram baseline %.3f", report.unigramBaseline)) })
        #expect(report.accumulationMaxDifference < 1e-4)
        #expect(report.earlyStopStep <= report.earlyStopBudget)
        #expect(report.memory.count == 4)
        for m in report.memory {
            #expect(m.measured.weights == m.estimated.weights && m.measured.optimizerState == m.estimated.optimizerState)
            #expect(abs(m.measured.activations / m.estimated.activations - 1) < 0.05, "\(m.label)")
        }
    }
}
