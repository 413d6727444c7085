// Chapter04Memory.swift — Chapter 4: where the memory goes.
//
// The claim: training needs far more memory than serving, and the surplus is gradients, optimizer
// state and activations — most of it tied to the number of *trainable* parameters. This chapter
// first evaluates the equation for the book's model sizes, then runs real training steps of our own
// GPT under the memory meter, full fine-tuning versus a frozen base, and puts the measured bytes per
// role next to the estimator's prediction.
// Leaves out: mixed precision (Chapter 11) and PEFT (Chapters 7–9), which attack the same terms.
import Foundation
import Autodiff
import NN
import Optim
import FullFineTuning

/// Chapter 4 — the training-memory equation, estimated and measured.
public enum Chapter04Memory {
    /// What to measure.
    public struct Config: Sendable {
        /// The model whose training step is measured.
        public var model: GPTConfig
        /// Batch rows and sequence length of the step.
        public var batch: Int, steps: Int
        public var seed: UInt64

        /// The bench's reference config: vocab 256, 4 layers, 4 heads, width 256, context 128, batch 16.
        public static let standard = Config(
            model: .gpt2(vocabularySize: 256, contextLength: 128, embeddingSize: 256, layers: 4, heads: 4),
            batch: 16, steps: 128, seed: 4)
        /// A seconds-long version for smoke tests.
        public static let tiny = Config(
            model: .gpt2(vocabularySize: 32, contextLength: 16, embeddingSize: 32, layers: 2, heads: 2),
            batch: 2, steps: 16, seed: 4)
    }

    /// The chapter's numbers.
    public struct Report: Sendable {
        /// The book's table: model size → (fp16 inference, full Adam training, 1B-trainable training) in bytes.
        public var presetRows: [(name: String, inference: Double, fullTraining: Double, partialTraining: Double)]
        /// Our model measured: full fine-tuning, last block only, full with activation checkpointing.
        public var measurements: [MemoryMeasurement]
        public var totalParameters: Int
    }

    /// Runs the chapter, printing its narrative through `output`.
    @discardableResult
    public static func run(_ config: Config, output: (String) -> Void = { print($0) }) -> Report {
        output("Chapter 4 — Where the memory goes\n")
        output("The equation: inference ≈ N·bytes·1.2; training = weights + gradients + optimizer state + activations.")
        output("Adam keeps 2 values per trainable parameter; gradients 1. Frozen parameters need neither.\n")

        // 1. The book's model sizes (fp16 weights; gradients and Adam states in fp16, as in the book's example).
        output(pad("model", 7) + pad("fp16 weights", 14) + pad("serve (×1.2)", 14) + pad("train all (Adam)", 18) + "train 1B of it")
        var rows: [(String, Double, Double, Double)] = []
        for preset in ModelSize.presets {
            let n = preset.parameters
            let serve = MemoryEstimator.inference(parameters: n, bytesPerParameter: 2)
            let all = MemoryEstimator.training(parameters: n, trainable: n, weightBytes: 2, gradientBytes: 2,
                                               stateValues: 2, stateBytes: 2)
            let partial = MemoryEstimator.training(parameters: n, trainable: 1e9, weightBytes: 2, gradientBytes: 2,
                                                   stateValues: 2, stateBytes: 2)
            rows.append((preset.name, serve, all.total, partial.total))
            output(pad(preset.name, 7) + pad(gigabytes(n * 2), 14) + pad(gigabytes(serve), 14)
                   + pad(gigabytes(all.total), 18) + gigabytes(partial.total))
        }
        output("(13B: 26 GB of weights; 78 GB more for gradients + Adam states when all of it trains, 6 GB when 1B does.)\n")

        // 2. Our own model, measured during real training steps.
        let last = FreezeRule.lastBlocks(1, trainEmbeddings: false)
        let measurements = [("full fine-tuning", FreezeRule.none, false), ("last block only", last, false),
                            ("full + checkpointing", FreezeRule.none, true)].map { label, freeze, checkpointing in
            MemoryProfile.measure(label: label, config: config.model, batch: config.batch, steps: config.steps,
                                  freeze: freeze, checkpointing: checkpointing, seed: config.seed)
        }
        let total = measurements[0].totalParameters
        output("Our GPT (\(total) parameters, fp32), AdamW steps on a batch [\(config.batch), \(config.steps)] — peak bytes per role:")
        for line in MemoryProfile.table(measurements) { output(line) }
        output("""

        Reading the table: weights and optimizer state match the equation to the byte. Measured gradients
        exceed trainable×4 bytes because backward also holds short-lived gradients of intermediate tensors
        (the largest is the logits' gradient, [B·T, V]); activations follow our op-by-op count. Freezing all
        but the last block removes most gradient and optimizer bytes — and most activations too, because ops
        on frozen layers record nothing for backward. Checkpointing removes most activations at the cost of one
        extra forward pass per block.
        """)
        return Report(presetRows: rows, measurements: measurements, totalParameters: total)
    }

    static func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count)
    }
    static func gigabytes(_ bytes: Double) -> String { String(format: "%.1f GB", bytes / 1e9) }
}
