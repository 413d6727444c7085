// RealModelPathTests.swift — the options the real-model commands expose, on a tiny Llama: activation
// checkpointing trains bitwise like plain training with a smaller activation peak; bucketing and chat
// templates go through the SFT loop; the teacher-forced check stops at the template's end of turn.
import Foundation
import Testing
import Kernels
@testable import Autodiff
import NN
import Tokenizers
import Datasets
@testable import Training

@Suite struct RealModelPathTests {
    static let tokenizer = CharTokenizer(fitting: "<|im_start|>systemuserassistant\n<|im_end|> reverse:abcdefghijklmnopqrstuvwxyz")
    static let template = ChatTemplate(style: .chatml)

    /// Chats that ask to reverse a short word.
    static func chats(_ count: Int) -> [SFTExample] {
        let letters = Array("abcdefghijklmnopqrstuvwxyz")
        return (0..<count).map { i in
            let word = String((0..<(2 + i % 5)).map { letters[(i * 7 + $0 * 3) % 26] })
            return SFTExample(prompt: "", response: String(word.reversed()),
                              messages: [ChatMessage(role: "user", content: "reverse: " + word),
                                         ChatMessage(role: "assistant", content: String(word.reversed()))])
        }
    }

    static func model() -> GPT {
        var rng = RNG(seed: 8)
        return GPT(config: .llama(vocabularySize: tokenizer.vocabularySize, contextLength: 96, embeddingSize: 32, layers: 3,
                                  heads: 4, kvHeads: 2, mlpSize: 64), rng: &rng)
    }

    /// Trains 3 steps under a meter; returns the losses and the activation peak.
    static func train(checkpointing: Bool, bucketed: Bool) -> (losses: [Float], activations: Int, positions: [Int]) {
        let meter = MemoryMeter()
        let result = meter.install {
            FineTuning.train(model(), tokenizer: tokenizer, examples: chats(12),
                             recipe: SFTRecipe(steps: 3, batchSize: 4, gradientAccumulation: 2, learningRate: 3e-3,
                                               bucketed: bucketed, checkpointActivations: checkpointing),
                             template: template)
        }
        return (result.log.map(\.loss), meter.peakBytes(.activations), result.log.compactMap(\.positions))
    }

    @Test func checkpointedTrainingIsBitwisePlainTrainingWithLessActivationMemory() {
        let plain = Self.train(checkpointing: false, bucketed: false)
        let recomputed = Self.train(checkpointing: true, bucketed: false)
        // The same arithmetic in the same order: the losses (hence every update) agree exactly.
        #expect(plain.losses == recomputed.losses)
        #expect(plain.losses.count == 3 && plain.losses.allSatisfy { $0.isFinite })
        // Three blocks' activations are replaced by their outputs plus one block at a time.
        #expect(Double(recomputed.activations) < 0.8 * Double(plain.activations),
                "checkpointed \(recomputed.activations) vs plain \(plain.activations) bytes")
    }

    @Test func bucketingRunsShorterRowsThanPaddingToTheLongest() {
        let plain = Self.train(checkpointing: false, bucketed: false)
        let bucketed = Self.train(checkpointing: false, bucketed: true)
        // Positions per step: 2 micro-batches × 4 rows × T; bucketed rows are never longer.
        #expect(plain.positions.count == 3 && bucketed.positions.count == 3)
        #expect(bucketed.positions.reduce(0, +) < plain.positions.reduce(0, +))
        #expect(bucketed.losses.allSatisfy { $0.isFinite })
    }

    @Test func stopIDsIncludeTheTemplatesEndOfTurnWhenItIsOneToken() {
        // A character tokenizer spells <|im_end|> in 10 ids, so only end-of-text and newline stop.
        let stops = TaskEvaluator.stopIDs(tokenizer: Self.tokenizer, template: Self.template)
        #expect(stops == Set([Self.tokenizer.endOfText, Self.tokenizer.encode("\n").first].compactMap { $0 }))
        // A BPE with <|im_end|> as a special token stops there too.
        let bpe = ByteLevelBPE(vocabulary: ["a": 0, "\n": 1], merges: [], specialTokens: ["<|im_end|>": 2])
        #expect(TaskEvaluator.stopIDs(tokenizer: bpe, template: Self.template).contains(2))
    }
}
