// Normalization.swift — LayerNorm (GPT-2) and RMSNorm (Llama) as modules.
//
// Teaches: normalisation layers carry a few parameters per feature (γ, and β for LayerNorm). They
// are tiny — BitFit-style methods train exactly such small vectors.
// Leaves out: batch norm (not used in language models).
import Autodiff

/// Layer normalisation over the last axis with learned scale γ and shift β.
public final class LayerNorm: Module {
    /// γ [C], initialised to 1.
    public var weight: Tensor
    /// β [C], initialised to 0 (nil when the layer has no bias).
    public var bias: Tensor?
    /// Added to the variance for stability.
    public let eps: Float

    /// A layer norm over `features`.
    public init(_ features: Int, bias: Bool = true, eps: Float = 1e-5) {
        weight = makeParameter(Tensor(repeating: 1, shape: [features]))
        self.bias = bias ? makeParameter(Tensor(zeros: [features])) : nil
        self.eps = eps
    }

    public var localParameters: [(name: String, tensor: Tensor)] {
        [("weight", weight)] + (bias.map { [("bias", $0)] } ?? [])
    }
    public var children: [(name: String, module: any Module)] { [] }

    /// Normalised x, same shape.
    public func callAsFunction(_ x: Tensor) -> Tensor { x.layerNorm(gamma: weight, beta: bias, eps: eps) }
}

/// Root-mean-square normalisation over the last axis with learned scale γ (no centring, no β).
public final class RMSNorm: Module {
    /// γ [C], initialised to 1.
    public var weight: Tensor
    /// Added to the mean square for stability.
    public let eps: Float

    /// An RMS norm over `features`.
    public init(_ features: Int, eps: Float = 1e-5) {
        weight = makeParameter(Tensor(repeating: 1, shape: [features]))
        self.eps = eps
    }

    public var localParameters: [(name: String, tensor: Tensor)] { [("weight", weight)] }
    public var children: [(name: String, module: any Module)] { [] }

    /// Normalised x, same shape.
    public func callAsFunction(_ x: Tensor) -> Tensor { x.rmsNorm(gamma: weight, eps: eps) }
}
