// Chapter11Quantization.swift — Chapter 11: quantization after and during training (PTQ; QAT, mixed precision).
//
// The claims, measured on our base model:
// 1. PTQ: int8 costs almost nothing; int4 needs small groups (per channel or per block) to keep the
//    model; NF4 beats int4 at the same size. Fewer bits, more damage — we measure the corpus loss.
// 2. LLM.int8: a few outlier features ruin per-row int8; keeping their columns in fp16 fixes it.
// 3. QAT: at low bit widths, fine-tuning through fake-quantized weights keeps the task accuracy that
//    rounding after training loses.
// 4. Mixed precision: fp32 master weights and loss scaling are both needed for fp16; bf16 needs no
//    scaling (see Chapter11Quantization+MixedPrecision.swift).
// Leaves out: activation quantization, GPTQ/AWQ, fp8 training.
import Foundation
import Kernels
import Autodiff
import NN
import Optim
import Tokenizers
import Datasets
import Training
import Quantization
import Experiments

/// Chapter 11 — quantization after and during training.
public enum Chapter11Quantization {
    /// The experiment's knobs.
    public struct Config: Sendable {
        public var base: PretrainingRecipe
        public var useCache: Bool
        /// The full fine-tune that makes the task model QAT and PTQ start from.
        public var fineTune: SFTRecipe
        /// Extra steps given to both QAT and the PTQ control.
        public var qatSteps: Int
        /// Bit widths compared in the QAT experiment.
        public var qatBits: [Int]
        public var trainExamples: Int, testExamples: Int
        /// Steps of each mixed-precision run.
        public var mixedPrecisionSteps: Int

        public static let standard = Config(base: .standard, useCache: true,
                                            fineTune: SFTRecipe(steps: 400, batchSize: 32, learningRate: 5e-4),
                                            qatSteps: 150, qatBits: [4, 3, 2], trainExamples: 3000, testExamples: 100,
                                            mixedPrecisionSteps: 150)
        public static let tiny = Config(base: .tiny, useCache: false, fineTune: SFTRecipe(steps: 10, batchSize: 8, learningRate: 3e-3),
                                        qatSteps: 4, qatBits: [4], trainExamples: 40, testExamples: 4, mixedPrecisionSteps: 4)
    }

    /// One PTQ scheme applied to the whole base model.
    public struct PTQRow: Sendable {
        public var scheme: String
        public var bitsPerWeight: Double
        public var weightError: Double
        /// Corpus validation loss of the quantized model.
        public var loss: Float
    }

    /// PTQ vs QAT at one bit width.
    public struct QATRow: Sendable {
        public var bits: Int
        public var ptqAccuracy: Double, qatAccuracy: Double
    }

    /// The chapter's numbers.
    public struct Report: Sendable {
        public var fp32Loss: Float
        public var ptq: [PTQRow]
        public var int8PlainError: Double, int8DecomposedError: Double
        public var fineTunedAccuracy: Double
        public var qat: [QATRow]
        public var mixedPrecision: MixedPrecisionReport
    }

