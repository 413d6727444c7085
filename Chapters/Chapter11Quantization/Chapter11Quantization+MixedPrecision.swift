// Chapter11Quantization+MixedPrecision.swift — section 4 of Chapter 11: why fp16 training needs fp32
// master weights and loss scaling, and why bf16 needs no scaling.
//
// Measured: (a) the rounding that swallows small updates; (b) the fraction of real gradient values
// that flush to zero in fp16 at each loss scale; (c) the same fine-tune run six ways.
// Leaves out: real 16-bit kernels (compute is emulated by rounding weights and gradients).
import Foundation
import Autodiff
import NN
import Optim
import Tokenizers
import Datasets
import Training
import Quantization

/// Section 4's numbers.
public struct MixedPrecisionReport: Sendable {
    /// fp16(1 + 1e-4) and bf16(1 + 1e-3).
    public var fp16OnePlusSmall: Float, bf16OnePlusSmall: Float
    /// (loss scale, fraction of nonzero gradient values flushed to zero in fp16) on the base model.
    public var underflow: [(scale: Float, fraction: Double)]
    /// One row per training setup: mean loss of the last steps, skipped steps, final scale.
    public var runs: [(label: String, loss: Float, skipped: Int, finalScale: Float?)]
}

extension Chapter11Quantization {
    /// Runs section 4 on the base model and the task's training examples.
    static func mixedPrecision(base: BaseModel, train: [SFTExample], steps: Int,
                               output: (String) -> Void) throws -> MixedPrecisionReport {
        // (a) Rounding swallows small updates.
        let fp16Sum = ComputePrecision.fp16.round(1 + 1e-4), bf16Sum = ComputePrecision.bf16.round(1 + 1e-3)
        output("4. Mixed precision (16-bit compute emulated by rounding weights and gradients; activations fp32).")
        output(String(format: "   fp16: 1 + 1e-4 = %.6f;  bf16: 1 + 1e-3 = %.6f — an update below half a step vanishes,", fp16Sum, bf16Sum))
        output("   so the weights being updated must stay in fp32 (the master copy).")

        // (b) Gradient underflow by loss scale, on one batch of the task through the pretrained base.
        let tokenized = train.map { TokenizedExample($0, tokenizer: CharTokenizer.builtIn) }
        let context = min(base.model.config.contextLength, tokenized.map(\.ids.count).max()! - 1)
        let batches = SFTBatchSource(examples: tokenized, batchSize: 32, contextLength: context, seed: 5)
        func makeTrainer(_ model: GPT) -> Trainer {
            Trainer(model: model, optimizer: AdamW(model.namedParameters()),
                    options: TrainerOptions(steps: steps, learningRate: 5e-4, seed: 5))
        }
        var underflow: [(scale: Float, fraction: Double)] = []
        for scale: Float in [1, 0x1p8, 0x1p12, 0x1p16] {
            let model = base.model.copy()
            model.setTrainable(true)
            var step = MixedPrecisionStep(trainer: makeTrainer(model), precision: .fp16, scaler: DynamicLossScaler(scale: scale))
            var source = batches
            underflow.append((scale, step.step(source.nextBatch()).underflowFraction))
        }
        output("   Nonzero gradient values that flush to zero in fp16, by loss scale S:")
        output("   " + underflow.map { String(format: "S = 2^%-2d %.3f%%", Int(log2($0.scale)), $0.fraction * 100) }.joined(separator: "   "))

        // (c) The same fine-tune, six ways.
        let setups: [(String, ComputePrecision, DynamicLossScaler?, Bool)] = [
            ("fp32", .fp32, nil, true),
            ("fp16, master weights, dynamic scaling", .fp16, DynamicLossScaler(scale: 0x1p24, growthInterval: 50), true),
            ("fp16, master weights, no scaling", .fp16, nil, true),
            ("fp16 weights only, dynamic scaling", .fp16, DynamicLossScaler(scale: 0x1p24, growthInterval: 50), false),
            ("bf16, master weights, no scaling", .bf16, nil, true),
            ("bf16 weights only, no scaling", .bf16, nil, false),
        ]
        output("   \(steps) fine-tuning steps from the base (lr 5e-4, same batches), mean loss of the last 20:")
        output("   setup                                      loss    skipped   final scale")
        var runs: [(label: String, loss: Float, skipped: Int, finalScale: Float?)] = []
        for (label, precision, scaler, masters) in setups {
            let model = base.model.copy()
            model.setTrainable(true)
            var step = MixedPrecisionStep(trainer: makeTrainer(model), precision: precision, scaler: scaler, keepsMasterWeights: masters)
            var source = batches
            var losses: [Float] = []
            for _ in 0..<steps { losses.append(step.step(source.nextBatch()).loss) }
            let tail = losses.suffix(20)
            let row = (label, tail.reduce(0, +) / Float(tail.count), step.scaler?.skippedSteps ?? 0, step.scaler?.scale)
            runs.append(row)
            output("   " + label.padding(toLength: 40, withPad: " ", startingAt: 0)
                   + String(format: "%7.4f   %7d   %@", row.1, row.2, row.3.map { String(format: "2^%d", Int(log2($0))) } ?? "—"))
        }
        let scaled = runs.filter { $0.finalScale != nil }
        output(scaled.allSatisfy { $0.skipped > 0 && ($0.finalScale ?? 0) < 0x1p24 }
               ? "   The scaler starts too high (2^24), skips the overflowing steps (" + scaled.map { "\($0.skipped)" }.joined(separator: ", ")
                 + ") and settles lower.\n"
               : "   The scaler did not skip and lower its scale in every run: " + scaled.map { "\($0.label): \($0.skipped) skipped" }.joined(separator: ", ") + ".\n")
        return MixedPrecisionReport(fp16OnePlusSmall: fp16Sum, bf16OnePlusSmall: bf16Sum, underflow: underflow, runs: runs)
    }
}
