// Forgetting.swift — what fine-tuning costs: the model gets worse at what it knew.
//
// Teaches: catastrophic forgetting, measured. Score the base model on its pretraining corpus
// (validation loss) and on task A; fine-tune on task B; score again. Full fine-tuning moves every
// weight toward task B and forgets the most; partial fine-tuning leaves the early layers — and the
// knowledge stored there — untouched.
// Leaves out: remedies beyond freezing (replaying pretraining data, regularising toward the base).
import Autodiff
import NN
import Tokenizers
import Datasets
import Training
import FullFineTuning

/// Before/after scores of one fine-tune.
public struct ForgettingReport: Sendable {
    public var setup: String
    public var trainableParameters: Int
    /// Pretraining-corpus validation loss before and after (nats/token).
    public var corpusLossBefore: Float, corpusLossAfter: Float
    /// Task A (not trained on) before and after.
    public var taskABefore: TaskScore, taskAAfter: TaskScore
    /// Task B (the fine-tuning task) before and after.
    public var taskBBefore: TaskScore, taskBAfter: TaskScore
    /// How much worse the corpus loss got.
    public var corpusForgetting: Float { corpusLossAfter - corpusLossBefore }
}

/// The forgetting experiment (caseless namespace).
public enum Forgetting {
    /// Fine-tunes `base` on `taskB` under each freeze rule and reports forgetting of the corpus and of `taskA`.
    public static func measure(base: GPT, tokenizer: some Tokenizer, corpus: [Batch], taskA: [SFTExample],
                               taskBTrain: [SFTExample], taskBTest: [SFTExample], recipe: SFTRecipe,
                               rules: [FreezeRule]) -> [ForgettingReport] {
        let corpusBefore = corpusLoss(base, corpus)
        let aBefore = TaskEvaluator.score(base, tokenizer: tokenizer, examples: taskA)
        let bBefore = TaskEvaluator.score(base, tokenizer: tokenizer, examples: taskBTest)
        return rules.map { rule in
            let tuned = FineTuning.run(base: base, tokenizer: tokenizer, examples: taskBTrain, recipe: recipe) { rule.apply(to: $0) }
            return ForgettingReport(setup: rule.description, trainableParameters: tuned.trainableParameters,
                                    corpusLossBefore: corpusBefore, corpusLossAfter: corpusLoss(tuned.model, corpus),
                                    taskABefore: aBefore, taskAAfter: TaskEvaluator.score(tuned.model, tokenizer: tokenizer, examples: taskA),
                                    taskBBefore: bBefore, taskBAfter: TaskEvaluator.score(tuned.model, tokenizer: tokenizer, examples: taskBTest))
        }
    }

    /// Mean next-token loss on pretraining-style batches, without gradients.
    public static func corpusLoss(_ model: GPT, _ batches: [Batch]) -> Float { model.meanLoss(on: batches) }
}

/// Two corpus losses compared, with a tolerance: differences this small are noise at our size (one
/// seeded run, 64 validation windows), so they are reported as "about the same", not as a win.
public enum CorpusLossComparison: Sendable, Equatable {
    case lower, aboutTheSame, higher

    /// How `loss` compares with `reference`: lower or higher by more than `tolerance` nats/token, or neither.
    public init(_ loss: Float, versus reference: Float, tolerance: Float = 0.01) {
        self = loss < reference - tolerance ? .lower : loss > reference + tolerance ? .higher : .aboutTheSame
    }
}