    /// Runs the chapter, printing through `output`.
    @discardableResult
    public static func run(_ config: Config, output: @escaping (String) -> Void = { print($0) }) throws -> Report {
        output("Chapter 11 — Quantization after and during training\n")
        let setup = try ExperimentSetup.open(config.base, cached: config.useCache, trainExamples: config.trainExamples,
                                             testExamples: config.testExamples)
        let (base, tokenizer, train, test) = (setup.base, setup.tokenizer, setup.train, setup.test)
        let validation = Pretraining.validationBatches(config.base, batchSize: 16, count: 4)

        // 1. PTQ of every linear weight but the head, scheme by scheme.
        let fp32Loss = base.model.meanLoss(on: validation)
        output("1. Post-training quantization of the base's linear weights (the head stays fp32):")
        output(String(format: "   scheme                  bits/weight   weight error   corpus loss   (fp32: %.3f)", fp32Loss))
        var ptq: [PTQRow] = []
        let schemes: [(String, Int, Granularity)] = [("int8 per tensor", 8, .tensor), ("int8 per channel", 8, .channel),
                                                      ("int4 per tensor", 4, .tensor), ("int4 per channel", 4, .channel),
                                                      ("int4 blocks of 64", 4, .block(64)), ("int3 per channel", 3, .channel)]
        for (name, bits, granularity) in schemes {
            let model = base.model.copy()
            let summary = try WeightQuantization.quantize(model, config: WeightQuantizationConfig(bits: bits, granularity: granularity))
            ptq.append(PTQRow(scheme: name, bitsPerWeight: Double(summary.packedBytes * 8) / Double(summary.fp32Bytes / 4),
                              weightError: summary.error.relativeRMSError, loss: model.meanLoss(on: validation)))
        }
        ptq.append(try nf4Row(base.model, validation: validation))
        for row in ptq {
            output("   " + row.scheme.padding(toLength: 24, withPad: " ", startingAt: 0)
                   + String(format: "%8.3f   %12.4f   %11.3f", row.bitsPerWeight, row.weightError, row.loss))
        }
        output(ptqVerdict(ptq, fp32Loss: fp32Loss) + "\n")

        // 2. LLM.int8 on activations with outlier features.
        let (plainError, decomposedError) = outlierDemo(output: output)

        // 3. QAT vs PTQ on a fine-tuned task model.
        let tuned = FineTuning.run(base: base.model, tokenizer: tokenizer, examples: train, recipe: config.fineTune).model
        let tunedAccuracy = TaskEvaluator.score(tuned, tokenizer: tokenizer, examples: test).accuracy
        output(String(format: "3. QAT vs PTQ (task: reverse a word; the fp32 fine-tune scores %.1f%%).", tunedAccuracy * 100))
        output("   Both get \(config.qatSteps) more training steps: PTQ in fp32 then rounds once; QAT trains through the rounding.")
        output("   bits (per channel)   PTQ accuracy   QAT accuracy")
        var qat: [QATRow] = []
        let extra = SFTRecipe(steps: config.qatSteps, batchSize: config.fineTune.batchSize, learningRate: config.fineTune.learningRate,
                              seed: 7)
        for bits in config.qatBits {
            let grid = WeightQuantizationConfig(bits: bits, granularity: .channel)
            let ptqModel = tuned.copy()
            ptqModel.setTrainable(true)
            _ = FineTuning.train(ptqModel, tokenizer: tokenizer, examples: train, recipe: extra)
            try WeightQuantization.quantize(ptqModel, config: grid)
            let qatModel = tuned.copy()
            qatModel.setTrainable(true)
            try WeightQuantization.prepareForQAT(qatModel, config: grid)
            _ = FineTuning.train(qatModel, tokenizer: tokenizer, examples: train, recipe: extra)
            try WeightQuantization.quantize(qatModel, config: grid)
            let row = QATRow(bits: bits, ptqAccuracy: TaskEvaluator.score(ptqModel, tokenizer: tokenizer, examples: test).accuracy,
                             qatAccuracy: TaskEvaluator.score(qatModel, tokenizer: tokenizer, examples: test).accuracy)
            qat.append(row)
            output(String(format: "   %4d                 %10.1f%%   %11.1f%%", bits, row.ptqAccuracy * 100, row.qatAccuracy * 100))
        }
        output(qatVerdict(qat, tunedAccuracy: tunedAccuracy) + "\n")

        // 4. Mixed precision.
        let mixed = try mixedPrecision(base: base, train: train, steps: config.mixedPrecisionSteps, output: output)
        return Report(fp32Loss: fp32Loss, ptq: ptq, int8PlainError: plainError, int8DecomposedError: decomposedError,
                      fineTunedAccuracy: tunedAccuracy, qat: qat, mixedPrecision: mixed)
    }

    /// The base with every linear weight but the head replaced by its NF4 (blocks of 64, DQ) round trip.
    static func nf4Row(_ base: GPT, validation: [Batch]) throws -> PTQRow {
        let model = base.copy()
        var original: [Float] = [], decoded: [Float] = [], bytes = 0
        for (_, layer) in WeightQuantization.layers(of: model) {
            let nf4 = try NF4Weight(layer.weight)
            let values = nf4.dequantized()
            original += layer.weight.values
            decoded += values
            bytes += nf4.byteCount
            values.withUnsafeBufferPointer { layer.weight.data.update(from: $0.baseAddress!, count: values.count) }
        }
        return PTQRow(scheme: "NF4 blocks of 64 + DQ", bitsPerWeight: Double(bytes * 8) / Double(original.count),
                      weightError: QuantizationErrorMetrics(original: original, approximation: decoded).relativeRMSError,
                      loss: model.meanLoss(on: validation))
    }

