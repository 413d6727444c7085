// MultiTaskExperiment.swift — two skills, one model: train together, train in sequence, or merge.
//
// Teaches: what merging buys, and when. Fine-tune a starting checkpoint on task A and (separately) on
// task B; then compare, on A, B and their union: the two single-task models, one model trained on A ∪ B
// at once (the usual upper bound), A then B in sequence (forgetting shows), and merges of the two
// single-task models — soup, task arithmetic, TIES, DARE, SLERP — which need no further training.
//
// The starting checkpoint matters. Merges work when both fine-tunes are small moves from a shared point
// that already has the circuits both skills use — in practice, two fine-tunes of the same instruct
// model. `generalist` builds such a point at our scale: a brief multi-task fine-tune of the base on
// A ∪ B. Chapter 13 runs the experiment from the raw base and from the generalist, side by side.
// Leaves out: searching merge hyperparameters per task (each merge gets one setting).
import Foundation
import Kernels
import Autodiff
import NN
import Tokenizers
import Datasets
import Training
import Merging

/// One row of the accuracy matrix.
public struct MultiTaskRow: Sendable {
    public var setup: String
    public var accuracyA: Double, accuracyB: Double
    /// Mean of the two (the A ∪ B test set has equal shares).
    public var accuracyUnion: Double { (accuracyA + accuracyB) / 2 }
    /// Whether the row is a merge of the two single-task models (as opposed to a trained model).
    public var isMerge: Bool
    /// Mean next-token loss on the pretraining corpus's validation text (nil when no corpus was given):
    /// what the model kept of its general ability.
    public var corpusLoss: Float? = nil
}

/// The multi-task experiment (caseless namespace).
public enum MultiTaskExperiment {
    /// The train and test examples of both tasks (train seed 1, test seed 2; splits never overlap).
    public struct TaskData: Sendable {
        public var trainA: [SFTExample], trainB: [SFTExample], testA: [SFTExample], testB: [SFTExample]

        /// `trainExamples` training and `testExamples` test examples of each task.
        public init(tasks: (SFTTask, SFTTask), world: SyntheticWorld, trainExamples: Int, testExamples: Int) {
            trainA = tasks.0.examples(split: .train, count: trainExamples, seed: 1, world: world)
            trainB = tasks.1.examples(split: .train, count: trainExamples, seed: 1, world: world)
            testA = tasks.0.examples(split: .test, count: testExamples, seed: 2, world: world)
            testB = tasks.1.examples(split: .test, count: testExamples, seed: 2, world: world)
        }

        /// The same data with `mix` applied to each training set: replayed windows of `corpus`'s
        /// pretraining text make up `mix.share` of each (so also of their union); the test sets are
        /// unchanged. With nil, the data as it is.
        public func replaying(_ mix: ReplayMix?, corpus: PretrainingRecipe) -> TaskData {
            guard let mix else { return self }
            var copy = self
            copy.trainA = mix.apply(to: trainA, corpus: corpus)
            copy.trainB = mix.apply(to: trainB, corpus: corpus)
            return copy
        }

        /// Both training sets, shuffled together with a fixed seed.
        public var mixedTraining: [SFTExample] {
            let both = trainA + trainB
            var rng = RNG(seed: 5)
            return rng.permutation(both.count).map { both[$0] }
        }
    }

