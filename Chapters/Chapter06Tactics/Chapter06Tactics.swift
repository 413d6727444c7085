// Chapter06Tactics.swift — Chapter 6: fine-tuning tactics and hyperparameters, and memory measured.
//
// The claims, measured:
// 1. The learning rate matters most: too small learns nothing in the budget, too large diverges. Each
//    rate's corpus loss (held-out pretraining text) sits next to its score, and every run of the sweep
//    mixes in chapter 5's remedy for forgetting, 25% replay of pretraining text, so the rate the sweep
//    picks is a recipe that keeps the base (on the task alone it would not: chapter 5).
// 2. Gradient accumulation is the large batch: batch 16 and batch 8 × 2 accumulation steps take the
//    same optimizer steps (the losses agree to float rounding).
// 3. Early stopping on validation loss ends a run when more epochs would only overfit.
// 4. The prompt-loss weight: training on prompt tokens spends capacity on predicting prompts.
// 5. Warmup + cosine decay vs a constant rate.
// 6. Memory: full vs partial fine-tuning, with and without activation checkpointing, measured per
//    role next to the estimator.
// Leaves out: PEFT hyperparameters (rank, alpha: Chapter 8).
import Foundation
import Optim
import Datasets
import Training
import FullFineTuning
import Experiments

/// Chapter 6 — tactics and memory.
public enum Chapter06Tactics {
    /// The experiment's knobs.
    public struct Config: Sendable {
        public var base: PretrainingRecipe
        public var useCache: Bool
        /// The recipe every experiment starts from.
        public var recipe: SFTRecipe
        public var learningRates: [Float]
        /// The replay every run of the learning-rate sweep gets (nil: the task alone).
        public var sweepReplay: ReplayMix?
        public var trainExamples: Int, testExamples: Int
        /// Training examples for the early-stopping run (small, to overfit).
        public var smallTrainSet: Int
        /// Memory measurement: batch rows and sequence length.
        public var memoryBatch: Int, memorySteps: Int

        public static let standard = Config(base: .standard, useCache: true,
                                            recipe: SFTRecipe(steps: 300, batchSize: 32, learningRate: 5e-4),
                                            learningRates: [1e-4, 5e-4, 2e-3, 8e-3, 3e-2],
                                            sweepReplay: ReplayMix(share: 0.25, characters: 128), trainExamples: 3000, testExamples: 100,
                                            smallTrainSet: 64, memoryBatch: 16, memorySteps: 128)
        public static let tiny = Config(base: .tiny, useCache: false, recipe: SFTRecipe(steps: 20, batchSize: 8, learningRate: 3e-3),
                                        learningRates: [1e-4, 3e-3], sweepReplay: ReplayMix(share: 0.25, characters: 16),
                                        trainExamples: 80, testExamples: 8,
                                        smallTrainSet: 16, memoryBatch: 2, memorySteps: 16)
    }

    /// One row of a comparison: a setting, its final training loss, and its test score.
    public struct Row: Sendable {
        public var setting: String
        public var finalLoss: Float
        public var score: TaskScore
        /// Next-token loss on held-out pretraining text after the run (the learning-rate sweep only).
        public var corpusLoss: Float? = nil
    }

    /// The chapter's numbers.
    public struct Report: Sendable {
        public var learningRateSweep: [Row]
        /// Losses of batch 16 and of 8 × 2 accumulation, step by step, and their largest difference.
        public var largeBatchLosses: [Float], accumulatedLosses: [Float]
        public var accumulationMaxDifference: Float
        /// Early stopping: the step it stopped at (of the budget) and the best validation loss.
        public var earlyStopStep: Int, earlyStopBudget: Int, bestValidationLoss: Float
        public var promptWeights: [Row]
        public var schedules: [Row]
        public var memory: [MemoryMeasurement]
        /// The base's corpus loss and the unigram baseline the sweep's corpus losses are read against.
        public var baseCorpusLoss: Float, unigramBaseline: Double
    }

