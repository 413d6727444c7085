// Chapter12QLoRA.swift — Chapter 12: QLoRA — fine-tuning on a 4-bit base.
//
// The claims, measured:
// 1. NF4 fits normally distributed weights better than evenly spaced int4 at the same 4 bits, and
//    double quantization brings the cost of the block scales from 0.5 to ~0.127 bits per weight.
// 2. QLoRA learns the task as well as LoRA on the fp32 base (same seed, same steps), while the frozen
//    weights take ~0.13x the bytes — measured by the memory meter, not computed.
// 3. 8-bit AdamW cuts the optimizer state ~3.9x more.
// Next to them, full fine-tuning at the same budget (at its own learning rate), with every row's corpus
// loss: the known result is that LoRA learns less and forgets less — the chapter prints whether it
// did here. Every run mixes the same share of replayed pretraining text into its examples (Chapter 5's
// remedy; the rates, steps and replay are Chapter 8's, so its full and LoRA rows reappear here), so
// the comparison is made with the base kept, not wrecked. The runs also record learning–forgetting
// curves (held-out accuracy and corpus loss every 50 steps), so each adapter is compared with full
// fine-tuning at an equal task score too (Experiments/ForgettingCurve.swift), not only at the end.
// Every sentence about the results is computed from them.
// 4. At 7B–65B parameters (estimated with the memory equation) this is what fits a 65B fine-tune on
//    one 48 GB GPU.
// Leaves out: paged optimizers, a GPU, models big enough for the savings to dominate activations.
import Foundation
import NN
import Training
import FullFineTuning
import PEFT
import Quantization
import Experiments

/// Chapter 12 — QLoRA.
public enum Chapter12QLoRA {
    /// The experiment's knobs.
    public struct Config: Sendable {
        public var base: PretrainingRecipe
        public var useCache: Bool
        /// Training recipe shared by LoRA and QLoRA (the same steps, batches and seed).
        public var recipe: SFTRecipe
        /// Full fine-tuning's learning rate (same steps and batch as `recipe`).
        public var fullLearningRate: Float
        public var rank: Int
        public var trainExamples: Int, testExamples: Int
        /// Pretraining text mixed into every run's training examples (nil: the task alone).
        public var replay: ReplayMix?
        /// Steps between the learning–forgetting curve points of part 2 (0: none), and the held-out task
        /// examples they are scored on.
        public var curveEvery: Int = 0, curveExamples: Int = 0

        public static let standard = Config(base: .standard, useCache: true,
                                            recipe: SFTRecipe(steps: 600, batchSize: 32, learningRate: 1.5e-3, bucketed: true),
                                            fullLearningRate: 5e-4, rank: 8, trainExamples: 3000, testExamples: 100,
                                            replay: ReplayMix(share: 0.25, characters: 128), curveEvery: 50, curveExamples: 100)
        public static let tiny = Config(base: .tiny, useCache: false, recipe: SFTRecipe(steps: 12, batchSize: 8, learningRate: 3e-3),
                                        fullLearningRate: 1e-3, rank: 2, trainExamples: 40, testExamples: 4,
                                        replay: ReplayMix(share: 0.25, characters: 24), curveEvery: 4, curveExamples: 4)
    }

    /// One trained setup, measured.
    public struct Run: Sendable {
        public var label: String
        public var score: TaskScore
        /// Bytes the meter counted as weights after preparing the model (frozen base + adapters).
        public var weightBytes: Int
        /// Bytes of the frozen base's linear weights (fp32, or packed NF4).
        public var frozenLinearBytes: Int
        /// Optimizer-state bytes at the end of training, and the peak of everything during training.
        public var optimizerBytes: Int, peakBytes: Int
        public var seconds: Double
        /// Loss on the pretraining corpus's validation text after the fine-tune (what the base kept).
        public var corpusLoss: Float
        /// Held-out accuracy and corpus loss every `curveEvery` steps (empty: not recorded).
        public var curve: [CurvePoint] = []
    }