    /// Int8 with and without outlier decomposition on activations with two outlier features.
    static func outlierDemo(output: (String) -> Void) -> (plain: Double, decomposed: Double) {
        let (m, n, k) = (32, 64, 128)
        var rng = RNG(seed: 21)
        var x = (0..<m * k).map { _ in rng.normal() }
        // Features 17 and 90 carry magnitude ~40 in every token, as in large transformers.
        for i in 0..<m { x[i * k + 17] = 40 + 2 * rng.normal(); x[i * k + 90] = -30 + 2 * rng.normal() }
        let w = (0..<n * k).map { _ in rng.normal() * 0.05 }
        let exact: [Float] = (0..<m * n).map { index in
            let (i, j) = (index / n, index % n)
            return Float((0..<k).reduce(0.0) { $0 + Double(x[i * k + $1]) * Double(w[j * k + $1]) })
        }
        let plain = Int8Matmul.multiply(x, rows: m, w, outputs: n, inner: k, threshold: nil)
        let mixed = Int8Matmul.multiply(x, rows: m, w, outputs: n, inner: k, threshold: 6)
        let plainError = QuantizationErrorMetrics(original: exact, approximation: plain.y).relativeRMSError
        let mixedError = QuantizationErrorMetrics(original: exact, approximation: mixed.y).relativeRMSError
        output("2. LLM.int8 on synthetic activations [\(m), \(k)] with two outlier features (~40), W [\(n), \(k)]:")
        output(String(format: "   relative RMS error of X·Wᵀ: int8 per row %.4f;  int8 + %d outlier columns in fp16 %.4f",
                      plainError, mixed.outlierColumns.count, mixedError))
        output("   (Our 1M-parameter model has no such outliers; they emerge in transformers past ~6B parameters.)\n")
        return (plainError, mixedError)
    }
}

extension Chapter11Quantization {
    /// What the PTQ table shows, computed: does a finer scale help at 8 and 4 bits, and where does NF4 land?
    static func ptqVerdict(_ rows: [PTQRow], fp32Loss: Float) -> String {
        func loss(_ scheme: String) -> Float? { rows.first { $0.scheme == scheme }?.loss }
        var lines: [String] = []
        for bits in [8, 4] {
            guard let tensor = loss("int\(bits) per tensor"), let channel = loss("int\(bits) per channel") else { continue }
            lines.append(channel < tensor
                ? String(format: "   int%d: one scale per tensor costs %.3f nats of corpus loss, one per channel %.3f — the largest weight no "
                         + "longer sets the step for all.", bits, tensor - fp32Loss, channel - fp32Loss)
                : String(format: "   int%d: per-channel scales did NOT beat one scale per tensor here (%.3f vs %.3f).", bits, channel, tensor))
        }
        if let nf4 = rows.first(where: { $0.scheme.hasPrefix("NF4") }), let block = loss("int4 blocks of 64") {
            lines.append(nf4.loss <= block
                ? String(format: "   NF4 (%.3f) is at or below int4 in blocks of 64 (%.3f): its 16 levels sit where normal weights are dense.", nf4.loss, block)
                : String(format: "   NF4 (%.3f) is worse than int4 in blocks of 64 (%.3f) on this model.", nf4.loss, block))
        }
        return lines.joined(separator: "\n")
    }

    /// What the QAT table shows, computed per bit width.
    static func qatVerdict(_ rows: [QATRow], tunedAccuracy: Double) -> String {
        rows.map { row in
            let verb = row.qatAccuracy > row.ptqAccuracy ? "beats" : row.qatAccuracy == row.ptqAccuracy ? "ties" : "does NOT beat"
            return String(format: "   %d bits: QAT %@ PTQ (%.0f%% vs %.0f%%; fp32 %.0f%%).", row.bits, verb, row.qatAccuracy * 100,
                          row.ptqAccuracy * 100, tunedAccuracy * 100)
        }.joined(separator: "\n") + "\n   (QAT's weights end on the grid they were trained on, so its final rounding changes nothing; PTQ's rounding is new.)"
    }
}
