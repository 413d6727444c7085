// Chapter13Merging.swift — Chapter 13: merging by summing and pruning.
//
// The claim: two models fine-tuned from the same checkpoint on different tasks can be combined
// *without training* into one that does both. One accuracy matrix over task A, task B and their union,
// run twice:
//   1. from the raw pretrained base, which has neither skill — each fine-tune builds its skill from
//      scratch, the two task vectors are large and rewrite the same weights, and every merge fails;
//   2. from a shared "generalist" checkpoint (a brief multi-task fine-tune that has begun both skills)
//      — each fine-tune sharpens one skill and forgets part of the other, and the merges get both back.
// The contrast is the lesson: merging is for fine-tunes that are small moves from a capable common
// ancestor, which is how it is used in practice (many fine-tunes of one instruct model).
// Leaves out: stacking and adapter concatenation (Chapter 14); per-task merge hyperparameter search.
import Foundation
import NN
import Datasets
import Training
import Experiments

/// Chapter 13 — merging.
public enum Chapter13Merging {
    public struct Config: Sendable {
        public var base: PretrainingRecipe
        public var useCache: Bool
        public var tasks: (SFTTask, SFTTask)
        /// Every fine-tune of the matrix (the multi-task row: twice the steps on both sets).
        public var recipe: SFTRecipe
        /// The multi-task fine-tune that makes the shared generalist checkpoint.
        public var generalistRecipe: SFTRecipe
        public var trainExamples: Int, testExamples: Int

        public static let standard = Config(base: .standard, useCache: true, tasks: (.reverse, .record),
                                            recipe: SFTRecipe(steps: 300, batchSize: 32, learningRate: 5e-4),
                                            generalistRecipe: SFTRecipe(steps: 300, batchSize: 32, learningRate: 5e-4),
                                            trainExamples: 3000, testExamples: 50)
        public static let tiny = Config(base: .tiny, useCache: false, tasks: (.reverse, .arithmetic),
                                        recipe: SFTRecipe(steps: 10, batchSize: 8, learningRate: 3e-3),
                                        generalistRecipe: SFTRecipe(steps: 10, batchSize: 8, learningRate: 3e-3),
                                        trainExamples: 40, testExamples: 4)
    }

    /// Both accuracy matrices.
    public struct Result: Sendable {
        /// Fine-tunes (and merges) starting from the raw pretrained base.
        public var fromBase: [MultiTaskRow]
        /// Fine-tunes (and merges) starting from the shared generalist checkpoint.
        public var fromGeneralist: [MultiTaskRow]
    }

    /// Runs the chapter, printing both matrices and the best merge of each through `output`.
    @discardableResult
    public static func run(_ config: Config, output: @escaping (String) -> Void = { print($0) }) throws -> Result {
        output("Chapter 13 — Merging by summing and pruning\n")
        let setup = try ExperimentSetup.open(config.base, cached: config.useCache)
        let (base, tokenizer) = (setup.base, setup.tokenizer)
        let data = MultiTaskExperiment.TaskData(tasks: config.tasks, world: base.world,
                                                trainExamples: config.trainExamples, testExamples: config.testExamples)
        output("Task A: \(config.tasks.0.rawValue); task B: \(config.tasks.1.rawValue). Every fine-tune: \(config.recipe.steps) steps, "
               + "lr \(config.recipe.learningRate) (multi-task: twice the steps on both sets). Merges use the starting checkpoint as base.\n")

        // Part 1: the raw base knows neither task, so each fine-tune is a large, task-specific rewrite.
        output("1. Starting from the raw pretrained base")
        let fromBase = try MultiTaskExperiment.run(start: base.model, tokenizer: tokenizer, data: data, recipe: config.recipe)
        printMatrix(fromBase, output: output)

        // Part 2: a shared generalist that has begun both skills; the fine-tunes are now small moves from it.
        output("\n2. Starting from a generalist: the base after \(config.generalistRecipe.steps) multi-task steps on A ∪ B")
        let generalist = MultiTaskExperiment.generalist(base: base.model, tokenizer: tokenizer, data: data, recipe: config.generalistRecipe)
        let fromGeneralist = try MultiTaskExperiment.run(start: generalist, tokenizer: tokenizer, data: data, recipe: config.recipe)
        printMatrix(fromGeneralist, output: output)

        output("\nFrom the raw base the two task vectors rewrite the same weights: every merge loses both skills. From the")
        output("generalist each fine-tune only sharpens one skill (and forgets part of the other); the merges keep both.")
        return Result(fromBase: fromBase, fromGeneralist: fromGeneralist)
    }

    /// One matrix, then its best merge against the better single-task model on A ∪ B.
    static func printMatrix(_ rows: [MultiTaskRow], output: (String) -> Void) {
        output("setup                               task A    task B    A ∪ B")
        for r in rows {
            output(r.setup.padding(toLength: 34, withPad: " ", startingAt: 0)
                   + String(format: "  %6.0f%%   %6.0f%%   %6.0f%%", r.accuracyA * 100, r.accuracyB * 100, r.accuracyUnion * 100))
        }
        let single = rows.filter { $0.setup.hasPrefix("fine-tuned on") }.map(\.accuracyUnion).max() ?? 0
        if let best = rows.filter(\.isMerge).max(by: { $0.accuracyUnion < $1.accuracyUnion }) {
            output(String(format: "Best merge: %@ with %.0f%% on A ∪ B, vs %.0f%% for the better single-task model.",
                          best.setup, best.accuracyUnion * 100, single * 100))
        }
    }
}
