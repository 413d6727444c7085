// ExperimentSetup.swift — what a chapter starts from: the base model, its tokenizer, one task's split.
//
// Teaches: every experiment in the book fixes the same three things before it measures anything — the
// pretrained base (trained once and cached), the built-in character tokenizer, and a task's training and
// test examples drawn with fixed seeds (training seed 1, test seed 2; the splits never overlap). Opening
// a chapter is one call, so every chapter sees the same examples for the same task.
// Leaves out: user data (see `tinytune finetune --data`), several tasks at once (MultiTaskExperiment.TaskData).
import NN
import Tokenizers
import Datasets
import Training

/// A base model, its tokenizer and a task's examples.
public struct ExperimentSetup {
    public let base: BaseModel
    public let tokenizer: CharTokenizer
    /// The task, its training examples (seed 1) and test examples (seed 2).
    public let task: SFTTask
    public let train: [SFTExample], test: [SFTExample]

    /// The pretrained model itself.
    public var model: GPT { base.model }

    /// Loads (or pretrains and caches, when `cached`) the base of `recipe` and draws `trainExamples` and
    /// `testExamples` examples of `task` from its world.
    public static func open(_ recipe: PretrainingRecipe, cached: Bool, task: SFTTask = .reverse, trainExamples: Int = 0,
                            testExamples: Int = 0, progress: ProgressReporter? = nil) throws -> ExperimentSetup {
        let base = try Pretraining.base(recipe, cached: cached, progress: progress)
        return ExperimentSetup(base: base, tokenizer: CharTokenizer.builtIn, task: task,
                               train: trainExamples > 0 ? task.examples(split: .train, count: trainExamples, seed: 1, world: base.world) : [],
                               test: testExamples > 0 ? task.examples(split: .test, count: testExamples, seed: 2, world: base.world) : [])
    }
}
