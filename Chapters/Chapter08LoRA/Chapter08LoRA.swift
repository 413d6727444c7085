// Chapter08LoRA.swift — Chapter 8: LoRA — why low rank works, and what it costs and saves.
//
// The claims, measured on our base model:
// 1. A full fine-tune's weight update ΔW is nearly low-rank: a few singular directions carry most of
//    it (a random matrix of the same shape has no such structure).
// 2. So a rank-r update B·A learns the task about as well as full fine-tuning, training a few percent
//    of the parameters, with less training memory (no gradients or Adam states for the base). The two
//    get the same budget (steps × batch over the same examples), each at its own learning rate, and
//    the table states it; the corpus loss shows what each kept of the base. Both train with the same
//    share of replayed pretraining text (Chapter 5's measured remedy for forgetting), so the question
//    is not "does it wreck the base" but "which keeps more of it at the same task score".
//    Finished runs rarely score the same, so both are also watched while they train (accuracy and
//    corpus loss every 50 steps) and compared at an equal task score, read off those curves
//    (Experiments/ForgettingCurve.swift; Chapter08LoRA+Curves.swift prints them).
// 3. Rank and target layers trade parameters for accuracy.
// 4. Merging B·A into W gives the same outputs with zero inference overhead; unmerging restores W.
// Every sentence about the results is computed from them, and says so when they contradict the claim.
// Leaves out: the PEFT zoo (Chapter 7) and serving many adapters (Chapter 9).
import Foundation
import Kernels
import Autodiff
import NN
import Training
import PEFT
import Experiments

/// Chapter 8 — LoRA.
public enum Chapter08LoRA {
    /// The experiment's knobs.
    public struct Config: Sendable {
        public var base: PretrainingRecipe
        public var useCache: Bool
        public var full: SFTRecipe
        public var lora: SFTRecipe
        /// (rank, targets) pairs for the sweep, trained with `sweep`.
        public var sweepSettings: [(rank: Int, targets: [String])]
        public var sweep: SFTRecipe
        public var trainExamples: Int, testExamples: Int
        /// Pretraining text mixed into the training examples of every run (nil: the task alone).
        public var replay: ReplayMix?
        /// A wider base on which the LoRA-vs-full comparison is repeated (nil: skip).
        public var wideBase: PretrainingRecipe?
        /// Steps between the points of the learning–forgetting curves of part 2 (0: no curves), and the
        /// held-out task examples they are scored on.
        public var curveEvery: Int = 0, curveExamples: Int = 0

        public static let standard = Config(base: .standard, useCache: true,
                                            full: SFTRecipe(steps: 600, batchSize: 32, learningRate: 5e-4, bucketed: true),
                                            lora: SFTRecipe(steps: 600, batchSize: 32, learningRate: 1.5e-3, bucketed: true),
                                            sweepSettings: [(2, ["c_attn"]), (8, ["c_attn"]), (2, ["all-linear"]), (4, ["all-linear"])],
                                            sweep: SFTRecipe(steps: 400, batchSize: 32, learningRate: 1.5e-3, bucketed: true),
                                            trainExamples: 3000, testExamples: 100, replay: ReplayMix(share: 0.25, characters: 128), wideBase: .wide,
                                            curveEvery: 50, curveExamples: 100)
        public static let tiny = Config(base: .tiny, useCache: false,
                                        full: SFTRecipe(steps: 20, batchSize: 8, learningRate: 3e-3),
                                        lora: SFTRecipe(steps: 20, batchSize: 8, learningRate: 3e-3),
                                        sweepSettings: [(2, ["c_attn"])], sweep: SFTRecipe(steps: 10, batchSize: 8, learningRate: 3e-3),
                                        trainExamples: 60, testExamples: 6, replay: ReplayMix(share: 0.25, characters: 24), wideBase: nil,
                                        curveEvery: 5, curveExamples: 6)
    }

    /// One trained setup.
    public struct Run: Sendable {
        public var label: String
        public var trainable: Int
        public var fraction: Double
        public var score: TaskScore
        /// Peak bytes of all tensors during training (weights, gradients, optimizer state, activations).
        public var peakBytes: Int
        public var seconds: Double
        /// The budget: optimizer steps × examples per step.
        public var steps: Int, batchSize: Int
        /// Loss on the pretraining corpus's validation text after the fine-tune (what the base kept).
        public var corpusLoss: Float
        /// Validation accuracy and corpus loss every `curveEvery` steps (empty: not recorded).
        public var curve: [CurvePoint] = []
    }

