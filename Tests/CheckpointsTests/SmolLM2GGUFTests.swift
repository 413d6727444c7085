// SmolLM2GGUFTests.swift — the real SmolLM2-135M-Instruct Q4_1 GGUF loaded into our GPT gives
// transformers' logits on a chat prompt (reference: scripts/gguf/compare_smollm2.py, loading the same
// file). Skipped, with the fetch command, when models/ lacks the file.
import Foundation
import Testing
import Autodiff
import NN
import TestSupport
@testable import Checkpoints

@Suite(.enabled(if: RealModel.hasSmolLM2GGUF, Comment(rawValue: RealModel.absentMessage)))
struct SmolLM2GGUFTests {
    @Test func chatPromptLogitsMatchTransformers() throws {
        let file = try GGUF.File(contentsOf: RealModel.smolLM2GGUF)
        let config = try ModelCheckpoint.gptConfig(gguf: file)
        #expect(config.vocabularySize == 49152 && config.embeddingSize == 576 && config.layers == 30)
        #expect(config.heads == 9 && config.kvHeads == 3 && config.mlpSize == 1536 && config.tiedEmbeddings)
        #expect(config.ropeTheta == 100_000 && config.contextLength == 8192)
        #expect(file.summary(config: config).contains("134.5M parameters"))
        let model = try ModelCheckpoint.model(from: file)
        let reference = try ggufExpected("smollm2-q4_1-reference.json")
        let tokens = try #require(reference["tokens"] as? [Int]).map(Int32.init)
        let columns = try #require(reference["columns"] as? [Int])
        let logits = Tensor.withNoGrad { model(tokens, batch: 1, steps: tokens.count) }
        let v = config.vocabularySize, values = logits.values
        var worst: Float = 0
        for (t, row) in ((reference["logits"] as? [[Double]]) ?? []).enumerated() {
            for (c, expected) in zip(columns, row) { worst = max(worst, abs(values[t * v + c] - Float(expected))) }
        }
        let argmax = (0..<tokens.count).map { t in (0..<v).max { values[t * v + $0] < values[t * v + $1] }! }
        #expect(argmax == (reference["argmax"] as? [Int]))
        for (t, expected) in floats(reference["argmax_logit"]).enumerated() { worst = max(worst, abs(values[t * v + argmax[t]] - expected)) }
        #expect(worst <= 2e-4, "max |logit − transformers| = \(worst) over \(tokens.count) positions")
        print("SmolLM2 Q4_1 GGUF: max |logit − transformers| = \(worst) on \(tokens.count) positions × \(columns.count + 1) ids")
        // All logits, for `scripts/gguf/compare_smollm2.py compare` (every position and id).
        let bytes = values.withUnsafeBufferPointer { Data(buffer: $0) }
        try AtomicFile.write(bytes, to: RealModel.folder.appendingPathComponent(".smollm2-tinytune-logits.f32"))
    }
}