    /// The chapter's numbers.
    public struct Report: Sendable {
        /// Relative RMS error of the base's linear weights: NF4 and int4 absmax, both in blocks of 64.
        public var nf4Error: Double, int4Error: Double
        /// Bits per weight, without and with double quantization.
        public var bitsPlain: Double, bitsDoubleQuantized: Double
        public var full: Run, lora: Run, qlora: Run, qlora8bit: Run
        /// The unigram baseline of the corpus (a corpus loss above it: the base's knowledge is gone).
        public var unigramBaseline: Double
        public var conclusions: [String]
        /// Estimated GB for (model, full, LoRA, QLoRA) rows.
        public var estimates: [(model: String, full: Double, lora: Double, qlora: Double)]
    }

    /// Runs the chapter, printing through `output`.
    @discardableResult
    public static func run(_ config: Config, output: @escaping (String) -> Void = { print($0) }) throws -> Report {
        output("Chapter 12 — QLoRA: fine-tuning on a 4-bit base\n")
        let setup = try ExperimentSetup.open(config.base, cached: config.useCache, trainExamples: config.trainExamples,
                                             testExamples: config.testExamples)
        let base = setup.base

        // 1. NF4 vs int4 on the base's own weights.
        let linears = WeightQuantization.layers(of: base.model)
        let weights = linears.flatMap(\.layer.weight.values)
        var nf4Values: [Float] = [], plainBits = 0.0, dqBits = 0.0
        for (_, layer) in linears {
            let plain = try NF4Weight(layer.weight, doubleQuantize: false), dq = try NF4Weight(layer.weight)
            nf4Values += dq.dequantized()
            plainBits += plain.bitsPerParameter * Double(layer.weight.count) / Double(weights.count)
            dqBits += dq.bitsPerParameter * Double(layer.weight.count) / Double(weights.count)
        }
        let int4 = try PostTrainingQuantization.quantize(weights, rows: 1, columns: weights.count, bits: 4, granularity: .block(64))
        let nf4Error = QuantizationErrorMetrics(original: weights, approximation: nf4Values).relativeRMSError
        let int4Error = QuantizationErrorMetrics(original: weights, approximation: int4.dequantized()).relativeRMSError
        output("1. The base's \(weights.count) linear weights in 4 bits (blocks of 64):")
        output(String(format: "   relative RMS error: NF4 %.4f   int4 absmax %.4f   (%@)", nf4Error, int4Error,
                      nf4Error < int4Error ? "NF4 is closer: its levels follow the bell curve" : "NF4 is NOT closer on these weights"))
        output(String(format: "   bits per weight: %.3f with fp32 block scales, %.3f with double quantization\n", plainBits, dqBits))

        // 2. LoRA on the fp32 base vs QLoRA (and QLoRA with 8-bit AdamW), each under its own memory meter.
        let lora = LoRAConfig(rank: config.rank, alpha: Float(2 * config.rank))
        /// One setup under its own meter; `prepare` returns the frozen linear weights' bytes. The peak is
        /// training's alone (after preparing), the same for every setup.
        let corpus = Pretraining.validationBatches(config.base, batchSize: 16, count: 4)
        let examples = config.replay?.apply(to: setup.train, corpus: config.base) ?? setup.train
        // Held-out examples for the curves: test-split prompts drawn with their own seed (nothing is chosen on them).
        let curveExamples = config.curveExamples > 0
            ? setup.task.examples(split: .test, count: config.curveExamples, seed: 3, world: base.world) : []
        func measure(_ label: String, optimizer: OptimizerChoice = .adamW, learningRate: Float? = nil,
                     prepare: (GPT) throws -> Int) throws -> Run {
            var frozen = 0, recipe = config.recipe
            recipe.learningRate = learningRate ?? recipe.learningRate
            let curve = config.curveEvery > 0 && !curveExamples.isEmpty
                ? ForgettingCurve(every: config.curveEvery, tokenizer: setup.tokenizer, examples: curveExamples, corpus: corpus) : nil
            let run = try Experiment.measure(label, start: base.model, tokenizer: setup.tokenizer, examples: examples,
                                             recipe: recipe, optimizer: optimizer, tests: [setup.test],
                                             observer: curve?.observer) { frozen = try prepare($0) }
            return Run(label: label, score: run.scores[0], weightBytes: run.weightBytes, frozenLinearBytes: frozen,
                       optimizerBytes: run.optimizerStateBytes, peakBytes: run.trainingPeakBytes, seconds: run.seconds,
                       corpusLoss: run.model.meanLoss(on: corpus), curve: curve?.points ?? [])
        }
        let fp32Linear = linears.map(\.layer.weight.byteCount).reduce(0, +)
        let fullRun = try measure("full fine-tuning", learningRate: config.fullLearningRate) { model in
            model.setTrainable(true)
            return fp32Linear
        }
        let loraRun = try measure("LoRA, fp32 base") { model in
            try LoRA.add("default", to: model, config: lora, seed: 3)
            return fp32Linear
        }
        let qloraRun = try measure("QLoRA, NF4+DQ base") { model in
            try QLoRA.prepare(model, adapter: "default", config: QLoRAConfig(lora: lora), seed: 3).quantizedBytes
        }
        let qlora8Run = try measure("QLoRA + 8-bit AdamW", optimizer: .adamW8bit) { model in
            try QLoRA.prepare(model, adapter: "default", config: QLoRAConfig(lora: lora), seed: 3).quantizedBytes
        }
        output("2. LoRA r=\(config.rank) on every linear layer, same seed and budget (\(config.recipe.steps) steps × \(config.recipe.batchSize); "
               + "task: reverse a word; LoRA lr \(config.recipe.learningRate), full lr \(config.fullLearningRate); every run's examples: "
               + (config.replay.map { $0.description } ?? "the task alone, no replay") + "):")
        output("   setup                  accuracy   corpus loss   frozen linear   all weights   optimizer     peak      time")
        for run in [fullRun, loraRun, qloraRun, qlora8Run] {
            output("   " + run.label.padding(toLength: 22, withPad: " ", startingAt: 0)
                   + String(format: " %6.1f%%   %11.3f   %9.1f KB   %8.1f KB   %7.1f KB   %6.2f MB   %5.1f s", run.score.accuracy * 100,
                            run.corpusLoss, Double(run.frozenLinearBytes) / 1e3, Double(run.weightBytes) / 1e3,
                            Double(run.optimizerBytes) / 1e3, Double(run.peakBytes) / 1e6, run.seconds))
        }
        var conclusions = forgettingConclusions(full: fullRun, adapters: [loraRun, qloraRun], baseline: base.unigramBaseline)
        conclusions.forEach { output("   " + $0) }
        // The same runs at an equal task score, read off their curves (each adapter against full fine-tuning).
        if !fullRun.curve.isEmpty {
            output("   While training (every \(config.curveEvery) steps; accuracy on \(curveExamples.count) held-out examples / corpus loss):")
            ForgettingCurve.table([fullRun, loraRun, qloraRun, qlora8Run].map { ($0.label, $0.curve) }).forEach(output)
            for run in [loraRun, qloraRun, qlora8Run] {
                let sentence = ForgettingCurve.sentence(ForgettingCurve.atEqualScore(fullRun.curve, run.curve), method: run.label,
                                                        reference: "full fine-tuning")
                output(sentence)
                conclusions.append(sentence.trimmingCharacters(in: .whitespaces))
            }
        }
        output(String(format: "   frozen linear weights: %.3fx of fp32; accuracy QLoRA − LoRA: %+.1f points",
                      Double(qloraRun.frozenLinearBytes) / Double(loraRun.frozenLinearBytes),
                      (qloraRun.score.accuracy - loraRun.score.accuracy) * 100))
        output(String(format: "   8-bit AdamW states: %.1fx smaller than fp32 AdamW's", Double(qloraRun.optimizerBytes) / Double(qlora8Run.optimizerBytes)))
        let peakShare = Double(qloraRun.weightBytes) / Double(max(qloraRun.peakBytes, 1))
        output(String(format: "   Weights are %.0f%% of QLoRA's training peak here%@\n", peakShare * 100,
                      peakShare < 0.5 ? " — activations and the fp32 embeddings dominate at this size; the weight column is what scales." : "."))

        // 3. The same choice at the sizes people fine-tune.
        let estimates = estimatedTable(rank: 16)
        output("3. Estimated training memory without activations, LoRA/QLoRA r=16 on all linear layers (GB):")
        output("   full: bf16 weights + bf16 gradients + fp32 Adam (12 B/param); LoRA: bf16 base; QLoRA: NF4+DQ base")
        output("   adapters in fp32 with gradients and Adam states (16 B per adapter parameter)")
        output("   model     full     LoRA    QLoRA")
        for row in estimates {
            output("   " + row.model.padding(toLength: 6, withPad: " ", startingAt: 0)
                   + String(format: "%8.1f %8.1f %8.1f", row.full, row.lora, row.qlora))
        }
        if let big = estimates.first(where: { $0.model == "65B" }) {
            output(String(format: "   By this estimate a 65B QLoRA fine-tune needs %.1f GB without activations — %@ 48 GB (the paper's measured "
                          + "figure, with activations, is ~41 GB).", big.qlora, big.qlora < 48 ? "under" : "NOT under"))
        }
        return Report(nf4Error: nf4Error, int4Error: int4Error, bitsPlain: plainBits, bitsDoubleQuantized: dqBits,
                      full: fullRun, lora: loraRun, qlora: qloraRun, qlora8bit: qlora8Run,
                      unigramBaseline: base.unigramBaseline, conclusions: conclusions, estimates: estimates)
    }

