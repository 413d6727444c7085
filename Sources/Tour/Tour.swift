// Tour.swift — the main job: one base model, fine-tuned three ways, merged, compared in one table.
//
// Teaches: the book's trade-offs side by side, measured on the same task, seed and base:
// - full fine-tuning trains every weight (and pays gradients + Adam states for all of them);
// - LoRA trains a few percent of the parameters on a frozen fp32 base;
// - QLoRA does the same on a 4-bit NF4 base;
// - merging combines a second task model with the first without further training — which fails for
//   two fine-tunes of the raw base (their large task vectors collide) and works for two fine-tunes of a
//   shared generalist checkpoint (a brief multi-task fine-tune): Chapter 13's lesson, in two rows.
// For each: trainable parameters, peak training memory split by role (the memory meter), median step
// time, accuracy on both tasks, and forgetting (the loss on the pretraining corpus, next to the unigram
// baseline). Every fine-tune's examples carry the same share of replayed pretraining text (Chapter 5's
// remedy for forgetting), so the comparison is between methods that all kept the base — see
// `Config.standard` for what the tour measured without it.
// Tour+Report.swift turns the result into an HTML page with SVG loss curves and memory bars.
// Leaves out: the chapters' deeper experiments (run `swift run chapters` for the list).
import Foundation
import Autodiff
import NN
import Tokenizers
import Datasets
import Training
import PEFT
import Quantization
import Merging
import Experiments

/// The guided comparison run by `swift run -c release tinytune`.
public enum Tour {
    /// The tour's knobs.
    public struct Config: Sendable {
        public var base: PretrainingRecipe
        public var useCache: Bool
        /// Task A (full, LoRA, QLoRA) and task B (the second model for the merge).
        public var taskA: SFTTask, taskB: SFTTask
        public var fullRecipe: SFTRecipe, adapterRecipe: SFTRecipe
        public var rank: Int
        public var trainExamples: Int, testExamples: Int
        /// The multi-task fine-tune (A ∪ B) that makes the shared checkpoint for the second merge.
        public var generalistRecipe: SFTRecipe
        /// The merge of two full fine-tunes, as a mergekit-style JSON config over "base", "A" and "B".
        public var mergeConfig: String
        /// Pretraining text mixed into every fine-tune's examples (nil: the task alone).
        public var replay: ReplayMix?

        /// This config with `mix` replayed into every fine-tune (nil: the task alone), and every recipe's
        /// batches bucketed by length when there is a mix (so the short task rows are not padded to the
        /// long replayed windows).
        public func replaying(_ mix: ReplayMix?) -> Config {
            var config = self
            config.replay = mix
            for path in [\Config.fullRecipe, \.adapterRecipe, \.generalistRecipe] { config[keyPath: path].bucketed = mix != nil }
            return config
        }

        /// Chapters 8 and 12's recipes: 600 × 32 for every fine-tune (full lr 5e-4, adapters 1.5e-3) with 25%
        /// of the examples 128-character windows of pretraining text (replay), so no fine-tune wrecks the
        /// base. Replay slows the generalist down: after 300 multi-task steps it had 10% / 0% (nothing for a
        /// merge to share), after 600 60% / 12%, after 1,000 96% / 100% (measured with chapter 13 part 2,
        /// 2026-12-03). Without replay (`tinytune --replay 0 --steps 400 --adapter-lr 2e-3 --generalist-steps
        /// 300`, the tour until 2026-12-03) the corpus loss of every fine-tune rose above the unigram baseline.
        public static let standard = Config(
            base: .standard, useCache: true, taskA: .reverse, taskB: .record,
            fullRecipe: SFTRecipe(steps: 600, batchSize: 32, learningRate: 5e-4, bucketed: true),
            adapterRecipe: SFTRecipe(steps: 600, batchSize: 32, learningRate: 1.5e-3, bucketed: true), rank: 8,
            trainExamples: 3000, testExamples: 50,
            generalistRecipe: SFTRecipe(steps: 1000, batchSize: 32, learningRate: 5e-4, bucketed: true), mergeConfig: Tour.slerpMerge,
            replay: ReplayMix(share: 0.25, characters: 128))
        public static let tiny = Config(
            base: .tiny, useCache: false, taskA: .reverse, taskB: .arithmetic,
            fullRecipe: SFTRecipe(steps: 8, batchSize: 8, learningRate: 3e-3),
            adapterRecipe: SFTRecipe(steps: 8, batchSize: 8, learningRate: 3e-3), rank: 2,
            trainExamples: 40, testExamples: 4,
            generalistRecipe: SFTRecipe(steps: 8, batchSize: 8, learningRate: 3e-3), mergeConfig: Tour.slerpMerge,
            replay: ReplayMix(share: 0.25, characters: 24))
    }

