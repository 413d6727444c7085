// Chapter13Merging.swift — Chapter 13: merging by summing and pruning.
//
// The claim: two models fine-tuned from the same base on different tasks can be combined *without
// training* into one that does both — and pruning-aware merges (TIES, DARE) interfere less than a plain
// average. One accuracy matrix over task A, task B and their union.
// Leaves out: stacking and adapter concatenation (Chapter 14).
import Foundation
import NN
import Tokenizers
import Datasets
import Training
import FullFineTuning
import Merging

/// Chapter 13 — merging.
public enum Chapter13Merging {
    public struct Config: Sendable {
        public var base: PretrainingRecipe
        public var useCache: Bool
        public var tasks: (SFTTask, SFTTask)
        public var recipe: SFTRecipe
        public var trainExamples: Int, testExamples: Int

        public static let standard = Config(base: .standard, useCache: true, tasks: (.reverse, .record),
                                            recipe: SFTRecipe(steps: 300, batchSize: 32, learningRate: 5e-4),
                                            trainExamples: 3000, testExamples: 50)
        public static let tiny = Config(base: .tiny, useCache: false, tasks: (.reverse, .arithmetic),
                                        recipe: SFTRecipe(steps: 10, batchSize: 8, learningRate: 3e-3), trainExamples: 40, testExamples: 4)
    }

    /// Runs the chapter, printing the accuracy matrix through `output`.
    @discardableResult
    public static func run(_ config: Config, output: @escaping (String) -> Void = { print($0) }) throws -> [MultiTaskRow] {
        output("Chapter 13 — Merging by summing and pruning\n")
        let base = config.useCache ? try Pretraining.loadOrTrain(config.base) : Pretraining.train(config.base)
        output("Task A: \(config.tasks.0.rawValue); task B: \(config.tasks.1.rawValue). Every fine-tune: \(config.recipe.steps) steps, "
               + "lr \(config.recipe.learningRate) (multi-task: twice the steps on twice the data).\n")
        let rows = try MultiTaskExperiment.run(base: base.model, tokenizer: CharTokenizer.builtIn, world: base.world, tasks: config.tasks,
                                           trainExamples: config.trainExamples, testExamples: config.testExamples, recipe: config.recipe)
        output("setup                               task A    task B    A ∪ B")
        for r in rows {
            output(r.setup.padding(toLength: 34, withPad: " ", startingAt: 0)
                   + String(format: "  %6.0f%%   %6.0f%%   %6.0f%%", r.accuracyA * 100, r.accuracyB * 100, r.accuracyUnion * 100))
        }
        let single = rows.filter { $0.setup.hasPrefix("fine-tuned on") }.map(\.accuracyUnion).max() ?? 0
        let merges = rows.suffix(5)
        if let best = merges.max(by: { $0.accuracyUnion < $1.accuracyUnion }) {
            output(String(format: "\nBest merge: %@ with %.0f%% on A ∪ B, vs %.0f%% for the better single-task model.",
                          best.setup, best.accuracyUnion * 100, single * 100))
        }
        return rows
    }
}