    /// Full fine-tuning against the adapters, in sentences computed from the runs: task score, corpus loss,
    /// and whether any run left the corpus loss above the unigram baseline.
    static func forgettingConclusions(full: Run, adapters: [Run], baseline: Double) -> [String] {
        var lines: [String] = []
        for run in adapters {
            let task = String(format: "%.0f%% vs full's %.0f%%", run.score.accuracy * 100, full.score.accuracy * 100)
            let losses = String(format: "corpus loss %.3f vs full's %.3f", run.corpusLoss, full.corpusLoss)
            let kept = switch CorpusLossComparison(run.corpusLoss, versus: full.corpusLoss) {
            case .lower: "forgot less (\(losses))"
            case .aboutTheSame: "forgot about as much (\(losses), within 0.01)"
            case .higher: "did NOT forget less (\(losses))"
            }
            lines.append("\(run.label): task \(task); it \(kept).")
        }
        let above = ([full] + adapters).filter { Double($0.corpusLoss) > baseline }.map(\.label)
        lines.append(above.isEmpty ? String(format: "Every run kept the corpus loss below the unigram baseline (%.3f).", baseline)
                     : String(format: "Above the unigram baseline (%.3f), i.e. the base's knowledge wrecked: ", baseline) + above.joined(separator: ", ") + ".")
        return lines
    }

