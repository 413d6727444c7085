// Chapter14Stacking.swift — Chapter 14: merging by stacking and by concatenation.
//
// The claims, measured:
// 1. Depth up-scaling (SOLAR): stack two copies of the base, dropping m blocks at the seam, then
//    continue pretraining. Compared with a freshly initialised model of the same shape trained for the
//    same steps, and with the base trained for the same steps (Chapter14Stacking+UpScaling.swift).
// 2. Two LoRA adapters trained from a shared generalist checkpoint, combined by summing, concatenation
//    (exact), a weight sweep, TIES, an SVD squeeze and per-request routing — and why summing can fail,
//    from the cosine of the two updates per layer (Chapter14Stacking+Adapters.swift).
// Every sentence about results is computed from the numbers; when they contradict the book, it says so.
// Leaves out: frankenmerges across different models (the passthrough config supports them).
import Foundation
import Datasets
import Training

/// Chapter 14 — stacking and concatenation.
public enum Chapter14Stacking {
    public struct Config: Sendable {
        public var base: PretrainingRecipe
        public var useCache: Bool
        /// Blocks dropped at the seam of each copy.
        public var dropped: Int
        /// Steps of each part-1 run (stacked, from scratch, base), the stacked and base runs' learning rate,
        /// and how often the curves are measured.
        public var continuedSteps: Int, continuedLearningRate: Float, curveEvery: Int
        /// The two tasks of part 2, and the multi-task fine-tune that makes their shared checkpoint.
        public var tasks: (SFTTask, SFTTask)
        public var generalistRecipe: SFTRecipe
        /// Each adapter's rank and training recipe.
        public var adapterRank: Int
        public var adapterRecipe: SFTRecipe
        /// The weighted sums tried (weight of adapter A, weight of adapter B).
        public var sumWeights: [(Float, Float)]
        public var trainExamples: Int, testExamples: Int
        /// Progress bars for the training runs.
        public var showProgress: Bool

        public static let standard = Config(
            base: .standard, useCache: true, dropped: 1, continuedSteps: 200, continuedLearningRate: 3e-4, curveEvery: 25,
            tasks: (.reverse, .record), generalistRecipe: SFTRecipe(steps: 300, batchSize: 32, learningRate: 5e-4),
            adapterRank: 8, adapterRecipe: SFTRecipe(steps: 400, batchSize: 32, learningRate: 2e-3),
            sumWeights: [(0.75, 0.75), (0.5, 0.5), (1, 0.5), (0.5, 1)], trainExamples: 3000, testExamples: 50, showProgress: true)
        public static let tiny = Config(
            base: .tiny, useCache: false, dropped: 1, continuedSteps: 6, continuedLearningRate: 3e-4, curveEvery: 3,
            tasks: (.reverse, .arithmetic), generalistRecipe: SFTRecipe(steps: 5, batchSize: 8, learningRate: 3e-3),
            adapterRank: 4, adapterRecipe: SFTRecipe(steps: 5, batchSize: 8, learningRate: 3e-3),
            sumWeights: [(0.5, 0.5)], trainExamples: 20, testExamples: 3, showProgress: false)
    }

    /// Both parts' measurements.
    public struct Report: Sendable {
        public var upScaling: UpScalingReport
        public var adapters: AdapterReport
    }

    /// Runs the chapter, printing through `output`.
    @discardableResult
    public static func run(_ config: Config, output: @escaping (String) -> Void = { print($0) }) throws -> Report {
        output("Chapter 14 — Stacking and concatenation\n")
        let base = try Pretraining.base(config.base, cached: config.useCache,
                                        progress: config.showProgress ? ProgressReporter(label: "   pretraining the base (once; then cached)", every: 100) : nil)
        let upScaling = try upScaling(base, config: config, output: output)
        let adapters = try adapters(base, config: config, output: output)
        return Report(upScaling: upScaling, adapters: adapters)
    }
}