    /// SLERP halfway between the two models, tensor by tensor. (Chapter 13 compares it with soup, task
    /// arithmetic, TIES and DARE; on fine-tunes of a 1,000-step generalist with 25% replay, SLERP and soup
    /// keep both skills best, 82% / 100%, where TIES at density 0.5 keeps 38% / 98% — chapter 13 part 2,
    /// `--replay 0.25 --generalist-steps 1000`, 2026-12-03.)
    public static let slerpMerge = #"{"merge_method": "slerp", "models": [{"model": "A"}, {"model": "B"}], "parameters": {"t": 0.5}}"#

    /// One row of the comparison.
    public struct Row: Sendable {
        public var method: String
        /// Trainable parameters (0 for the base and the merge).
        public var trainable: Int
        /// Bytes per role at the moment of peak training memory (empty when nothing was trained).
        public var peakByRole: [MemoryRole: Int]
        /// Median milliseconds per optimizer step (nil when nothing was trained).
        public var stepMilliseconds: Double?
        public var accuracyA: Double, accuracyB: Double
        /// Mean next-token loss on the pretraining corpus's validation text (forgetting).
        public var corpusLoss: Float
        /// Training loss per step.
        public var lossCurve: [Float]

        /// Total peak bytes.
        public var peakBytes: Int { peakByRole.values.reduce(0, +) }
    }

    /// Everything the tour measured.
    public struct Report: Sendable {
        public var config: Config
        public var baseParameters: Int
        /// The corpus loss of a model that knows only letter frequencies: above it, the base's knowledge is gone.
        public var unigramBaseline: Double
        public var rows: [Row]
    }

