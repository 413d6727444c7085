// Chapter14SmokeTests.swift — chapter 14 runs its tiny configuration and its report is consistent.
import Testing
@testable import Chapter14Stacking

@Suite struct Chapter14SmokeTests {
    @Test func stackingAndCombinationsRun() throws {
        var lines: [String] = []
        let report = try Chapter14Stacking.run(.tiny) { lines.append($0) }
        let up = report.upScaling
        #expect(up.stackedLayers == 2 * (up.baseLayers - 1))
        // Three curves measured at the same steps: 0, every 3 steps, and the last.
        #expect(up.stacked.points.map(\.step) == [0, 3, 6])
        #expect(up.scratch.points.map(\.step) == up.stacked.points.map(\.step))
        // Stacking copies trained blocks: at step 0 it is far better than random weights.
        #expect(up.stacked.points[0].loss < up.scratch.points[0].loss)
        let rows = report.adapters.rows
        #expect(rows.count == 9)       // checkpoint, 2 singles, sum, concatenation, 1 weighted sum, TIES, SVD, routed
        // Concatenation is the same update as both adapters active.
        #expect(report.adapters.concatenationError < 1e-4)
        #expect(rows[3].accuracyA == rows[4].accuracyA && rows[3].accuracyB == rows[4].accuracyB)
        #expect(report.adapters.overlaps.count == 2 * 4)   // 2 blocks × 4 linear layers
        #expect(report.adapters.overlaps.allSatisfy { abs($0.cosine) <= 1 + 1e-9 })
        // Routing is reported on its own line and never counted as the best combination into one model.
        #expect(rows.last?.kind == .routed && report.adapters.best?.kind == .combination)
        #expect(lines.contains { $0.contains("Best combination into one model:") })
        #expect(lines.contains { $0.contains("Routing each request to its own adapter") })
    }
}
