// Trainer.swift — the training loop: forward, loss, backward, clip, step; accumulate; evaluate; stop.
//
// Teaches: everything around `loss.backward()` that makes training work and fine-tuning cheap to
// run: gradient accumulation (several micro-batches, one update — exactly the large batch, because
// every micro-batch's loss is normalised by the *whole* step's token weight), learning-rate
// schedules, clipping, periodic validation and early stopping.
// Leaves out: distributed data parallelism, mixed precision (see the Quantization module).
import Foundation
import Kernels
import Autodiff
import NN
import Optim

/// Hyperparameters of a training run.
public struct TrainerOptions: Codable, Sendable, Equatable {
    /// Optimizer updates to perform.
    public var steps: Int
    /// Micro-batches per update (their gradients are summed before the step).
    public var gradientAccumulation: Int
    /// The learning rate by step.
    public var schedule: LearningRateSchedule
    /// Clip the global gradient norm to this (nil: no clipping).
    public var clipNorm: Float?
    /// Validate every this many steps (0: never).
    public var evaluateEvery: Int
    /// Stop after this many validations without improvement (nil: never stop early).
    public var earlyStoppingPatience: Int?
    /// Seeds dropout.
    public var seed: UInt64

    /// Options with common defaults: no accumulation, clip at 1, cosine schedule with 10% warmup.
    public init(steps: Int, learningRate: Float, gradientAccumulation: Int = 1, warmupSteps: Int? = nil,
                decay: LearningRateSchedule.Decay = .cosine, clipNorm: Float? = 1, evaluateEvery: Int = 0,
                earlyStoppingPatience: Int? = nil, seed: UInt64 = 0) {
        self.steps = steps
        self.gradientAccumulation = gradientAccumulation
        schedule = LearningRateSchedule(peak: learningRate, warmupSteps: warmupSteps ?? steps / 10,
                                        totalSteps: steps, decay: decay)
        self.clipNorm = clipNorm
        self.evaluateEvery = evaluateEvery
        self.earlyStoppingPatience = earlyStoppingPatience
        self.seed = seed
    }
}

/// One line of the training log.
public struct TrainingLogEntry: Codable, Sendable, Equatable {
    public var step: Int
    /// Mean training loss of the step's micro-batches (weighted by tokens).
    public var loss: Float
    public var learningRate: Float
    /// Global gradient norm before clipping.
    public var gradientNorm: Float
    /// Validation loss, when this step evaluated.
    public var validationLoss: Float?
    /// Target tokens with nonzero weight processed in the step.
    public var tokens: Int
    /// Wall-clock milliseconds of the step.
    public var milliseconds: Double
    /// Positions the model ran on in the step (B·T summed over micro-batches, padding included); nil in
    /// logs written before it was recorded.
    public var positions: Int? = nil
}

/// Runs optimisation steps on a GPT and keeps the log.
public final class Trainer {
    public let model: GPT
    public let optimizer: Optimizer
    public let options: TrainerOptions
    /// Updates done so far.
    public internal(set) var step = 0
    /// Every step's log entry.
    public internal(set) var log: [TrainingLogEntry] = []
    /// The best validation loss seen, and validations since it improved.
    public internal(set) var bestValidationLoss: Float = .infinity
    public internal(set) var validationsWithoutImprovement = 0
    /// Dropout randomness (saved in checkpoints so a resumed run is bitwise identical).
    public internal(set) var rng: RNG

    /// A trainer for `model` with `optimizer`.
    public init(model: GPT, optimizer: Optimizer, options: TrainerOptions) {
        self.model = model
        self.optimizer = optimizer
        self.options = options
        rng = RNG(seed: options.seed)
    }

    /// Whether early stopping has triggered.
    public var shouldStop: Bool {
        guard let patience = options.earlyStoppingPatience else { return false }
        return validationsWithoutImprovement >= patience
    }

    /// Weighted loss of `batch` normalised by `normalizer` (the step's total weight), as a graph.
    public func loss(_ batch: some LanguageModelBatch, normalizer: Float? = nil, training: Bool) -> Tensor {
        var dropout: RNG? = training ? rng : nil
        let logits = model(batch.inputs, batch: batch.batchSize, steps: batch.contextLength, rng: &dropout)
        if training, let advanced = dropout { rng = advanced }
        return Tensor.crossEntropy(logits, targets: batch.targets, weights: batch.weights, normalizer: normalizer)
    }

