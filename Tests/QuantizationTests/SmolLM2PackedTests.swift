// SmolLM2PackedTests.swift — the real SmolLM2-135M-Instruct Q4_1 GGUF kept packed: the same logits as
// transformers (reference fixture from scripts/gguf/compare_smollm2.py) at a fraction of the fp32
// model's memory, measured by the memory meter. Skipped, with the fetch command, when models/ lacks it.
import Foundation
import Testing
import Autodiff
import NN
import Checkpoints
import TestSupport
@testable import Quantization

@Suite(.enabled(if: RealModel.hasSmolLM2GGUF, Comment(rawValue: RealModel.absentMessage)))
struct SmolLM2PackedTests {
    /// Peak bytes (meter) of a prompt forward pass after loading, and the logits.
    func measure(_ load: () throws -> GPT, tokens: [Int32]) throws -> (peak: Int, weights: Int, logits: [Float]) {
        let meter = MemoryMeter()
        return try meter.install {
            let model = try load()
            meter.resetPeak()
            let logits = Tensor.withNoGrad { model(tokens, batch: 1, steps: tokens.count) }.values
            return (meter.peakTotal, meter.liveBytes(.weights), logits)
        }
    }

    @Test func packedQ4_1MatchesTransformersInAFractionOfTheMemory() throws {
        let file = try GGUF.File(contentsOf: RealModel.smolLM2GGUF)
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("CheckpointsTests/Fixtures/gguf/smollm2-q4_1-reference.json")
        let reference = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        let tokens = try #require(reference["tokens"] as? [Int]).map(Int32.init)
        let columns = try #require(reference["columns"] as? [Int])
        let packed = try measure({ try GGUFPackedModel.load(file).model }, tokens: tokens)
        let dense = try measure({ try ModelCheckpoint.model(from: file) }, tokens: tokens)
        let v = 49152
        var worst: Float = 0
        for (t, row) in ((reference["logits"] as? [[Double]]) ?? []).enumerated() {
            for (c, expected) in zip(columns, row) { worst = max(worst, abs(packed.logits[t * v + c] - Float(expected))) }
        }
        let agreement = zip(packed.logits, dense.logits).map { abs($0 - $1) }.max() ?? .infinity
        let ratio = Double(packed.peak) / Double(dense.peak)
        print(String(format: "SmolLM2 Q4_1 packed: max |logit − transformers| %.2g, vs decoded fp32 %.2g; forward peak %.1f MB vs fp32 %.1f MB (%.3fx), weights %.1f MB vs %.1f MB",
                     worst, agreement, Double(packed.peak) / 1e6, Double(dense.peak) / 1e6, ratio,
                     Double(packed.weights) / 1e6, Double(dense.weights) / 1e6))
        #expect(worst <= 2e-4)
        #expect(agreement <= 2e-4)
        #expect(ratio <= 0.3, "packed peak \(packed.peak) B is \(ratio)x the fp32 model's \(dense.peak) B")
    }
}
