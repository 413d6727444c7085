// Experiment.swift — the measured fine-tune every chapter and the tour share.
//
// Teaches: how the book's tables are made, once. Every row of a comparison is the same procedure:
// copy the starting model (fine-tuning writes in place), let the method prepare it (make everything
// trainable, add LoRA, pack the base in NF4 …), train it with the shared SFT loop under a fresh memory
// meter, time it, and score it on held-out examples. What the meter saw is kept twice: the peak of the
// whole run (preparing included) and the peak of training alone (from the moment the model is ready),
// each split by role — weights, gradients, optimizer state, activations.
// Leaves out: repeated runs and error bars (every figure is one seeded run), scoring under the meter.
import Foundation
import Autodiff
import NN
import Optim
import Tokenizers
import Datasets
import Training
import Quantization

/// Measured fine-tuning runs (caseless namespace).
public enum Experiment {
    /// Looks at the model while it trains: `body(step, model)` after every `every`-th optimizer step (and
    /// never at step 0). It runs outside the memory meter (what it allocates is not the run's) and
    /// without gradients, so it cannot change what training computes.
    public struct Observer {
        public let every: Int
        public let body: (_ step: Int, _ model: GPT) -> Void
        public init(every: Int, _ body: @escaping (_ step: Int, _ model: GPT) -> Void) { (self.every, self.body) = (every, body) }
    }

    /// What one run trained, used and scored.
    public struct Run {
        public let label: String
        /// The fine-tuned model (with whatever the method added).
        public let model: GPT
        /// Parameters the method left trainable, and all parameters of the starting model.
        public let trainableParameters: Int, startParameters: Int
        /// Bytes the meter counted as weights once the model was prepared (frozen base + adapters).
        public let weightBytes: Int
        /// Bytes per role at the peak of the whole run (copy and preparation included).
        public let peakByRole: [MemoryRole: Int]
        /// Bytes per role at the peak of training alone (after preparation).
        public let trainingPeakByRole: [MemoryRole: Int]
        /// Bytes the optimizer's states hold at the end (packed bytes for 8-bit AdamW).
        public let optimizerStateBytes: Int
        /// The training log (loss, step time … per step).
        public let log: [TrainingLogEntry]
        /// One score per test set, in the order given.
        public let scores: [TaskScore]
        /// Wall-clock seconds: copy, prepare, train and score.
        public let seconds: Double
        /// The process's peak resident set during the run (Linux: VmHWM after a reset), nil where unknown.
        /// Unlike the meter it sees everything — the allocator, the loaded file, other models alive.
        public let peakResidentBytes: Int?

        /// Trainable share of the starting model's parameters.
        public var trainableFraction: Double { Double(trainableParameters) / Double(max(startParameters, 1)) }
        /// Total bytes at the peak of the whole run.
        public var peakBytes: Int { peakByRole.values.reduce(0, +) }
        /// Total bytes at the peak of training alone.
        public var trainingPeakBytes: Int { trainingPeakByRole.values.reduce(0, +) }
        /// Median milliseconds per optimizer step (nil when there were no steps).
        public var medianStepMilliseconds: Double? {
            let times = log.map(\.milliseconds).sorted()
            return times.isEmpty ? nil : times[times.count / 2]
        }
        /// Positions the model ran on per second of training (B·T per step, padding included).
        public var positionsPerSecond: Double {
            let milliseconds = log.map(\.milliseconds).reduce(0, +)
            return Double(log.compactMap(\.positions).reduce(0, +)) / max(milliseconds / 1000, 1e-9)
        }
        /// Mean training loss of the last `count` steps.
        public func finalLoss(lastSteps count: Int = 10) -> Float {
            let tail = log.suffix(count).map(\.loss)
            return tail.reduce(0, +) / Float(max(tail.count, 1))
        }
    }

