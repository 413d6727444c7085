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
            // Each accuracy is a count of exact matches over the test set: k / n for a whole k ≤ n.
            // (At this size every count is 0; MergeLearningTests checks that merging works.)
            let n = Double(Chapter13Merging.Config.tiny.testExamples)
            for row in rows {
                for accuracy in [row.accuracyA, row.accuracyB] {
                    let count = accuracy * n
                    #expect(count >= 0 && count <= n && abs(count - count.rounded()) < 1e-9, "\(row.setup): \(accuracy) of \(n)")
                }
                #expect(lines.contains { $0.hasPrefix(row.setup) }, "\(row.setup) is not printed")
            }
        }
        let best = lines.filter { $0.contains("Best merge:") }
        #expect(best.count == 2)
        let merges = result.fromBase.filter(\.isMerge).map(\.setup)
        #expect(best.allSatisfy { line in merges.contains { line.contains("Best merge: \($0) with") } }, "\(best)")
    }
}