    /// Runs the tour, printing through `output`; `progress` reports training steps (nil: quiet).
    public static func run(_ config: Config, output: @escaping (String) -> Void = { print($0) },
                           progress: ((String) -> ProgressReporter)? = nil) throws -> Report {
        output("TinyTune tour — one base model, fine-tuned three ways, then merged\n")
        let setup = try ExperimentSetup.open(config.base, cached: config.useCache, progress: progress?("pretrain"))
        let (base, tokenizer) = (setup.base, setup.tokenizer)
        let validation = Pretraining.validationBatches(config.base, batchSize: 16, count: 4)
        let data = MultiTaskExperiment.TaskData(tasks: (config.taskA, config.taskB), world: base.world,
                                                trainExamples: config.trainExamples, testExamples: config.testExamples)
        output("Base model: \(base.model.parameterCount()) parameters. Task A: \(config.taskA.rawValue); task B: \(config.taskB.rawValue).")

        let tests = [data.testA, data.testB]
        /// A row for `model`: accuracy on both tasks (from the run when it was trained), corpus loss, and
        /// what the run measured.
        func row(_ method: String, _ model: GPT, run: Experiment.Run? = nil) -> Row {
            let accuracy = run?.scores.map(\.accuracy) ?? Experiment.accuracies(model, tokenizer: tokenizer, tests: tests)
            return Row(method: method, trainable: run?.trainableParameters ?? 0, peakByRole: run?.peakByRole ?? [:],
                       stepMilliseconds: run?.medianStepMilliseconds, accuracyA: accuracy[0], accuracyB: accuracy[1],
                       corpusLoss: model.meanLoss(on: validation), lossCurve: run?.log.map(\.loss) ?? [])
        }
        /// Prepares a copy of `start` (the base unless given), trains it under a fresh memory meter, scores it.
        func train(_ method: String, from start: GPT? = nil, examples: [SFTExample], recipe: SFTRecipe,
                   optimizer: OptimizerChoice = .adamW, prepare: (GPT) throws -> Void = { $0.setTrainable(true) }) throws -> (Row, GPT) {
            output("training: \(method)")
            let run = try Experiment.measure(method, start: start ?? base.model, tokenizer: tokenizer, examples: examples, recipe: recipe,
                                             optimizer: optimizer, tests: tests, check: .teacherForced, progress: progress?(method),
                                             prepare: prepare)
            return (row(method, run.model, run: run), run.model)
        }

        /// Merges "A" and "B" by the configured method, with `start` as the base model.
        func merge(_ method: String, start: GPT, _ modelA: GPT, _ modelB: GPT) throws -> Row {
            let merge = try MergeConfig(json: Data(config.mergeConfig.utf8), file: "tour merge")
            return row("\(method) (\(merge.method))", try MultiTaskExperiment.merge(merge, models: ["base": start, "A": modelA, "B": modelB]))
        }

        var rows = [row("base model (no training)", base.model)]
        let lora = LoRAConfig(rank: config.rank, alpha: Float(2 * config.rank))
        // Every training set gets the same share of replayed pretraining text (the same seeded windows for each).
        let replayed = { (examples: [SFTExample]) in config.replay?.apply(to: examples, corpus: config.base) ?? examples }
        let (trainA, trainB) = (replayed(data.trainA), replayed(data.trainB))
        let (fullRow, modelA) = try train("full fine-tuning on A", examples: trainA, recipe: config.fullRecipe)
        rows.append(fullRow)
        rows.append(try train("LoRA r=\(config.rank) on A", examples: trainA, recipe: config.adapterRecipe) {
            try LoRA.add("default", to: $0, config: lora, seed: 3)
        }.0)
        rows.append(try train("QLoRA r=\(config.rank) on A (NF4)", examples: trainA, recipe: config.adapterRecipe,
                                 optimizer: .adamW8bit) {
            try QLoRA.prepare($0, adapter: "default", config: QLoRAConfig(lora: lora), seed: 3)
        }.0)
        let (fullRowB, modelB) = try train("full fine-tuning on B", examples: trainB, recipe: config.fullRecipe)
        rows.append(fullRowB)
        // Merge 1: the two full fine-tunes of the base, combined without training.
        rows.append(try merge("merge of the two", start: base.model, modelA, modelB))
        // Merge 2: the same two fine-tunes, but from a shared generalist that has begun both skills.
        let (generalistRow, generalist) = try train("generalist: A ∪ B together", examples: replayed(data.mixedTraining),
                                                    recipe: config.generalistRecipe)
        let (generalistRowA, generalistA) = try train("generalist, then A", from: generalist, examples: trainA, recipe: config.fullRecipe)
        let (generalistRowB, generalistB) = try train("generalist, then B", from: generalist, examples: trainB, recipe: config.fullRecipe)
        rows += [generalistRow, generalistRowA, generalistRowB,
                 try merge("merge of the last two", start: generalist, generalistA, generalistB)]
        let report = Report(config: config, baseParameters: base.model.parameterCount(), unigramBaseline: base.unigramBaseline, rows: rows)
        output("")
        output(report.budget)
        report.table.forEach(output)
        output("")
        report.conclusions.forEach(output)
        return report
    }
}
