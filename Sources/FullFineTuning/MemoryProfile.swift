// MemoryProfile.swift — measuring a real training step's memory, role by role.
//
// Teaches: how to check the memory equation against reality: build the model under a memory meter,
// run two optimizer steps (the first allocates Adam's state), and read the peak bytes per role.
// Chapters 4 and 6 put these numbers next to `MemoryEstimator`'s.
// Leaves out: allocator overhead and memory outside tensors (the meter does not see them).
import Kernels
import Autodiff
import NN
import Optim

/// A training setup's measured and estimated memory.
public struct MemoryMeasurement: Sendable {
    public var label: String
    public var trainableParameters: Int
    public var totalParameters: Int
    /// Peak bytes per role seen by the meter during the steps.
    public var measured: MemoryBreakdown
    /// The estimator's bytes per role for the same setup.
    public var estimated: MemoryBreakdown
}

/// Measuring training memory (caseless namespace).
public enum MemoryProfile {
    /// Two AdamW steps of a fresh `config` model on a random batch [batch, steps] under a meter.
    public static func measure(label: String, config: GPTConfig, batch: Int, steps: Int, freeze: FreezeRule,
                               checkpointing: Bool, seed: UInt64) -> MemoryMeasurement {
        var rng = RNG(seed: seed)
        let ids = (0..<(batch * steps)).map { _ in Int32(rng.below(config.vocabularySize)) }
        let targets = (0..<(batch * steps)).map { _ in Int32(rng.below(config.vocabularySize)) }
        let meter = MemoryMeter()
        let (trainable, total) = meter.install { () -> (Int, Int) in
            var modelRNG = RNG(seed: seed)
            let model = GPT(config: config, rng: &modelRNG)
            model.checkpointActivations = checkpointing
            let trainable = freeze.apply(to: model)
            let optimizer = AdamW(model.namedParameters())
            for _ in 0..<2 {
                optimizer.zeroGrad()
                Tensor.crossEntropy(model(ids, batch: batch, steps: steps), targets: targets).backward()
                Tensor.withNoGrad { optimizer.step(learningRate: 1e-4) }
            }
            return (trainable, model.parameterCount())
        }
        let frozenPrefix: Int
        switch freeze {
        case .none: frozenPrefix = 0
        case .lastBlocks(let n, _): frozenPrefix = config.layers - n
        }
        let measured = MemoryBreakdown(weights: Double(meter.peakBytes(.weights)), gradients: Double(meter.peakBytes(.gradients)),
                                       optimizerState: Double(meter.peakBytes(.optimizerState)),
                                       activations: Double(meter.peakBytes(.activations)))
        let estimated = MemoryEstimator.training(
            parameters: Double(total), trainable: Double(trainable), weightBytes: 4, gradientBytes: 4, stateValues: 2, stateBytes: 4,
            activations: MemoryEstimator.activationBytes(config: config, batch: batch, steps: steps,
                                                         checkpointing: checkpointing, frozenPrefix: frozenPrefix))
        return MemoryMeasurement(label: label, trainableParameters: trainable, totalParameters: total,
                                 measured: measured, estimated: estimated)
    }

    /// The measured-vs-estimated table, one row per role.
    public static func table(_ measurements: [MemoryMeasurement]) -> [String] {
        func pad(_ text: String, _ width: Int) -> String {
            text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count)
        }
        func megabytes(_ bytes: Double) -> String { String(format: "%.2f MB", bytes / 1e6) }
        var lines = [pad("setup", 26) + pad("trainable", 11) + pad("role", 16) + pad("measured", 12) + pad("estimated", 12) + "ratio"]
        for m in measurements {
            let roles: [(String, Double, Double)] = [
                ("weights", m.measured.weights, m.estimated.weights),
                ("gradients", m.measured.gradients, m.estimated.gradients),
                ("optimizer state", m.measured.optimizerState, m.estimated.optimizerState),
                ("activations", m.measured.activations, m.estimated.activations)]
            for (index, (role, measured, estimated)) in roles.enumerated() {
                lines.append(pad(index == 0 ? m.label : "", 26) + pad(index == 0 ? "\(m.trainableParameters)" : "", 11)
                             + pad(role, 16) + pad(megabytes(measured), 12) + pad(megabytes(estimated), 12)
                             + (estimated > 0 ? String(format: "%.3f", measured / estimated) : "—"))
            }
        }
        return lines
    }
}
