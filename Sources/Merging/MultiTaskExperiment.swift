// MultiTaskExperiment.swift — two skills, one model: train together, train in sequence, or merge.
//
// Teaches: what merging buys. Fine-tune the base on task A and (separately) on task B; then compare,
// on A, B and their union: the two single-task models, one model trained on A ∪ B at once (the usual
// upper bound), A then B in sequence (forgetting shows), and merges of the two single-task models —
// soup, task arithmetic, TIES, DARE, SLERP — which need no further training at all.
// Leaves out: searching merge hyperparameters per task (each merge gets one setting).
import Foundation
import Autodiff
import NN
import Tokenizers
import Datasets
import FullFineTuning

/// One row of the accuracy matrix.
public struct MultiTaskRow: Sendable {
    public var setup: String
    public var accuracyA: Double, accuracyB: Double
    /// Mean of the two (the A ∪ B test set has equal shares).
    public var accuracyUnion: Double { (accuracyA + accuracyB) / 2 }
}

/// The multi-task experiment (caseless namespace).
public enum MultiTaskExperiment {
    /// Runs it: `recipe` for every fine-tune; merges with their standard settings.
    public static func run(base: GPT, tokenizer: some Tokenizer, world: SyntheticWorld, tasks: (SFTTask, SFTTask),
                           trainExamples: Int, testExamples: Int, recipe: SFTRecipe,
                           progress: (String) -> Void = { _ in }) throws -> [MultiTaskRow] {
        let trainA = tasks.0.examples(split: .train, count: trainExamples, seed: 1, world: world)
        let trainB = tasks.1.examples(split: .train, count: trainExamples, seed: 1, world: world)
        let testA = tasks.0.examples(split: .test, count: testExamples, seed: 2, world: world)
        let testB = tasks.1.examples(split: .test, count: testExamples, seed: 2, world: world)
        func row(_ setup: String, _ model: GPT) -> MultiTaskRow {
            let r = MultiTaskRow(setup: setup, accuracyA: TaskEvaluator.score(model, tokenizer: tokenizer, examples: testA).accuracy,
                                 accuracyB: TaskEvaluator.score(model, tokenizer: tokenizer, examples: testB).accuracy)
            progress(setup)
            return r
        }
        // Fine-tunes.
        let modelA = FineTuning.run(base: base, tokenizer: tokenizer, examples: trainA, recipe: recipe).model
        let modelB = FineTuning.run(base: base, tokenizer: tokenizer, examples: trainB, recipe: recipe).model
        var both = recipe
        both.steps = recipe.steps * 2
        var mixed = trainA + trainB
        var rng = RNG(seed: 5)
        mixed = rng.permutation(mixed.count).map { mixed[$0] }
        let multiTask = FineTuning.run(base: base, tokenizer: tokenizer, examples: mixed, recipe: both).model
        let sequential = FineTuning.run(base: modelA, tokenizer: tokenizer, examples: trainB, recipe: recipe).model
        var rows = [row("base model", base), row("fine-tuned on A", modelA), row("fine-tuned on B", modelB),
                    row("multi-task (A ∪ B together)", multiTask), row("sequential (A, then B)", sequential)]
        // Merges of the two single-task models.
        let models = ["base": base, "A": modelA, "B": modelB]
        let recipes: [(String, String)] = [
            ("soup (linear 0.5/0.5)", #"{"merge_method": "linear", "models": [{"model": "A"}, {"model": "B"}]}"#),
            ("task arithmetic (λ = 1)", #"{"merge_method": "task_arithmetic", "base_model": "base", "models": [{"model": "A"}, {"model": "B"}]}"#),
            ("TIES (density 0.5)", #"{"merge_method": "ties", "base_model": "base", "models": [{"model": "A", "parameters": {"density": 0.5}}, {"model": "B", "parameters": {"density": 0.5}}]}"#),
            ("DARE-TIES (p = 0.5)", #"{"merge_method": "dare_ties", "base_model": "base", "models": [{"model": "A", "parameters": {"density": 0.5}}, {"model": "B", "parameters": {"density": 0.5}}], "parameters": {"seed": 1}}"#),
            ("SLERP (t = 0.5)", #"{"merge_method": "slerp", "models": [{"model": "A"}, {"model": "B"}], "parameters": {"t": 0.5}}"#),
        ]
        for (label, json) in recipes {
            let config = try MergeConfig(json: Data(json.utf8), file: label)
            rows.append(row(label, try ModelMerge.run(config) { name in
                guard let model = models[name] else { throw ModelMerge.Error(description: "unknown model \(name)") }
                return model
            }))
        }
        return rows
    }
}
