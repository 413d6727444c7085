// Replay.swift — fighting forgetting with the data itself: pretraining text mixed into fine-tuning.
//
// Teaches: a fine-tune forgets because every step pulls the weights toward the new task and nothing
// pulls them back. Replay (rehearsal) puts a share of the original training distribution back into the
// batches: here, windows of the pretraining corpus become examples with an empty prompt and the text
// as the response, so they carry the ordinary next-token loss on every character. At a share s of the
// examples, a batch keeps about s of its rows for general text; the task gets the rest. The same windows
// (drawn with another seed) make a validation set of general text: early stopping on task validation
// plus general text stops a run when it starts paying for the task with what the base knew.
// `ReplayMix` is the recipe knob the chapters and the tour share: one share, one window length, one
// seed, applied to the training examples of every method a table compares, so they keep equal budgets.
// The window length matters: fine-tuning rows are short (a task example is ~20 characters), so
// positions beyond the longest training row get no gradient at all and drift freely — measured with
// 32-character windows, LoRA's corpus loss on 128-character text rose to 3.9 even with 25% replay; with
// windows as long as the model's context (every position covered) it stayed at 0.33, the base being at
// 0.26 (chapter 12). Bucketed batches (SFTRecipe.bucketed) keep the short task rows from being padded to
// the long windows; the price is the long batches' activations.
// Leaves out: replaying the base model's own samples (no corpus needed), regularising toward the base
// weights (EWC, L2-SP), choosing the share by search.
import Kernels
import Tokenizers
import Datasets
import Training

/// Pretraining text as fine-tuning examples (caseless namespace).
public enum Replay {
    /// `count` windows of `characters` characters from the training text of `recipe`'s corpus, at random
    /// offsets drawn with `seed`, as examples with an empty prompt (loss on the whole text).
    public static func examples(_ recipe: PretrainingRecipe, count: Int, characters: Int, seed: UInt64) -> [SFTExample] {
        let tokenizer = CharTokenizer.builtIn
        let text = Pretraining.corpus(recipe).train
        guard count > 0, characters > 0, text.count > characters else { return [] }
        var rng = RNG(seed: seed)
        return (0..<count).map { _ in
            let start = rng.below(text.count - characters)
            return SFTExample(prompt: "", response: tokenizer.decode(text[start..<(start + characters)].map(Int.init)))
        }
    }

    /// `task` with replay examples added so that they make up `share` (0…<1) of the result, shuffled
    /// together with `seed`. The task examples are all kept; replay examples are reused cyclically if
    /// there are too few.
    public static func mix(_ task: [SFTExample], replay: [SFTExample], share: Double, seed: UInt64) -> [SFTExample] {
        guard share > 0, share < 1, !replay.isEmpty else { return task }
        let wanted = Int((Double(task.count) * share / (1 - share)).rounded())
        let both = task + (0..<wanted).map { replay[$0 % replay.count] }
        var rng = RNG(seed: seed)
        return rng.permutation(both.count).map { both[$0] }
    }
}

/// A replay recipe: `share` (0…<1) of the fine-tuning examples are windows of `characters` characters
/// of the pretraining text. Applied to every method of a comparison, it keeps their budgets equal
/// (same steps × batch; the same rows of each batch go to general text).
public struct ReplayMix: Sendable, Equatable {
    public var share: Double
    public var characters: Int
    public var seed: UInt64

    /// A mix of `share` replayed windows of `characters` characters, drawn (and shuffled in) with `seed`.
    public init(share: Double, characters: Int = 32, seed: UInt64 = 12) {
        self.share = share
        self.characters = characters
        self.seed = seed
    }

    /// `task` with replayed windows of `corpus`'s pretraining text making up `share` of the result
    /// (one window per task example is drawn, reused cyclically if the share needs more).
    public func apply(to task: [SFTExample], corpus: PretrainingRecipe) -> [SFTExample] {
        Replay.mix(task, replay: Replay.examples(corpus, count: task.count, characters: characters, seed: seed), share: share,
                   seed: seed &+ 1)
    }

    /// "25% replay (128-character windows of pretraining text)", for the budget lines of the tables.
    public var description: String {
        String(format: "%.0f%% replay (%d-character windows of pretraining text)", share * 100, characters)
    }
}