    /// The merges compared, as mergekit-style configs over the names "base", "A" and "B".
    public static let merges: [(label: String, json: String)] = [
        ("soup (linear 0.5/0.5)", #"{"merge_method": "linear", "models": [{"model": "A"}, {"model": "B"}]}"#),
        ("task arithmetic (λ = 1)", #"{"merge_method": "task_arithmetic", "base_model": "base", "models": [{"model": "A"}, {"model": "B"}]}"#),
        ("TIES (density 0.5)", #"{"merge_method": "ties", "base_model": "base", "models": [{"model": "A", "parameters": {"density": 0.5}}, {"model": "B", "parameters": {"density": 0.5}}]}"#),
        ("DARE-TIES (p = 0.5)", #"{"merge_method": "dare_ties", "base_model": "base", "models": [{"model": "A", "parameters": {"density": 0.5}}, {"model": "B", "parameters": {"density": 0.5}}], "parameters": {"seed": 1}}"#),
        ("SLERP (t = 0.5)", #"{"merge_method": "slerp", "models": [{"model": "A"}, {"model": "B"}], "parameters": {"t": 0.5}}"#),
    ]

    /// A shared starting checkpoint: `base` fine-tuned for `recipe.steps` on A ∪ B shuffled together —
    /// long enough to form the circuits of both skills, too short to master either.
    public static func generalist(base: GPT, tokenizer: some Tokenizer, data: TaskData, recipe: SFTRecipe) -> GPT {
        FineTuning.run(base: base, tokenizer: tokenizer, examples: data.mixedTraining, recipe: recipe).model
    }

    /// `config` applied to the models it names ("base", "A", "B", … looked up in `models`), through the
    /// same path as `tinytune merge`.
    public static func merge(_ config: MergeConfig, models: [String: GPT]) throws -> GPT {
        try ModelMerge.run(config) { name in
            guard let model = models[name] else { throw ModelMerge.Error(description: "\(config.method) merge: unknown model \(name)") }
            return model
        }
    }

    /// How one fine-tune of the matrix is made: from a start, on examples, with a recipe, returning a
    /// plain model (a LoRA fine-tune merges and unloads its adapter so that model merges can use it).
    public typealias FineTune = (_ start: GPT, _ examples: [SFTExample], _ recipe: SFTRecipe) throws -> GPT

    /// Runs the experiment from `start`: every fine-tune uses `recipe` (the multi-task one twice the
    /// steps on both sets) through `fineTune` (default: full fine-tuning), and the merges use `start`
    /// as their base model. With a `corpus`, every row also carries its corpus loss.
    public static func run(start: GPT, tokenizer: some Tokenizer, data: TaskData, recipe: SFTRecipe, corpus: [Batch] = [],
                           fineTune: FineTune? = nil, progress: (String) -> Void = { _ in }) throws -> [MultiTaskRow] {
        func row(_ setup: String, _ model: GPT, isMerge: Bool = false) -> MultiTaskRow {
            let accuracy = Experiment.accuracies(model, tokenizer: tokenizer, tests: [data.testA, data.testB])
            progress(setup)
            return MultiTaskRow(setup: setup, accuracyA: accuracy[0], accuracyB: accuracy[1], isMerge: isMerge,
                                corpusLoss: corpus.isEmpty ? nil : model.meanLoss(on: corpus))
        }
        let train: FineTune = fineTune ?? { start, examples, recipe in
            FineTuning.run(base: start, tokenizer: tokenizer, examples: examples, recipe: recipe).model
        }
        // The trained models: one per task, both tasks at once, and one task after the other.
        let modelA = try train(start, data.trainA, recipe)
        let modelB = try train(start, data.trainB, recipe)
        // Twice the steps with the same warmup share (`withSteps` rescales the warmup with the budget).
        let multiTask = try train(start, data.mixedTraining, recipe.withSteps(recipe.steps * 2))
        let sequential = try train(modelA, data.trainB, recipe)
        var rows = [row("starting checkpoint", start), row("fine-tuned on A", modelA), row("fine-tuned on B", modelB),
                    row("multi-task (A ∪ B together)", multiTask), row("sequential (A, then B)", sequential)]
        // Merges of the two single-task models, through the same config path as `tinytune merge`.
        let models = ["base": start, "A": modelA, "B": modelB]
        for (label, json) in merges {
            rows.append(row(label, try merge(MergeConfig(json: Data(json.utf8), file: label), models: models), isMerge: true))
        }
        return rows
    }
}
