// Tour+RealModel.swift — the tour's last stop: the same LoRA, on a real pretrained model.
//
// Teaches: everything the tour did on the 0.8M character model carries over unchanged to a real
// instruct model. SmolLM2-135M-Instruct (its GGUF file in models/) gets a LoRA r=8 adapter on every
// linear layer for a few dozen steps of the contact-card task (Chapter 15's), and one held-out test
// prompt is answered before and after; exact match on a few test cards says whether it generalised.
// When the file is absent the tour says in one line how to fetch it, and nothing else changes.
// Leaves out: QLoRA and full fine-tuning of the real model, forgetting (Chapter 15 measures them).
import Foundation
import NN
import Datasets
import Training
import PEFT
import Experiments

extension Tour {
    /// The real-model segment's knobs.
    public struct RealModelConfig: Sendable {
        /// The GGUF file (SmolLM2-135M-Instruct by default), or nil for the synthetic stand-in (tests).
        public var path: String?
        public var recipe: SFTRecipe
        public var rank: Int
        public var trainExamples: Int, testExamples: Int

        /// About two to four minutes on 2 cores.
        public static let standard = RealModelConfig(path: RealModel.defaultPath,
                                                     recipe: SFTRecipe(steps: 40, batchSize: 4, learningRate: 2e-3, seed: 15, bucketed: true),
                                                     rank: 8, trainExamples: 160, testExamples: 8)
        /// A few steps (the tour's --quick).
        public static let quick = RealModelConfig(path: RealModel.defaultPath,
                                                  recipe: SFTRecipe(steps: 4, batchSize: 2, learningRate: 2e-3, seed: 15, bucketed: true),
                                                  rank: 8, trainExamples: 16, testExamples: 2)
    }

    /// What the segment measured.
    public struct RealModelResult: Sendable {
        public var prompt: String, expected: String
        public var before: String, after: String
        public var scoreBefore: TaskScore, scoreAfter: TaskScore
        public var trainable: Int, parameters: Int
        public var seconds: Double
    }

    /// Runs the segment when the model file is there; otherwise prints one line with the fetch command
    /// and returns nil.
    @discardableResult
    public static func realModelSegment(_ config: RealModelConfig, output: @escaping (String) -> Void = { print($0) },
                                        progress: ProgressReporter? = nil) throws -> RealModelResult? {
        let begin = Date()
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("tour-real-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let real: RealModel
        if let path = config.path {
            guard FileManager.default.fileExists(atPath: path) else {
                output("Real model: not in models/ — `\(RealModel.fetchCommand)` fetches SmolLM2-135M-Instruct for a LoRA segment on it (and chapter15).")
                return nil
            }
            real = try RealModel.open(path)
        } else {
            real = try RealModel.synthetic(in: scratch)
        }
        output("\nReal model: \(real.summary)")
        let (tokenizer, template) = (real.tokenizer, real.template)
        let train = ContactExtraction.examples(.train, count: config.trainExamples, seed: 15).map(\.chatExample)
        let test = ContactExtraction.examples(.test, count: config.testExamples, seed: 15).map(\.chatExample)
        guard let shown = test.first else { return nil }
        let prompt = shown.rendered(with: template).prompt
        let budget = tokenizer.encode(shown.response).count + 6
        func answer(_ model: GPT) -> String {
            TaskEvaluator.generate(model, tokenizer: tokenizer, prompt: prompt, maxNewTokens: budget, template: template)
        }
        let model = try real.loadFP32()
        let parameters = model.parameterCount()
        let before = answer(model)
        let scoreBefore = TaskEvaluator.score(model, tokenizer: tokenizer, examples: test, check: .teacherForced, template: template)
        let trainable = try LoRA.add("default", to: model, config: LoRAConfig(rank: config.rank, alpha: Float(2 * config.rank)), seed: 3)
        output("LoRA r=\(config.rank) on every linear layer: \(trainable) trainable parameters of \(parameters); "
               + "\(config.recipe.steps) steps × \(config.recipe.batchSize) chats of the contact-card task (Chapter 15).")
        _ = FineTuning.train(model, tokenizer: tokenizer, examples: train, recipe: config.recipe, template: template, progress: progress)
        let after = answer(model)
        let scoreAfter = TaskEvaluator.score(model, tokenizer: tokenizer, examples: test, check: .teacherForced, template: template)
        let result = RealModelResult(prompt: shown.messages?.last { $0.role == "user" }?.content ?? shown.prompt, expected: shown.response,
                                     before: before, after: after, scoreBefore: scoreBefore, scoreAfter: scoreAfter,
                                     trainable: trainable, parameters: parameters, seconds: Date().timeIntervalSince(begin))
        output("  prompt:   " + result.prompt.replacingOccurrences(of: "\n", with: " ⏎ "))
        output("  expected: " + result.expected)
        output("  before:   " + before.replacingOccurrences(of: "\n", with: "⏎"))
        output("  after:    " + after.replacingOccurrences(of: "\n", with: "⏎"))
        output(String(format: "  exact match on %d test cards: %.0f%% → %.0f%% (%.0f s; Chapter 15 compares QLoRA and full fine-tuning too)",
                      test.count, 100 * scoreBefore.accuracy, 100 * scoreAfter.accuracy, result.seconds))
        return result
    }
}