    /// The chapter's numbers.
    public struct Report: Sendable {
        /// Mean relative Frobenius error of the best rank-r approximation of ΔW (fine-tuned) and of a
        /// random matrix of the same shapes, for each rank in `ranks`.
        public var ranks: [Int], updateError: [Double], randomError: [Double]
        public var full: Run, lora: Run
        /// Part 2's runs read at an equal task score (`ForgettingCurve.atEqualScore`; nil: no curves).
        public var atEqualScore: (target: Double, full: CurvePoint, lora: CurvePoint)?
        /// The same comparison on the wider base, when configured, and its equal-score reading.
        public var wideFull: Run?, wideLoRA: Run?
        public var wideAtEqualScore: (target: Double, full: CurvePoint, lora: CurvePoint)?
        public var sweep: [Run]
        public var mergeDifference: Float, unmergeDifference: Float
        /// The computed closing sentences of parts 1 and 2.
        public var conclusions: [String]
    }

    /// Runs the chapter, printing through `output`.
    @discardableResult
    public static func run(_ config: Config, output: @escaping (String) -> Void = { print($0) }) throws -> Report {
        output("Chapter 8 — LoRA: why low rank works\n")
        let setup = try ExperimentSetup.open(config.base, cached: config.useCache, trainExamples: config.trainExamples,
                                             testExamples: config.testExamples)
        let (base, tokenizer) = (setup.base, setup.tokenizer)
        let total = base.model.parameterCount()
        // The corpus text the runs are scored on, and the training examples (task plus replayed text of
        // that corpus) — both switched to the wide base's for its runs.
        var corpus = Pretraining.validationBatches(config.base, batchSize: 16, count: 4)
        var examples = config.replay?.apply(to: setup.train, corpus: config.base) ?? setup.train
        var conclusions: [String] = []
        func say(_ line: String) { conclusions.append(line.trimmingCharacters(in: .whitespacesAndNewlines)); output(line) }

        // Held-out examples for the curves: test-split prompts drawn with their own seed (nothing is chosen on them).
        let curveExamples = config.curveExamples > 0
            ? setup.task.examples(split: .test, count: config.curveExamples, seed: 3, world: base.world) : []

        /// Trains one setup under a memory meter (recording its learning–forgetting curve when `curve`).
        func measure(_ label: String, recipe: SFTRecipe, on baseModel: GPT? = nil, curve: Bool = false,
                     prepare: (GPT) throws -> Void) rethrows -> (Run, GPT) {
            let recorder = curve && config.curveEvery > 0 && !curveExamples.isEmpty
                ? ForgettingCurve(every: config.curveEvery, tokenizer: tokenizer, examples: curveExamples, corpus: corpus) : nil
            let run = try Experiment.measure(label, start: baseModel ?? base.model, tokenizer: tokenizer, examples: examples,
                                             recipe: recipe, tests: [setup.test], observer: recorder?.observer, prepare: prepare)
            return (Run(label: label, trainable: run.trainableParameters, fraction: run.trainableFraction, score: run.scores[0],
                        peakBytes: run.peakBytes, seconds: run.seconds, steps: run.log.count, batchSize: recipe.batchSize,
                        corpusLoss: run.model.meanLoss(on: corpus), curve: recorder?.points ?? []), run.model)
        }

        // 1. Full fine-tuning, and the rank structure of its update.
        let (full, fullModel) = measure("full fine-tuning", recipe: config.full, curve: true) { $0.setTrainable(true) }
        let ranks = [1, 2, 4, 8, 16]
        var updateError = [Double](repeating: 0, count: ranks.count), randomError = updateError
        var rng = RNG(seed: 11)
        let layers = LoRA.linearLayers(of: base.model).filter { !$0.path.hasSuffix("lm_head") }
        let tunedLayers = Dictionary(uniqueKeysWithValues: LoRA.linearLayers(of: fullModel).map { ($0.path, $0.layer) })
        for (path, layer) in layers {
            let tuned = tunedLayers[path]!.weight.values, original = layer.weight.values
            let delta = zip(tuned, original).map { Double($0 - $1) }
            let random = delta.map { _ in Double(rng.normal()) }
            let (rows, cols) = (layer.outFeatures, layer.inFeatures)
            let deltaSVD = SVD.decompose(delta, rows: rows, columns: cols), randomSVD = SVD.decompose(random, rows: rows, columns: cols)
            for (i, r) in ranks.enumerated() {
                updateError[i] += deltaSVD.relativeError(rank: r) / Double(layers.count)
                randomError[i] += randomSVD.relativeError(rank: r) / Double(layers.count)
            }
        }
        output("1. The full fine-tune's update ΔW = W_tuned − W_base, per linear layer, approximated at rank r")
        output("   (mean relative Frobenius error ‖ΔW − ΔW_r‖/‖ΔW‖ over \(layers.count) layers; a random matrix for contrast):")
        output("   rank   ΔW error   random error")
        for (i, r) in ranks.enumerated() {
            output(String(format: "   %4d   %8.3f   %12.3f", r, updateError[i], randomError[i]))
        }
        if let r8 = ranks.firstIndex(of: 8) {
            let (tuned, random) = (updateError[r8], randomError[r8])
            say(tuned < random - 0.1
                ? String(format: "   At rank 8 the update keeps all but %.0f%% of its norm, a random matrix all but %.0f%%: ΔW concentrates in a few "
                         + "directions, the bet LoRA makes.\n", tuned * 100, random * 100)
                : String(format: "   At rank 8 the update loses %.0f%% of its norm, about as much as a random matrix (%.0f%%): this ΔW is NOT "
                         + "low-rank, contrary to the bet LoRA makes.\n", tuned * 100, random * 100))
        }

        // 2. LoRA r = 8 on every linear layer vs full fine-tuning.
        let (lora, loraModel) = try measure("LoRA r=8, all linear", recipe: config.lora, curve: true) {
            try LoRA.add("default", to: $0, config: LoRAConfig(rank: 8, alpha: 16), seed: 3)
        }
        output("2. LoRA vs full fine-tuning (task: reverse a word; base has \(total) parameters; every run's examples: "
               + (config.replay.map { $0.description } ?? "the task alone, no replay") + "):")
        func show(_ run: Run) {
            output("   " + run.label.padding(toLength: 24, withPad: " ", startingAt: 0)
                   + String(format: "budget %4d × %-3d  trainable %7d (%5.2f%%)   accuracy %5.1f%%   corpus loss %6.3f   peak memory %7.2f MB   %5.1f s",
                            run.steps, run.batchSize, run.trainable, run.fraction * 100, run.score.accuracy * 100, run.corpusLoss,
                            Double(run.peakBytes) / 1e6, run.seconds))
        }
        /// LoRA against full fine-tuning, in words computed from the two runs.
        func compare(_ full: Run, _ lora: Run) -> String {
            let budget = full.steps * full.batchSize == lora.steps * lora.batchSize
                ? "at the same budget (\(full.steps) steps × \(full.batchSize))"
                : "at UNEQUAL budgets (full \(full.steps) × \(full.batchSize), LoRA \(lora.steps) × \(lora.batchSize)): not a fair comparison"
            guard full.score.accuracy > 0 else { return "   Full fine-tuning scored 0% \(budget): nothing to compare LoRA against." }
            let ratio = lora.score.accuracy / full.score.accuracy
            let losses = String(format: "corpus loss %.3f vs full's %.3f", lora.corpusLoss, full.corpusLoss)
            let forgetting = switch CorpusLossComparison(lora.corpusLoss, versus: full.corpusLoss) {
            case .lower: "and it kept more of the base (\(losses))"
            case .aboutTheSame: "and it kept about as much of the base (\(losses), within 0.01)"
            case .higher: "but it did NOT keep more of the base (\(losses))"
            }
            let verdict = ratio >= 0.9 ? "about as well as full fine-tuning" : "clearly less well than full fine-tuning — short of the claim"
            return String(format: "   LoRA reaches %.0f%% of full fine-tuning's accuracy with %.1f%% of the parameters trainable %@: it learns the task %@, %@.",
                          ratio * 100, lora.fraction * 100, budget, verdict, forgetting)
        }
        show(full)
        show(lora)
        say(compare(full, lora))
        let matched = ForgettingCurve.atEqualScore(full.curve, lora.curve)
        showCurves(full, lora, matched: matched, every: config.curveEvery, examples: curveExamples.count, output: output, say: say)
        var wideFull: Run?, wideLoRA: Run?, wideMatched: (target: Double, a: CurvePoint, b: CurvePoint)?
        if let wide = config.wideBase {
            let wideBase = try Pretraining.base(wide, cached: config.useCache)
            output("   The same comparison on a width-256 base (\(wideBase.model.parameterCount()) parameters, pretrained once and cached):")
            let (baseCorpus, baseExamples) = (corpus, examples)
            corpus = Pretraining.validationBatches(wide, batchSize: 16, count: 4)
            examples = config.replay?.apply(to: setup.train, corpus: wide) ?? setup.train
            defer { (corpus, examples) = (baseCorpus, baseExamples) }
            wideFull = measure("full fine-tuning, w256", recipe: config.full, on: wideBase.model, curve: true) { $0.setTrainable(true) }.0
            wideLoRA = try measure("LoRA r=8, all, w256", recipe: config.lora, on: wideBase.model, curve: true) {
                try LoRA.add("default", to: $0, config: LoRAConfig(rank: 8, alpha: 16), seed: 3)
            }.0
            if let wideFull, let wideLoRA {
                show(wideFull)
                show(wideLoRA)
                say(compare(wideFull, wideLoRA))
                wideMatched = ForgettingCurve.atEqualScore(wideFull.curve, wideLoRA.curve)
                showCurves(wideFull, wideLoRA, matched: wideMatched, every: config.curveEvery, examples: curveExamples.count,
                           output: output, say: say)
                say(String(format: "   The trainable share r·(in+out)/(in·out) fell from %.1f%% at width %d to %.1f%% at width %d.",
                           lora.fraction * 100, config.base.model.embeddingSize, wideLoRA.fraction * 100, wide.model.embeddingSize))
            }
        }
        output("")

        // 3. Rank × targets.
        output("3. Rank × target layers (budget \(config.sweep.steps) steps × \(config.sweep.batchSize) each):")
        var sweep: [Run] = []
        for (rank, targets) in config.sweepSettings {
            let label = "r=\(rank), \(targets.joined(separator: "+"))"
            let run = try measure(label, recipe: config.sweep) {
                try LoRA.add("default", to: $0, config: LoRAConfig(rank: rank, alpha: Float(2 * rank), targets: targets), seed: 3)
            }.0
            sweep.append(run)
            show(run)
        }

        // 4. Merge and unmerge.
        let ids = tokenizer.encode("reverse: lamo\n").map(Int32.init)
        let unmerged = Tensor.withNoGrad { loraModel(ids, batch: 1, steps: ids.count) }
        let before = LoRA.linearLayers(of: loraModel).map(\.layer.weight.values)
        try LoRA.merge("default", into: loraModel)
        let merged = Tensor.withNoGrad { loraModel(ids, batch: 1, steps: ids.count) }
        LoRA.unmerge("default", from: loraModel)
        let after = LoRA.linearLayers(of: loraModel).map(\.layer.weight.values)
        let mergeDifference = zip(merged.values, unmerged.values).map { abs($0 - $1) }.max() ?? 0
        let unmergeDifference = zip(before, after).map { zip($0, $1).map { abs($0 - $1) }.max() ?? 0 }.max() ?? 0
        output(String(format: "\n4. Merge: max |logits merged − unmerged| = %.2e; unmerge restores W to within %.2e.", mergeDifference, unmergeDifference))
        return Report(ranks: ranks, updateError: updateError, randomError: randomError, full: full, lora: lora,
                      atEqualScore: matched.map { ($0.target, $0.a, $0.b) }, wideFull: wideFull, wideLoRA: wideLoRA,
                      wideAtEqualScore: wideMatched.map { ($0.target, $0.a, $0.b) }, sweep: sweep,
                      mergeDifference: mergeDifference, unmergeDifference: unmergeDifference, conclusions: conclusions)
    }
}