    /// Runs the chapter, printing through `output`.
    @discardableResult
    public static func run(_ config: Config, output: @escaping (String) -> Void = { print($0) }) throws -> Report {
        output("Chapter 6 — Tactics and memory\n")
        let setup = try ExperimentSetup.open(config.base, cached: config.useCache, trainExamples: config.trainExamples,
                                             testExamples: config.testExamples)
        let (base, train) = (setup.base, setup.train)
        /// One full fine-tune of the base, scored on the test set.
        func tune(_ recipe: SFTRecipe, examples: [SFTExample]? = nil, validation: [SFTExample] = []) -> (Experiment.Run, Row) {
            let run = Experiment.measure("", start: base.model, tokenizer: setup.tokenizer, examples: examples ?? train,
                                         validation: validation, recipe: recipe, tests: [setup.test]) { $0.setTrainable(true) }
            return (run, Row(setting: "", finalLoss: run.finalLoss(lastSteps: 10), score: run.scores[0]))
        }
        func show(_ rows: [Row]) {
            for row in rows {
                output("  \(row.setting.padding(toLength: 28, withPad: " ", startingAt: 0)) "
                       + String(format: "final train loss %.3f   test ", row.finalLoss) + row.score.description
                       + (row.corpusLoss.map { String(format: "   corpus loss %.3f", $0) } ?? ""))
            }
        }

        // 1. Learning-rate sweep (the later experiments use the recipe's rate, chosen from this sweep).
        //    Every run of it mixes in the replay, in bucketed batches; the corpus loss says what each rate kept.
        let corpus = Pretraining.validationBatches(config.base, batchSize: 16, count: 4)
        let baseCorpusLoss = Forgetting.corpusLoss(base.model, corpus)
        output("1. Learning rate (task: reverse a word, \(config.recipe.steps) steps, batch \(config.recipe.batchSize), cosine; "
               + (config.sweepReplay.map { $0.description } ?? "the task alone") + "):")
        let sweepExamples = config.sweepReplay?.apply(to: train, corpus: config.base) ?? train
        let sweep = config.learningRates.map { rate -> Row in
            var recipe = config.recipe
            recipe.learningRate = rate
            recipe.bucketed = config.sweepReplay != nil
            let (run, tuned) = tune(recipe, examples: sweepExamples)
            var row = tuned
            row.setting = String(format: "lr %.0e", rate)
            row.corpusLoss = Forgetting.corpusLoss(run.model, corpus)
            return row
        }
        show(sweep)
        output(sweepVerdict(sweep, baseCorpusLoss: baseCorpusLoss, unigramBaseline: base.unigramBaseline))

        // 2. Batch size vs gradient accumulation.
        //    The short runs keep the recipe's warmup share (withSteps), not its 300-step warmup count.
        let large = config.recipe.withSteps(min(config.recipe.steps, 30))
        var accumulated = large
        accumulated.batchSize = large.batchSize / 2
        accumulated.gradientAccumulation = 2
        let largeLosses = tune(large).0.log.map(\.loss), accumulatedLosses = tune(accumulated).0.log.map(\.loss)
        let difference = zip(largeLosses, accumulatedLosses).map { abs($0 - $1) }.max() ?? 0
        output("\n2. Batch \(large.batchSize) vs batch \(accumulated.batchSize) × 2 accumulation, \(large.steps) steps: "
               + String(format: "largest per-step loss difference %.2e (float rounding; the batches are the same examples).", difference))

        // 3. Epochs with early stopping, on a small training set.
        var early = config.recipe.withSteps(config.recipe.steps * 2)
        early.evaluateEvery = max(config.recipe.steps / 20, 1)
        early.patience = 3
        let small = Array(train.prefix(config.smallTrainSet))
        let validation = SFTTask.reverse.examples(split: .test, count: config.testExamples, seed: 9, world: base.world)
        let stopped = tune(early, examples: small, validation: validation).0
        let best = stopped.log.compactMap(\.validationLoss).min() ?? .nan
        let epochs = Double(stopped.log.count * early.batchSize) / Double(small.count)
        output(String(format: "\n3. Early stopping: %d examples, budget %d steps — stopped at step %d (%.0f epochs), best validation loss %.3f.",
                      small.count, early.steps, stopped.log.count, epochs, best))

        // 4. Prompt-loss weight.
        output("\n4. Prompt-loss weight (0 = learn only responses):")
        let promptRows = [Float(0), 0.5, 1].map { weight -> Row in
            var recipe = config.recipe
            recipe.promptLossWeight = weight
            var row = tune(recipe).1
            row.setting = "prompt weight \(weight)"
            return row
        }
        show(promptRows)
        output("  (train loss includes prompt tokens when their weight > 0, so compare test scores)")

        // 5. Schedules.
        output("\n5. Schedules:")
        let scheduleRows = [("warmup 10% + cosine", config.recipe.warmupSteps, LearningRateSchedule.Decay.cosine),
                            ("constant, no warmup", 0, .constant)].map { label, warmup, decay -> Row in
            var recipe = config.recipe
            recipe.warmupSteps = warmup
            recipe.decay = decay
            var row = tune(recipe).1
            row.setting = label
            return row
        }
        show(scheduleRows)

        // 6. Memory, measured.
        output("\n6. Memory of one training step [\(config.memoryBatch), \(config.memorySteps)] on the base architecture, measured vs estimated:")
        let memory = [("full", FreezeRule.none, false), ("full + checkpointing", .none, true),
                      ("last 2 blocks", .lastBlocks(2, trainEmbeddings: false), false),
                      ("last 2 blocks + checkpointing", .lastBlocks(2, trainEmbeddings: false), true)].map { label, rule, checkpointing in
            MemoryProfile.measure(label: label, config: config.base.model, batch: config.memoryBatch, steps: config.memorySteps,
                                  freeze: rule, checkpointing: checkpointing, seed: 6)
        }
        for line in MemoryProfile.table(memory) { output("  " + line) }
        output("""
          Weights and optimizer state agree to the byte. Activations agree within a few percent (the estimate counts
          every op output our implementation keeps; see MemoryEstimator.activationBytes). Measured gradients exceed
          trainable×4 B by the transient gradients of intermediate tensors during backward, largest the logits' [B·T, V].
        """)
        return Report(learningRateSweep: sweep, largeBatchLosses: largeLosses, accumulatedLosses: accumulatedLosses,
                      accumulationMaxDifference: difference, earlyStopStep: stopped.log.count, earlyStopBudget: early.steps,
                      bestValidationLoss: best, promptWeights: promptRows, schedules: scheduleRows, memory: memory,
                      baseCorpusLoss: baseCorpusLoss, unigramBaseline: base.unigramBaseline)
    }

