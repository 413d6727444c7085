// Chapter13SmokeTests.swift — chapter 13 runs its tiny configuration and prints both whole matrices.
import Testing
@testable import Experiments
@testable import Chapter13Merging

@Suite struct Chapter13SmokeTests {
    @Test func bothAccuracyMatricesHaveEverySetup() throws {
        var lines: [String] = []
        let result = try Chapter13Merging.run(.tiny) { lines.append($0) }
        for rows in [result.fromBase, result.fromGeneralist, result.loraFromGeneralist] {
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
                // Every row carries its corpus loss, printed next to the scores.
                let corpus = try #require(row.corpusLoss)
                #expect(corpus.isFinite && corpus > 0)
            }
        }
        let best = lines.filter { $0.contains("Best merge:") }
        #expect(best.count == 3)
        #expect(lines.filter { $0.hasPrefix("From the ") }.count == 3)
        let merges = result.fromBase.filter(\.isMerge).map(\.setup)
        #expect(best.allSatisfy { line in merges.contains { line.contains("Best merge: \($0) with") } }, "\(best)")
    }

    @Test func replayAndPartsAreHonoured() throws {
        // Replay makes every recipe bucketed (short task rows are not padded to the windows' length).
        let tiny = Chapter13Merging.Config.tiny
        #expect(!tiny.recipe.bucketed && !tiny.generalistRecipe.bucketed && !tiny.loraRecipe.bucketed)
        let mixed = tiny.replaying(ReplayMix(share: 0.25, characters: 24))
        #expect(mixed.replay == ReplayMix(share: 0.25, characters: 24))
        #expect(mixed.recipe.bucketed && mixed.generalistRecipe.bucketed && mixed.loraRecipe.bucketed)
        #expect(!mixed.replaying(nil).recipe.bucketed)
        // Only part 3: the other matrices are empty, the LoRA one is whole, one conclusion is printed.
        // …with adapters on the attention projections only (the standard chapter's part 3).
        var config = mixed
        config.parts = [3]
        config.loraTargets = ["attn.c_attn", "attn.c_proj"]
        var lines: [String] = []
        let result = try Chapter13Merging.run(config) { lines.append($0) }
        #expect(result.fromBase.isEmpty && result.fromGeneralist.isEmpty)
        #expect(result.loraFromGeneralist.count == 10)
        #expect(lines.filter { $0.hasPrefix("From the ") }.map { $0.prefix(38) } == ["From the generalist (LoRA fine-tunes):"])
        #expect(lines.contains { $0.contains("25% replay (24-character windows of pretraining text)") })
        #expect(lines.contains { $0.contains("3. LoRA r=2 (attn.c_attn, attn.c_proj) fine-tunes") })
        // A target that names no layer is an error that names the targets, not a silent no-op adapter.
        config.loraTargets = ["attn.no_such_layer"]
        let error = #expect(throws: (any Error).self) { try Chapter13Merging.run(config) { _ in } }
        #expect(error.map { "\($0)".contains("attn.no_such_layer") } == true, "\(String(describing: error))")
    }

    static func row(_ setup: String, _ a: Double, _ b: Double, merge: Bool = false) -> MultiTaskRow {
        MultiTaskRow(setup: setup, accuracyA: a, accuracyB: b, isMerge: merge)
    }

    @Test func theConclusionSaysWhetherTheWinIsHonest() {
        // Single-task models that kept the other skill, and a merge that beats both: an honest win.
        let kept = [Self.row("starting checkpoint", 0.6, 0.4), Self.row("fine-tuned on A", 0.9, 0.4), Self.row("fine-tuned on B", 0.6, 0.9),
                    Self.row("multi-task (A ∪ B together)", 1, 1), Self.row("soup (linear 0.5/0.5)", 0.9, 0.85, merge: true)]
        let honest = Chapter13Merging.conclusion(kept)
        #expect(honest.hasPrefix("neither single-task model forgot the other task"))
        #expect(honest.contains("beats the better single-task model on A ∪ B (88% vs 75%), and those models did not forget: an honest win"))
        #expect(honest.contains("multi-task training does better still (100%)"))
        // Single-task models that forgot: the same merge's win is flagged as partly forgetting's.
        var forgot = kept
        forgot[1] = Self.row("fine-tuned on A", 0.9, 0.0)
        #expect(Chapter13Merging.conclusion(forgot).contains("but partly because a single-task model forgot"))
        // A merge below its parts says that merging did not keep both skills.
        var failed = kept
        failed[4] = Self.row("soup (linear 0.5/0.5)", 0.1, 0.1, merge: true)
        #expect(Chapter13Merging.conclusion(failed).contains("no merge reaches the better single-task model"))
    }
}
