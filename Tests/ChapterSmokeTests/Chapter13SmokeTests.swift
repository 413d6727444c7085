// Chapter13SmokeTests.swift — chapter 13 runs its tiny configuration and prints both whole matrices.
import Testing
@testable import Chapter13Merging

@Suite struct Chapter13SmokeTests {
    @Test func bothAccuracyMatricesHaveEverySetup() throws {
        var lines: [String] = []
        let result = try Chapter13Merging.run(.tiny) { lines.append($0) }
        for rows in [result.fromBase, result.fromGeneralist] {
            #expect(rows.map(\.setup) == ["starting checkpoint", "fine-tuned on A", "fine-tuned on B", "multi-task (A ∪ B together)",
                                          "sequential (A, then B)", "soup (linear 0.5/0.5)", "task arithmetic (λ = 1)",
                                          "TIES (density 0.5)", "DARE-TIES (p = 0.5)", "SLERP (t = 0.5)"])
            #expect(rows.filter(\.isMerge).count == 5)
            #expect(rows.allSatisfy { (0...1).contains($0.accuracyA) && (0...1).contains($0.accuracyB) })
        }
        #expect(lines.filter { $0.contains("Best merge:") }.count == 2)
    }
}
