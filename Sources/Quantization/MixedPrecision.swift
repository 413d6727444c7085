// MixedPrecision.swift — training in 16-bit with fp32 master weights and dynamic loss scaling.
//
// Teaches: the recipe of Micikevicius et al. (2018) behind every fp16/bf16 training run, emulated on
// the CPU so each of its three parts can be switched off and measured.
// 1. Master weights in fp32. The forward and backward passes use a 16-bit copy of the weights, but the
//    update is applied to fp32 values: in fp16, 1 + 1e-4 rounds back to 1, so small updates to
//    weights near 1 would simply vanish.
// 2. Loss scaling. Gradients are stored in 16-bit; fp16's smallest subnormal is 6e-8, and many
//    gradient values are smaller — they flush to zero. Multiplying the loss by S (say 2^12) multiplies
//    every gradient by S, lifting them into range; the update divides by S again in fp32.
// 3. Dynamic scale. Too large an S overflows to inf. So: if any gradient is inf/NaN, skip the step and
//    halve S; after `growthInterval` clean steps, double S. S hovers just below overflow.
// bf16 has fp32's exponent range, so it needs no loss scaling — only its 8-bit precision costs.
// Emulation: weights are rounded to the 16-bit format for the forward/backward and gradients are
// rounded to it before the checks; activations stay fp32 (a real fp16 kernel would round those too).
// Leaves out: fp8 training, per-tensor scaling, overflow in activations.
import Foundation
import Autodiff
import NN
import Optim
import Training

/// The format forward/backward compute is emulated in.
public enum ComputePrecision: String, Sendable, CaseIterable {
    case fp32, fp16, bf16

    /// x rounded to this format (round to nearest even; fp16 overflows to ±inf, underflows to 0).
    @inline(__always)
    public func round(_ x: Float) -> Float {
        switch self {
        case .fp32: return x
        case .fp16: return Float(Float16(x))
        case .bf16: return FloatFormat.bf16.round(x)
        }
    }
}

/// Dynamic loss scaling: the scale, and the rule that moves it.
public struct DynamicLossScaler: Sendable, Equatable {
    /// The current loss scale S.
    public var scale: Float
    /// Clean steps before the scale doubles.
    public var growthInterval: Int
    /// Clean steps since the last change.
    public var cleanSteps = 0
    /// Steps skipped because of inf/NaN gradients.
    public var skippedSteps = 0

    /// A scaler starting at `scale` (PyTorch's GradScaler starts at 2^16 and grows every 2000 steps).
    public init(scale: Float = 65536, growthInterval: Int = 2000) {
        self.scale = scale
        self.growthInterval = growthInterval
    }

    /// Updates the scale after a step; returns whether the optimizer step should be taken.
    public mutating func update(foundNonFinite: Bool) -> Bool {
        if foundNonFinite {
            // Overflow: skip this step, halve the scale, start counting again.
            scale /= 2
            cleanSteps = 0
            skippedSteps += 1
            return false
        }
        cleanSteps += 1
        if cleanSteps == growthInterval {
            scale *= 2
            cleanSteps = 0
        }
        return true
    }
}

/// One mixed-precision step on top of a `Trainer` (whose model, optimizer and schedule it uses).
public struct MixedPrecisionStep {
    /// The trainer supplying loss, optimizer and learning-rate schedule.
    public let trainer: Trainer
    public let precision: ComputePrecision
    /// nil: no loss scaling.
    public var scaler: DynamicLossScaler?
    /// false: the weights themselves live in the 16-bit format (rounded after every update) — the
    /// mistake master weights exist to prevent.
    public var keepsMasterWeights: Bool

    /// A step driver for `trainer` computing in `precision`, with optional dynamic loss scaling.
    public init(trainer: Trainer, precision: ComputePrecision, scaler: DynamicLossScaler?, keepsMasterWeights: Bool = true) {
        (self.trainer, self.precision, self.scaler, self.keepsMasterWeights) = (trainer, precision, scaler, keepsMasterWeights)
    }

    /// What one step did.
    public struct Outcome: Sendable {
        /// The (unscaled) loss.
        public var loss: Float
        /// Whether the update was applied (false: inf/NaN gradient, skipped).
        public var applied: Bool
        /// Fraction of nonzero fp32 gradient values that became 0 when rounded to the 16-bit format.
        public var underflowFraction: Double
        /// The loss scale used.
        public var scale: Float
    }

    /// Forward and backward with 16-bit weights and a scaled loss, then an fp32 master-weight update.
    public mutating func step(_ batch: some LanguageModelBatch) -> Outcome {
        let model = trainer.model, optimizer = trainer.optimizer
        let scale = scaler?.scale ?? 1
        optimizer.zeroGrad()
        // 1. The 16-bit weight copy: round every parameter in place, keeping the fp32 masters aside.
        let parameters = model.namedParameters().map(\.tensor)
        let masters = parameters.map(\.values)
        for p in parameters { for i in 0..<p.count { p.data[i] = precision.round(p.data[i]) } }
        // 2. Scaled loss, backward (the gradients are S·∂L/∂θ).
        let loss = trainer.loss(batch, training: true)
        (loss * scale).backward()
        for (p, master) in zip(parameters, masters) {
            master.withUnsafeBufferPointer { p.data.update(from: $0.baseAddress!, count: master.count) }
        }
        // 3. Gradients stored in 16 bits: count what flushes to zero, look for inf/NaN.
        var nonFinite = false, nonzero = 0, flushed = 0
        for (_, p) in optimizer.parameters {
            guard let g = p.grad?.data else { continue }
            for i in 0..<p.count where g[i] != 0 {
                nonzero += 1
                let rounded = precision.round(g[i])
                if rounded == 0 { flushed += 1 }
                if !rounded.isFinite { nonFinite = true }
                g[i] = rounded / scale          // unscale in fp32
            }
        }
        // 4. Skip or apply, and move the scale.
        var applied = !nonFinite
        if scaler != nil { applied = scaler!.update(foundNonFinite: nonFinite) }
        if applied {
            let step = trainer.optimizer.stepCount + 1
            if let clip = trainer.options.clipNorm { _ = GradientClipping.clip(optimizer.parameters.map(\.tensor), maxNorm: clip) }
            Tensor.withNoGrad { optimizer.step(learningRate: trainer.options.schedule.rate(at: step)) }
            if !keepsMasterWeights {
                // Without an fp32 copy, an update smaller than half a 16-bit step is rounded away.
                for (_, p) in optimizer.parameters { for i in 0..<p.count { p.data[i] = precision.round(p.data[i]) } }
            }
        }
        return Outcome(loss: loss.item, applied: applied,
                       underflowFraction: nonzero == 0 ? 0 : Double(flushed) / Double(nonzero), scale: scale)
    }
}