    /// Fine-tunes a copy of `start` on `examples` and measures it.
    /// - `prepare` runs on the copy under the meter: it decides what trains (`{ $0.setTrainable(true) }`:
    ///   full fine-tuning).
    /// - `tests` are scored after training, outside the meter, with `check`.
    /// - `validation` feeds the recipe's early stopping; `optimizer` picks fp32 or 8-bit AdamW.
    /// - `template` renders chat examples (training and scoring) through the model's chat template.
    public static func measure(_ label: String, start: GPT, tokenizer: some Tokenizer, examples: [SFTExample],
                               validation: [SFTExample] = [], recipe: SFTRecipe, optimizer: OptimizerChoice = .adamW,
                               template: ChatTemplate? = nil, tests: [[SFTExample]] = [], check: ExactMatchCheck = .generate,
                               progress: ProgressReporter? = nil, observer: Observer? = nil,
                               prepare: (GPT) throws -> Void) rethrows -> Run {
        try measure(label, loading: { start.copy() }, tokenizer: tokenizer, examples: examples, validation: validation,
                    recipe: recipe, optimizer: optimizer, template: template, tests: tests, check: check, progress: progress,
                    observer: observer, prepare: prepare)
    }

    /// `measure`, starting from the model `loading` makes (under the meter) instead of a copy — for a
    /// base that cannot be copied cheaply or at all, e.g. one whose GGUF blocks stay packed: each run
    /// then loads its own from the file.
    public static func measure(_ label: String, loading: () throws -> GPT, tokenizer: some Tokenizer, examples: [SFTExample],
                               validation: [SFTExample] = [], recipe: SFTRecipe, optimizer: OptimizerChoice = .adamW,
                               template: ChatTemplate? = nil, tests: [[SFTExample]] = [], check: ExactMatchCheck = .generate,
                               progress: ProgressReporter? = nil, observer: Observer? = nil,
                               prepare: (GPT) throws -> Void) rethrows -> Run {
        let begin = Date()
        ProcessMemory.resetPeak()
        let meter = MemoryMeter()
        var madeOptimizer: Optimizer?
        var preparedPeak = (total: 0, byRole: [MemoryRole: Int]()), weightBytes = 0, startParameters = 0
        let (model, log) = try meter.install { () -> (GPT, [TrainingLogEntry]) in
            let model = try loading()
            startParameters = model.parameterCount()
            try prepare(model)
            weightBytes = meter.liveBytes(.weights)
            // The peak so far belongs to preparing; training's peak is measured from here.
            preparedPeak = (meter.peakTotal, meter.peakBreakdown)
            meter.resetPeak()
            let result = FineTuning.train(model, tokenizer: tokenizer, examples: examples, validation: validation, recipe: recipe,
                                          template: template, progress: progress) { parameters in
                let made = optimizer.make(parameters)
                madeOptimizer = made
                return made
            } afterStep: { trainer in
                guard let observer, observer.every > 0, trainer.step % observer.every == 0 else { return }
                MemoryMeter.$current.withValue(nil) { Tensor.withNoGrad { observer.body(trainer.step, trainer.model) } }
            }
            return (model, result.log)
        }
        // Without the reset the meter would have kept the earlier peak unless training went higher.
        let whole = meter.peakTotal > preparedPeak.total ? meter.peakBreakdown : preparedPeak.byRole
        let peakResident = ProcessMemory.peakResidentBytes()
        let scores = tests.map { TaskEvaluator.score(model, tokenizer: tokenizer, examples: $0, check: check, template: template) }
        return Run(label: label, model: model, trainableParameters: model.parameterCount(trainableOnly: true),
                   startParameters: startParameters, weightBytes: weightBytes, peakByRole: whole,
                   trainingPeakByRole: meter.peakBreakdown, optimizerStateBytes: madeOptimizer.map(OptimizerChoice.stateBytes) ?? 0,
                   log: log, scores: scores, seconds: Date().timeIntervalSince(begin), peakResidentBytes: peakResident)
    }

    /// Exact-match accuracy of `model` on each test set (no training, no meter).
    public static func accuracies(_ model: GPT, tokenizer: some Tokenizer, tests: [[SFTExample]],
                                  check: ExactMatchCheck = .teacherForced, template: ChatTemplate? = nil) -> [Double] {
        tests.map { TaskEvaluator.score(model, tokenizer: tokenizer, examples: $0, check: check, template: template).accuracy }
    }
}
