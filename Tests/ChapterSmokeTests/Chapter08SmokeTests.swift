// Chapter08SmokeTests.swift — chapter 8 runs on its tiny configuration; merge/unmerge are exact.
import Testing
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
    }
}