    /// Full / LoRA / QLoRA training bytes (GB, no activations) for the Llama presets of 7B–65B.
    public static func estimatedTable(rank: Int) -> [(model: String, full: Double, lora: Double, qlora: Double)] {
        ModelSize.presets.filter { $0.name != "70B" }.map { size in
            // Llama's MLP width: 8/3 of the model width, rounded up to a multiple of 256.
            let width = Double(size.width)
            let mlp = (8.0 / 3 * width / 256).rounded(.up) * 256
            // q, k, v, o: 4 × r(w + w); gate, up: 2 × r(w + mlp); down: r(mlp + w).
            let adapter = Double(rank) * (4 * 2 * width + 3 * (width + mlp)) * Double(size.layers)
            let full = MemoryEstimator.training(parameters: size.parameters, trainable: size.parameters, weightBytes: 2,
                                                gradientBytes: 2, stateValues: 2, stateBytes: 4).total
            let adapterBytes = MemoryEstimator.training(parameters: adapter, trainable: adapter, weightBytes: 4,
                                                        gradientBytes: 4, stateValues: 2, stateBytes: 4).total
            let lora = size.parameters * 2 + adapterBytes
            let qlora = size.parameters * 4.127 / 8 + adapterBytes
            return (size.name, full / 1e9, lora / 1e9, qlora / 1e9)
        }
    }
}
