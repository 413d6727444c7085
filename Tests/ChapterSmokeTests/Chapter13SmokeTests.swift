// Chapter13SmokeTests.swift — chapter 13 runs its tiny configuration and prints the whole matrix.
import Testing
@testable import Chapter13Merging

@Suite struct Chapter13SmokeTests {
    @Test func accuracyMatrixHasEverySetup() throws {
        var lines: [String] = []
        let rows = try Chapter13Merging.run(.tiny) { lines.append($0) }
        #expect(rows.map(\.setup) == ["base model", "fine-tuned on A", "fine-tuned on B", "multi-task (A ∪ B together)",
                                      "sequential (A, then B)", "soup (linear 0.5/0.5)", "task arithmetic (λ = 1)",
                                      "TIES (density 0.5)", "DARE-TIES (p = 0.5)", "SLERP (t = 0.5)"])
        #expect(rows.allSatisfy { (0...1).contains($0.accuracyA) && (0...1).contains($0.accuracyB) })
        #expect(lines.contains { $0.contains("Best merge:") })
    }
}
