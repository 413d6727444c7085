// Ops+Normalization.swift — layer norm, RMS norm and dropout.
//
// Teaches: the two normalisations of GPT-2 and Llama (their backward passes are in Kernels/Rows.swift)
// and dropout as a seeded random mask scaled by 1/(1−p) so expectations are unchanged. Rotary position
// embeddings, the other per-position transform of a Llama block, are in Ops+RoPE.swift.
// Leaves out: fused residual+norm, dropout inside attention kernels.
import Foundation
import Kernels

extension Tensor {
    /// Layer norm over the last axis: (x − μ)/√(σ² + eps)·γ + β. gamma, beta: [C] (beta optional).
    public func layerNorm(gamma: Tensor, beta: Tensor?, eps: Float = 1e-5) -> Tensor {
        let cols = shape.last ?? 0, rows = cols == 0 ? 0 : count / cols
        require(gamma.shape == [cols] && (beta == nil || beta!.shape == [cols]),
                     "layerNorm: gamma \(gamma.shape) / beta \(beta?.shape ?? []) must be [\(cols)] for input \(shape)")
        let out = Tensor(uninitialized: shape)
        // Per-row statistics saved for backward (tensors, so the memory meter counts them).
        let mean = Tensor(zeros: [rows]), rstd = Tensor(zeros: [rows])
        Norms.layerNormForward(data, gamma: gamma.data, beta: beta?.data, out.data, mean: mean.data, rstd: rstd.data,
                               rows: rows, cols: cols, eps: eps)
        return Tensor.record(.layerNorm, out, inputs: [self, gamma] + (beta.map { [$0] } ?? [])) { out in
            Norms.layerNormBackward(dy: out.grad!.data, x: self.data, mean: mean.data, rstd: rstd.data, gamma: gamma.data,
                                    dx: self.requiresGrad ? self.gradientBuffer() : nil,
                                    dgamma: gamma.requiresGrad ? gamma.gradientBuffer() : nil,
                                    dbeta: beta?.requiresGrad == true ? beta!.gradientBuffer() : nil,
                                    rows: rows, cols: cols)
        }
    }

    /// RMS norm over the last axis: x/√(mean(x²) + eps)·γ. gamma: [C].
    public func rmsNorm(gamma: Tensor, eps: Float = 1e-5) -> Tensor {
        let cols = shape.last ?? 0, rows = cols == 0 ? 0 : count / cols
        require(gamma.shape == [cols], "rmsNorm: gamma \(gamma.shape) must be [\(cols)] for input \(shape)")
        let out = Tensor(uninitialized: shape)
        let rstd = Tensor(zeros: [rows])
        Norms.rmsNormForward(data, gamma: gamma.data, out.data, rstd: rstd.data, rows: rows, cols: cols, eps: eps)
        return Tensor.record(.rmsNorm, out, inputs: [self, gamma]) { out in
            Norms.rmsNormBackward(dy: out.grad!.data, x: self.data, rstd: rstd.data, gamma: gamma.data,
                                  dx: self.requiresGrad ? self.gradientBuffer() : nil,
                                  dgamma: gamma.requiresGrad ? gamma.gradientBuffer() : nil, rows: rows, cols: cols)
        }
    }

    /// Zeroes each element with probability p and scales survivors by 1/(1−p). p = 0 returns self.
    /// The mask is drawn from `rng` on the calling thread, so it is reproducible for a seed.
    public func dropout(_ p: Float, rng: inout RNG) -> Tensor {
        require(p >= 0 && p < 1, "dropout: probability \(p) must be in [0, 1)")
        if p == 0 { return self }
        let keepScale = 1 / (1 - p)
        // The scaled keep-mask is saved for backward (a tensor, so the memory meter counts it).
        let maskTensor = Tensor(zeros: shape)
        for i in 0..<count { maskTensor.data[i] = rng.bernoulli(p) ? 0 : keepScale }
        let out = Tensor(zeros: shape)
        for i in 0..<count { out.data[i] = data[i] * maskTensor.data[i] }
        return Tensor.record(.dropout, out, inputs: [self]) { out in
            let g = self.gradientBuffer(), dOut = out.grad!.data
            let mask = maskTensor.data
            for i in 0..<self.count { g[i] += dOut[i] * mask[i] }
        }
    }
}
