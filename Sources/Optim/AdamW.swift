// AdamW.swift — Adam with decoupled weight decay (Loshchilov & Hutter, 2019).
//
// Teaches: the optimizer nearly every LLM is fine-tuned with, and its two state buffers:
//   m ← β₁m + (1−β₁)g            (first moment, "exp_avg")
//   v ← β₂v + (1−β₂)g²           (second moment, "exp_avg_sq")
//   m̂ = m/(1−β₁ᵗ), v̂ = v/(1−β₂ᵗ)  (bias correction: both start at 0)
//   θ ← θ − η·(m̂/(√v̂ + ε) + λθ)   (decay applied to θ directly, not through the gradient)
// Leaves out: AMSGrad, fused multi-tensor kernels; 8-bit states live in the Quantization module.
import Foundation
import Autodiff
import Kernels

/// AdamW over the trainable parameters it is given.
public final class AdamW: Optimizer {
    public let parameters: [(name: String, tensor: Tensor)]
    public let beta1: Float, beta2: Float, epsilon: Float, weightDecay: Float
    public private(set) var stepCount = 0
    private let firstMoment: [Tensor]
    private let secondMoment: [Tensor]
    /// Which parameters get weight decay (by convention: matrices yes, biases and norm scales no).
    private let decays: [Bool]

    /// AdamW with PyTorch's defaults (β = 0.9, 0.999; ε = 1e-8) and weight decay λ applied to
    /// parameters of rank ≥ 2 only.
    public init(_ parameters: [(name: String, tensor: Tensor)], beta1: Float = 0.9, beta2: Float = 0.999,
                epsilon: Float = 1e-8, weightDecay: Float = 0.01) {
        self.parameters = parameters.filter { $0.tensor.requiresGrad }
        (self.beta1, self.beta2, self.epsilon, self.weightDecay) = (beta1, beta2, epsilon, weightDecay)
        firstMoment = makeState(like: self.parameters)
        secondMoment = makeState(like: self.parameters)
        decays = self.parameters.map { $0.tensor.rank >= 2 }
    }

    public var stateValuesPerParameter: Int { 2 }

    public func step(learningRate: Float) {
        stepCount += 1
        // Bias corrections for this step, folded into the step size and ε (as PyTorch does).
        let correction1 = 1 - Foundation.pow(beta1, Float(stepCount))
        let correction2 = 1 - Foundation.pow(beta2, Float(stepCount))
        let stepSize = learningRate / correction1
        let rootCorrection2 = correction2.squareRoot()
        for (index, (_, p)) in parameters.enumerated() {
            guard let grad = p.grad else { continue }
            let (theta, g) = (p.data, grad.data)
            let (m, v) = (firstMoment[index].data, secondMoment[index].data)
            let decay = decays[index] ? 1 - learningRate * weightDecay : 1
            // θ·(1 − ηλ) − η·m̂/(√v̂ + ε), with √v̂ = √v/√(1−β₂ᵗ): one vectorised, threaded pass (Kernels).
            AdamWUpdate.step(theta: theta, gradient: g, m: m, v: v, count: p.count, beta1: beta1, beta2: beta2,
                             epsilon: epsilon, stepSize: stepSize, rootCorrection2: rootCorrection2, decay: decay)
        }
    }

    public func stateTensors() -> [(name: String, tensor: Tensor)] {
        zip(parameters, firstMoment).map { ($0.0.name + ".exp_avg", $0.1) }
            + zip(parameters, secondMoment).map { ($0.0.name + ".exp_avg_sq", $0.1) }
    }

    public func loadState(_ tensors: [String: [Float]], stepCount: Int) throws {
        try OptimizerStateError.checkStepCount(stepCount)
        try restore([("exp_avg", firstMoment), ("exp_avg_sq", secondMoment)], parameters: parameters, from: tensors,
                    nonNegative: ["exp_avg_sq"])
        self.stepCount = stepCount
    }
}
