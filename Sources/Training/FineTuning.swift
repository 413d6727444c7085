// FineTuning.swift — supervised fine-tuning: pretraining continued on prompt/response pairs.
//
// Teaches: fine-tuning is a small diff against pretraining. Same model, same loss, same loop — but
// it starts from trained weights, uses a smaller learning rate and fewer steps, and trains on
// formatted examples whose prompt tokens usually carry no loss. Every method trains through this
// loop: what differs is what `prepare` makes trainable before it starts (everything, the last blocks
// — FullFineTuning's freeze rules —, or only the tensors a PEFT method added).
// Leaves out: multi-epoch data mixing with pretraining data.
import Foundation
import Autodiff
import NN
import Optim
import Tokenizers
import Datasets

/// The hyperparameters of one supervised fine-tune.
public struct SFTRecipe: Sendable, Codable, Equatable {
    public var steps: Int
    public var batchSize: Int
    public var gradientAccumulation: Int
    public var learningRate: Float
    public var warmupSteps: Int
    public var decay: LearningRateSchedule.Decay
    /// Loss weight of prompt tokens (0 = train on responses only).
    public var promptLossWeight: Float
    /// Validate every this many steps (0 = never); stop after `patience` validations without improvement.
    public var evaluateEvery: Int
    public var patience: Int?
    public var seed: UInt64
    /// Group examples of similar length into a batch, each batch only as long as its longest row.
    public var bucketed: Bool
    /// Recompute each block's activations in backward instead of keeping them (less memory, ~⅓ more compute).
    public var checkpointActivations: Bool

    /// A recipe with common defaults: batch 16, lr 5e-4 with 10% warmup and cosine decay, prompt weight 0.
    public init(steps: Int, batchSize: Int = 16, gradientAccumulation: Int = 1, learningRate: Float = 5e-4,
                warmupSteps: Int? = nil, decay: LearningRateSchedule.Decay = .cosine, promptLossWeight: Float = 0,
                evaluateEvery: Int = 0, patience: Int? = nil, seed: UInt64 = 1, bucketed: Bool = false,
                checkpointActivations: Bool = false) {
        self.steps = steps
        self.batchSize = batchSize
        self.gradientAccumulation = gradientAccumulation
        self.learningRate = learningRate
        self.warmupSteps = warmupSteps ?? max(steps / 10, 1)
        self.decay = decay
        self.promptLossWeight = promptLossWeight
        self.evaluateEvery = evaluateEvery
        self.patience = patience
        self.seed = seed
        self.bucketed = bucketed
        self.checkpointActivations = checkpointActivations
    }

    /// This recipe at `steps` steps, its warmup rescaled to the same share of the run (at least one
    /// step): setting `steps` alone keeps the warmup the initialiser derived from the old count, so a
    /// 300-step recipe cut to 30 steps would warm up for all 30.   warmup' = max(warmup·steps'/steps, 1)
    public func withSteps(_ steps: Int) -> SFTRecipe {
        var copy = self
        copy.steps = steps
        copy.warmupSteps = Swift.max(warmupSteps * steps / Swift.max(self.steps, 1), 1)
        return copy
    }
}

/// A fine-tuned model and how it got there.
public struct FineTuneResult {
    public let model: GPT
    public let log: [TrainingLogEntry]
    public let trainableParameters: Int
    /// Whether early stopping ended the run before `steps`.
    public let stoppedEarly: Bool
}

/// Running supervised fine-tunes (caseless namespace).
public enum FineTuning {
    /// Fine-tunes a *copy* of `base` on `examples` (validating on `validation` if the recipe says so),
    /// training the parameters `prepare` leaves trainable (by default all of them: full fine-tuning).
    /// Chat examples are rendered through `template` when one is given (see `TokenizedExample(_:tokenizer:template:)`).
    public static func run(base: GPT, tokenizer: some Tokenizer, examples: [SFTExample], validation: [SFTExample] = [],
                           recipe: SFTRecipe, template: ChatTemplate? = nil, progress: ProgressReporter? = nil,
                           prepare: (GPT) -> Void = { $0.setTrainable(true) }) -> FineTuneResult {
        let model = base.copy()
        prepare(model)
        return train(model, tokenizer: tokenizer, examples: examples, validation: validation, recipe: recipe, template: template,
                     progress: progress)
    }

