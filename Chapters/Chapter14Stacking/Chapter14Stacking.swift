// Chapter14Stacking.swift — Chapter 14: merging by stacking and by concatenation.
//
// The claims, measured:
// 1. Depth up-scaling (SOLAR): stack two copies of the base, dropping m blocks at the seam, then
//    continue pretraining: the deeper model starts close to the base's loss (it is mostly the same
//    computation) and continued training improves it.
// 2. Concatenating two LoRA adapters gives one adapter of rank r₁ + r₂ that does both tasks exactly as
//    the two adapters together would; squeezing the sum back to rank r with an SVD loses some of it.
// Leaves out: frankenmerges across different models (the passthrough config supports them).
import Foundation
import Autodiff
import NN
import Optim
import Datasets
import Training
import PEFT
import Merging
import Experiments

/// Chapter 14 — stacking and concatenation.
public enum Chapter14Stacking {
    public struct Config: Sendable {
        public var base: PretrainingRecipe
        public var useCache: Bool
        /// Blocks dropped at the seam of each copy.
        public var dropped: Int
        /// Continued-pretraining steps for the stacked model (and, for comparison, the base).
        public var continuedSteps: Int
        public var adapterRecipe: SFTRecipe
        public var trainExamples: Int, testExamples: Int

        public static let standard = Config(base: .standard, useCache: true, dropped: 1, continuedSteps: 200,
                                            adapterRecipe: SFTRecipe(steps: 500, batchSize: 32, learningRate: 1.5e-3),
                                            trainExamples: 3000, testExamples: 50)
        public static let tiny = Config(base: .tiny, useCache: false, dropped: 1, continuedSteps: 5,
                                        adapterRecipe: SFTRecipe(steps: 5, batchSize: 8, learningRate: 3e-3), trainExamples: 20, testExamples: 3)
    }

    public struct Report: Sendable {
        public var baseLayers: Int, stackedLayers: Int
        /// Validation loss: base, stacked before and after continued training, base after the same training.
        public var baseLoss: Float, stackedBefore: Float, stackedAfter: Float, baseAfter: Float
        /// Accuracy on (reverse, record): each adapter alone, both active, concatenated, SVD-combined.
        public var adapterRows: [(setup: String, reverse: Double, record: Double)]
    }

    /// Runs the chapter, printing through `output`.
    @discardableResult
    public static func run(_ config: Config, output: @escaping (String) -> Void = { print($0) }) throws -> Report {
        output("Chapter 14 — Stacking and concatenation\n")
        let setup = try ExperimentSetup.open(config.base, cached: config.useCache)
        let base = setup.base
        let (_, trainTokens, validationTokens) = Pretraining.corpus(config.base)
        let context = config.base.model.contextLength
        let validation = Pretraining.validationBatches(validationTokens, batchSize: 8, contextLength: context, count: 4)

        // 1. Depth up-scaling.
        let n = base.model.config.layers, m = config.dropped
        let stacked = try ModelMerge.stack([(MergeConfig.Slice(model: "base", start: 0, end: n - m), base.model),
                                            (MergeConfig.Slice(model: "base", start: m, end: n), base.model)])
        func continued(_ model: GPT) -> GPT {
            let trainer = Trainer(model: model, optimizer: AdamW(model.namedParameters(), beta2: 0.99, weightDecay: 0.1),
                                  options: TrainerOptions(steps: config.continuedSteps, learningRate: 3e-4, seed: 9))
            var source = PretrainingBatchSource(tokens: trainTokens, batchSize: config.base.batchSize, contextLength: context, seed: 77)
            try? trainer.run(source: &source)
            return model
        }
        let baseLoss = base.model.meanLoss(on: validation), stackedBefore = stacked.meanLoss(on: validation)
        let stackedAfter = continued(stacked).meanLoss(on: validation)
        let baseAfter = continued(base.model.copy()).meanLoss(on: validation)
        output("1. Depth up-scaling: two copies of the \(n)-block base, \(m) block\(m == 1 ? "" : "s") dropped at the seam → \(stacked.config.layers) blocks "
               + "(\(stacked.parameterCount()) parameters vs \(base.model.parameterCount())).")
        output(String(format: "   validation loss: base %.3f; stacked %.3f before and %.3f after %d steps of continued pretraining "
                      + "(the base after the same steps: %.3f).\n", baseLoss, stackedBefore, stackedAfter, config.continuedSteps, baseAfter))

        // 2. Two adapters, combined.
        let tokenizer = setup.tokenizer
        let model = base.model.copy()
        let tasks: [SFTTask] = config.useCache ? [.reverse, .record] : [.reverse, .arithmetic]
        for task in tasks {
            LoRA.add(task.rawValue, to: model, config: LoRAConfig(rank: 8, alpha: 16), seed: 3)
            _ = FineTuning.train(model, tokenizer: tokenizer, examples: task.examples(split: .train, count: config.trainExamples, seed: 1, world: base.world),
                                 recipe: config.adapterRecipe)
        }
        let names = tasks.map(\.rawValue)
        AdapterMerge.combine(names, weights: [1, 1], using: .concatenation, into: "concatenated", model: model)
        AdapterMerge.combine(names, weights: [1, 1], using: .svd(rank: 8), into: "svd-8", model: model)
        let tests = tasks.map { $0.examples(split: .test, count: config.testExamples, seed: 2, world: base.world) }
        var rows: [(String, Double, Double)] = []
        output("2. Two LoRA adapters (r = 8 each: \(names[0]), \(names[1])) and their combinations — accuracy:")
        output("   setup                               \(names[0].padding(toLength: 10, withPad: " ", startingAt: 0))\(names[1])")
        for (label, active) in [("\(names[0]) adapter only", [names[0]]), ("\(names[1]) adapter only", [names[1]]),
                                ("both active (sum of updates)", names), ("concatenated (rank 16)", ["concatenated"]),
                                ("SVD-combined (rank 8)", ["svd-8"])] {
            LoRA.setActive(active, on: model)
            let scores = tests.map { TaskEvaluator.score(model, tokenizer: tokenizer, examples: $0).accuracy }
            rows.append((label, scores[0], scores[1]))
            output("   " + label.padding(toLength: 34, withPad: " ", startingAt: 0) + String(format: "%5.0f%%    %5.0f%%", scores[0] * 100, scores[1] * 100))
        }
        output("   Concatenation reproduces \"both active\" exactly (it is the same sum); both differ from each adapter alone")
        output("   because each update now also acts on the other task's inputs.")
        return Report(baseLayers: n, stackedLayers: stacked.config.layers, baseLoss: baseLoss, stackedBefore: stackedBefore,
                      stackedAfter: stackedAfter, baseAfter: baseAfter, adapterRows: rows)
    }
}