    /// The sweep's sentence, computed: the best-scoring rate (ties: the lower rate), its corpus loss
    /// against the base's and the unigram baseline, and the rates whose runs ended above that baseline.
    static func sweepVerdict(_ rows: [Row], baseCorpusLoss: Float, unigramBaseline: Double) -> String {
        guard let best = rows.enumerated().max(by: { ($0.element.score.accuracy, -$0.offset) < ($1.element.score.accuracy, -$1.offset) })?.element,
              let kept = best.corpusLoss else { return "" }
        let above = rows.filter { Double($0.corpusLoss ?? 0) > unigramBaseline }.map(\.setting)
        return String(format: "  Best score: %@ (%.0f%%), corpus loss %.3f (base %.3f, unigram baseline %.3f) — ", best.setting,
                      best.score.accuracy * 100, kept, baseCorpusLoss, unigramBaseline)
            + (Double(kept) > unigramBaseline ? "above the baseline: this rate learns the task by wrecking the base."
               : best.score.accuracy >= 0.9 ? "below the baseline: the best rate learns the task and keeps the base."
               : String(format: "below the baseline: it keeps the base, but learns only %.0f%% of the task in this budget (replay takes a share of every batch; chapter 5 gives it more steps).",
                        best.score.accuracy * 100))
            + (above.isEmpty ? "" : " Above the baseline: \(above.joined(separator: ", ")).")
    }
}