    /// Fine-tunes `model` in place, training exactly the parameters whose `requiresGrad` is set (so a
    /// PEFT method that froze the base and added its own tensors trains only those). `makeOptimizer`
    /// replaces the default AdamW (weight decay 0.01), e.g. by an 8-bit one.
    /// `afterStep` sees the trainer after every optimizer step (e.g. to score the model on a curve).
    public static func train(_ model: GPT, tokenizer: some Tokenizer, examples: [SFTExample], validation: [SFTExample] = [],
                             recipe: SFTRecipe, template: ChatTemplate? = nil, progress: ProgressReporter? = nil,
                             makeOptimizer: ((_ parameters: [(name: String, tensor: Tensor)]) -> Optimizer)? = nil,
                             afterStep: (Trainer) -> Void = { _ in }) -> FineTuneResult {
        var run = preparedRun(model, tokenizer: tokenizer, examples: examples, validation: validation, recipe: recipe,
                              template: template, makeOptimizer: makeOptimizer)
        // The loop cannot throw here: the after-step hook does not.
        try? run.trainer.run(source: &run.source, validation: run.validation, progress: progress) { afterStep($0) }
        return run.result
    }

    /// `train`, resuming from and saving checkpoints as `checkpoints` says (see `CheckpointPlan`);
    /// throws if the checkpoint to resume from does not fit this run, or a save fails.
    public static func train(_ model: GPT, tokenizer: some Tokenizer, examples: [SFTExample], validation: [SFTExample] = [],
                             recipe: SFTRecipe, template: ChatTemplate? = nil, progress: ProgressReporter? = nil,
                             checkpoints: CheckpointPlan,
                             makeOptimizer: ((_ parameters: [(name: String, tensor: Tensor)]) -> Optimizer)? = nil) throws -> FineTuneResult {
        var run = preparedRun(model, tokenizer: tokenizer, examples: examples, validation: validation, recipe: recipe,
                              template: template, makeOptimizer: makeOptimizer)
        try run.trainer.run(source: &run.source, validation: run.validation, progress: progress, checkpoints: checkpoints)
        return run.result
    }

    /// A fine-tune ready to run: trainer, batch source and validation batches.
    struct PreparedRun {
        let trainer: Trainer
        var source: SFTBatchSource
        let validation: [Batch]
        let trainable: Int
        var result: FineTuneResult {
            FineTuneResult(model: trainer.model, log: trainer.log, trainableParameters: trainable,
                           stoppedEarly: trainer.step < trainer.options.steps)
        }
    }

    static func preparedRun(_ model: GPT, tokenizer: some Tokenizer, examples: [SFTExample], validation: [SFTExample],
                            recipe: SFTRecipe, template: ChatTemplate?,
                            makeOptimizer: ((_ parameters: [(name: String, tensor: Tensor)]) -> Optimizer)?) -> PreparedRun {
        let trainable = model.parameterCount(trainableOnly: true)
        // Only switched on: a caller may have turned checkpointing on the model itself.
        if recipe.checkpointActivations { model.checkpointActivations = true }
        let tokenized = examples.map {
            TokenizedExample($0, tokenizer: tokenizer, template: template, promptLossWeight: recipe.promptLossWeight)
        }
        // Rows only as long as the longest example needs: short SFT examples train much faster.
        let room = model.config.contextLength - model.virtualTokenCount
        let context = min(room, (tokenized.map(\.ids.count).max() ?? 2) - 1)
        let source = SFTBatchSource(examples: tokenized, batchSize: recipe.batchSize, contextLength: context, seed: recipe.seed,
                                    bucketed: recipe.bucketed)
        let validationBatches = SFTBatchSource(
            examples: validation.map { TokenizedExample($0, tokenizer: tokenizer, template: template, promptLossWeight: 0) }.nonEmpty
                ?? tokenized,
            batchSize: recipe.batchSize, contextLength: context, seed: 0, bucketed: recipe.bucketed).allBatches()
        let optimizer = makeOptimizer?(model.namedParameters()) ?? AdamW(model.namedParameters(), weightDecay: 0.01)
        let options = TrainerOptions(steps: recipe.steps, learningRate: recipe.learningRate,
                                     gradientAccumulation: recipe.gradientAccumulation, warmupSteps: recipe.warmupSteps,
                                     decay: recipe.decay, clipNorm: 1, evaluateEvery: validation.isEmpty ? 0 : recipe.evaluateEvery,
                                     earlyStoppingPatience: recipe.patience, seed: recipe.seed)
        let trainer = Trainer(model: model, optimizer: optimizer, options: options)
        return PreparedRun(trainer: trainer, source: source, validation: validationBatches, trainable: trainable)
    }
}

extension Array {
    /// nil for an empty array (for "use these, or else those").
    var nonEmpty: [Element]? { isEmpty ? nil : self }
}
