// Chapter08SmokeTests.swift — chapter 8 runs on its tiny configuration; merge/unmerge are exact; the
// learning–forgetting curves are recorded every 5 steps and read at an equal score (hand-made points).
import Testing
import Experiments
@testable import Chapter08LoRA

@Suite struct Chapter08SmokeTests {
    @Test func chapterRunsAndMergeIsExact() throws {
        var lines: [String] = []
        let report = try Chapter08LoRA.run(.tiny) { lines.append($0) }
        #expect(report.updateError.count == report.ranks.count)
        // Truncation error falls with rank, and a fine-tuning update is more compressible than noise.
        #expect(report.updateError == report.updateError.sorted(by: >))
        #expect(zip(report.updateError, report.randomError).allSatisfy { $0 <= $1 + 1e-9 })
        #expect(report.lora.trainable < report.full.trainable)
        #expect(report.mergeDifference < 1e-4 && report.unmergeDifference < 1e-5)
        // LoRA and full fine-tuning get the same budget, and the printed comparison says so.
        #expect(report.full.steps * report.full.batchSize == report.lora.steps * report.lora.batchSize)
        #expect(report.conclusions.contains { $0.contains("same budget (20 steps × 8)") })
        #expect(report.conclusions.allSatisfy { line in lines.contains { $0.contains(line) } })
        // Every run trains on the task with replayed pretraining text, and the table's header says so.
        #expect(lines.contains { $0.hasPrefix("2. LoRA vs full") && $0.contains("25% replay (24-character windows") })
        // 20 steps, a curve point every 5: steps 5, 10, 15, 20 for both runs; the last corpus loss is the run's own.
        #expect(report.full.curve.map(\.step) == [5, 10, 15, 20] && report.lora.curve.map(\.step) == [5, 10, 15, 20])
        #expect(report.full.curve.last?.corpusLoss == report.full.corpusLoss && report.lora.curve.last?.corpusLoss == report.lora.corpusLoss)
        #expect(report.conclusions.contains { $0.contains("At an equal task score") })
    }

    /// The target is the highest accuracy both curves reach (60% here: LoRA's best), each run taken at its
    /// first checkpoint at or above it (full at step 10, LoRA at step 30), and the verdict follows their losses.
    @Test func runsAreComparedAtTheFirstCheckpointReachingTheScoreBothReach() throws {
        let full = [CurvePoint(step: 10, accuracy: 0.7, corpusLoss: 0.40), CurvePoint(step: 20, accuracy: 1, corpusLoss: 0.90),
                    CurvePoint(step: 30, accuracy: 1, corpusLoss: 1.2)]
        let lora = [CurvePoint(step: 10, accuracy: 0.2, corpusLoss: 0.30), CurvePoint(step: 20, accuracy: 0.5, corpusLoss: 0.33),
                    CurvePoint(step: 30, accuracy: 0.6, corpusLoss: 0.35), CurvePoint(step: 40, accuracy: 0.55, corpusLoss: 0.36)]
        let matched = try #require(ForgettingCurve.atEqualScore(full, lora))
        #expect(matched.target == 0.6 && matched.a == full[0] && matched.b == lora[2])
        #expect(Chapter08LoRA.equalScoreSentence(matched).hasSuffix("corpus loss 0.350 (LoRA, step 30) vs 0.400 (full fine-tuning, step 10) — LoRA kept more of the base, as the book says."))
        let worse = (target: 0.6, a: CurvePoint(step: 10, accuracy: 0.7, corpusLoss: 0.30), b: lora[2])
        #expect(Chapter08LoRA.equalScoreSentence(worse).hasSuffix("LoRA kept LESS of the base: this contradicts the book's \"forgets less\"."))
        #expect(ForgettingCurve.atEqualScore(full, [CurvePoint(step: 10, accuracy: 0, corpusLoss: 0.3)]) == nil)
        #expect(ForgettingCurve.atEqualScore([], lora) == nil)
    }
}
