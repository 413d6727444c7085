// Chapter14SmokeTests.swift — chapter 14 runs its tiny configuration.
import Testing
@testable import Chapter14Stacking

@Suite struct Chapter14SmokeTests {
    @Test func stackingAndConcatenationRun() throws {
        var lines: [String] = []
        let report = try Chapter14Stacking.run(.tiny) { lines.append($0) }
        #expect(report.stackedLayers == 2 * (report.baseLayers - 1))
        #expect(report.adapterRows.count == 5)
        // Concatenation is the same update as both adapters active — on the logits, not only on
        // accuracies that can tie at 0% — while both together differ from the first adapter alone.
        #expect(report.concatenationDifference < 1e-4, "concatenated vs both: \(report.concatenationDifference)")
        #expect(report.bothVersusFirstDifference > 1e-3, "both vs first alone: \(report.bothVersusFirstDifference)")
        #expect(report.adapterRows[2].reverse == report.adapterRows[3].reverse && report.adapterRows[2].record == report.adapterRows[3].record)
    }
}
