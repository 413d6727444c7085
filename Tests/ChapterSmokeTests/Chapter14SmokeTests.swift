// Chapter14SmokeTests.swift — chapter 14 runs its tiny configuration.
import Testing
@testable import Chapter14Stacking

@Suite struct Chapter14SmokeTests {
    @Test func stackingAndConcatenationRun() throws {
        var lines: [String] = []
        let report = try Chapter14Stacking.run(.tiny) { lines.append($0) }
        #expect(report.stackedLayers == 2 * (report.baseLayers - 1))
        #expect(report.adapterRows.count == 5)
        // Concatenation is the same update as both adapters active.
        #expect(report.adapterRows[2].reverse == report.adapterRows[3].reverse && report.adapterRows[2].record == report.adapterRows[3].record)
    }
}
