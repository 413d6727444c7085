// Chapter12SmokeTests.swift — chapter 12 runs on its tiny configuration and measures what it claims,
// including the learning–forgetting curves and the equal-score sentences read off them.
import Testing
import Experiments
@testable import Chapter12QLoRA

@Suite struct Chapter12SmokeTests {
    @Test func qloraShrinksTheFrozenWeightsAndTheOptimizer() throws {
        var lines: [String] = []
        let report = try Chapter12QLoRA.run(.tiny) { lines.append($0) }
        #expect(report.nf4Error < report.int4Error)
        #expect(abs(report.bitsPlain - 4.5) < 1e-9 && report.bitsDoubleQuantized < 4.2)
        #expect(Double(report.qlora.frozenLinearBytes) / Double(report.lora.frozenLinearBytes) < 0.14)
        #expect(report.qlora.weightBytes < report.lora.weightBytes)
        #expect(report.qlora8bit.optimizerBytes < report.qlora.optimizerBytes)   // rank 2: some tensors stay fp32
        // The estimate table: 65B QLoRA under 48 GB, full fine-tuning over 700 GB.
        let last = report.estimates.last!
        #expect(last.model == "65B" && last.qlora < 48 && last.full > 700)
        #expect(lines.contains { $0.contains("QLoRA + 8-bit AdamW") })
        #expect(lines.contains { $0.hasPrefix("2. LoRA r=2") && $0.contains("25% replay (24-character windows") })
        // Full fine-tuning sits next to the adapters with every corpus loss, and the sentences about
        // forgetting are the ones computed from those rows.
        #expect(report.full.weightBytes > report.lora.frozenLinearBytes && lines.contains { $0.hasPrefix("   full fine-tuning") })
        let expected = Chapter12QLoRA.forgettingConclusions(full: report.full, adapters: [report.lora, report.qlora],
                                                            baseline: report.unigramBaseline)
        #expect(Array(report.conclusions.prefix(3)) == expected && expected.count == 3)
        #expect(expected.allSatisfy { line in lines.contains("   " + line) })
        // 12 steps, a curve point every 4, for all four runs; then one equal-score sentence per adapter.
        #expect([report.full, report.lora, report.qlora, report.qlora8bit].allSatisfy { $0.curve.map(\.step) == [4, 8, 12] })
        let equalScore = report.conclusions.dropFirst(3)
        #expect(equalScore.count == 3 && equalScore.allSatisfy { $0.hasPrefix("At an equal task score") })
        #expect(equalScore.first == ForgettingCurve.sentence(ForgettingCurve.atEqualScore(report.full.curve, report.lora.curve),
                                                             method: "LoRA, fp32 base", reference: "full fine-tuning")
                                     .trimmingCharacters(in: .whitespaces))
        // The sentence follows the measured losses, with differences under 0.01 called "about as much".
        let words = switch CorpusLossComparison(report.lora.corpusLoss, versus: report.full.corpusLoss) {
        case .lower: "forgot less"
        case .aboutTheSame: "forgot about as much"
        case .higher: "did NOT forget less"
        }
        #expect(expected[0].contains(words))
    }
}