    /// One optimizer update from `microBatches` (their count is normally `options.gradientAccumulation`).
    ///
    /// Each micro-batch's loss is divided by the total weight of *all* of them, so the summed gradients
    /// equal the gradient of the mean loss over the combined batch.
    @discardableResult
    public func trainStep(_ microBatches: [some LanguageModelBatch]) -> TrainingLogEntry {
        let start = DispatchTime.now()
        step += 1
        let totalWeight = microBatches.map { $0.weights.reduce(0, +) }.reduce(0, +)
        optimizer.zeroGrad()
        var lossSum: Float = 0
        if let combine = GradientAccumulation.current.combine {
            lossSum = accumulate(microBatches, totalWeight: totalWeight, combine: combine)
        } else {
            for batch in microBatches {
                let loss = self.loss(batch, normalizer: totalWeight, training: true)
                lossSum += loss.item
                loss.backward()
            }
        }
        let trainable = optimizer.parameters.map(\.tensor)
        let norm = options.clipNorm.map { GradientClipping.clip(trainable, maxNorm: $0) }
            ?? GradientClipping.globalNorm(trainable)
        let rate = options.schedule.rate(at: step)
        Tensor.withNoGrad { optimizer.step(learningRate: rate) }
        let tokens = microBatches.map { $0.weights.filter { $0 != 0 }.count }.reduce(0, +)
        let milliseconds = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e6
        let positions = microBatches.map { $0.batchSize * $0.contextLength }.reduce(0, +)
        let entry = TrainingLogEntry(step: step, loss: lossSum, learningRate: rate, gradientNorm: norm,
                                     validationLoss: nil, tokens: tokens, milliseconds: milliseconds, positions: positions)
        log.append(entry)
        return entry
    }

    /// Mean weighted loss over `batches`, without gradients or dropout.
    public func evaluate(_ batches: [some LanguageModelBatch]) -> Float { model.meanLoss(on: batches) }

    /// Records a validation loss for the current step and updates early-stopping counters.
    /// Returns true when it is the best so far.
    @discardableResult
    public func recordValidation(_ validationLoss: Float) -> Bool {
        if !log.isEmpty { log[log.count - 1].validationLoss = validationLoss }
        if validationLoss < bestValidationLoss {
            bestValidationLoss = validationLoss
            validationsWithoutImprovement = 0
            return true
        }
        validationsWithoutImprovement += 1
        return false
    }

    /// The substituted accumulation (GradientAccumulation.swift): each micro-batch's mean gradient is kept
    /// apart, then `combine` turns them into the step's gradient, parameter by parameter. Returns the
    /// step's mean loss.
    func accumulate(_ microBatches: [some LanguageModelBatch], totalWeight: Float, combine: GradientAccumulation.Combine) -> Float {
        let parameters = optimizer.parameters.map(\.tensor)
        var gradients = [[[Float]]](repeating: [], count: parameters.count)
        var weights: [Float] = [], lossSum: Float = 0
        for batch in microBatches {
            let weight = batch.weights.reduce(0, +)
            optimizer.zeroGrad()
            let loss = self.loss(batch, normalizer: weight, training: true)
            lossSum += loss.item * weight / totalWeight
            loss.backward()
            weights.append(weight)
            for (index, parameter) in parameters.enumerated() {
                gradients[index].append(parameter.grad?.values ?? [Float](repeating: 0, count: parameter.count))
            }
        }
        optimizer.zeroGrad()
        for (index, parameter) in parameters.enumerated() {
            let combined = combine(gradients[index], weights)
            require(combined.count == parameter.count,
                    "GradientAccumulation.combine returned \(combined.count) values for \(parameter.name ?? "a parameter") of \(parameter.count)")
            parameter.setGrad(Tensor(combined, shape: parameter.shape, role: .gradients))
        }
        return lossSum
    }

    /// Trains until `options.steps` (or early stopping), drawing micro-batches from `source`,
    /// validating every `options.evaluateEvery` steps on `validation`, reporting to `progress`.
    /// `afterStep` runs after each step (e.g. to save a checkpoint); throwing from it stops the run.
    public func run<Source: BatchSource>(source: inout Source, validation: [Source.Batch] = [],
                                         progress: ProgressReporter? = nil,
                                         afterStep: (Trainer) throws -> Void = { _ in }) throws {
        try run(source: &source, validation: validation, progress: progress) { trainer, _ in try afterStep(trainer) }
    }

    /// `run`, with `afterStep` also given the source's position after the step (what a checkpoint
    /// saved there must record to continue with the next batch).
    public func run<Source: BatchSource>(source: inout Source, validation: [Source.Batch] = [],
                                         progress: ProgressReporter? = nil,
                                         afterStep: (Trainer, Source.Position) throws -> Void) throws {
        while step < options.steps && !shouldStop {
            let micro = (0..<max(options.gradientAccumulation, 1)).map { _ in source.nextBatch() }
            let entry = trainStep(micro)
            if options.evaluateEvery > 0 && step % options.evaluateEvery == 0 && !validation.isEmpty {
                recordValidation(evaluate(validation))
            }
            progress?.update(step: step, of: options.steps, entry: log.last ?? entry)
            try afterStep(self, source.position)
        }
        progress?.finish()
    }
}
