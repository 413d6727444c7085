// Ops+Normalization.swift — layer norm, RMS norm, dropout and rotary position embeddings.
//
// Teaches: the two normalisations of GPT-2 and Llama (their backward passes are in Kernels/Rows.swift),
// dropout as a seeded random mask scaled by 1/(1−p) so expectations are unchanged, and RoPE: rotating
// pairs of features by an angle proportional to the position, so attention scores depend on
// relative position.
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

    /// Rotary position embedding on x [..., T, D] (D even), in Hugging Face's "rotate half" layout:
    /// feature i < D/2 is paired with i + D/2 and the pair is rotated by angle (t + offset)·θ^(−2i/D).
    /// out = x·cos + rotateHalf(x)·sin, rotateHalf(x) = [−x₂, x₁].
    public func rope(theta: Float = 10_000, positionOffset: Int = 0) -> Tensor {
        require(rank >= 2 && shape[rank - 1] % 2 == 0, "rope: needs [..., T, D] with D even, got \(shape)")
        let (steps, width) = (shape[rank - 2], shape[rank - 1])
        let half = width / 2
        // Angle tables [T, D/2].
        var cosines = [Float](repeating: 0, count: steps * half), sines = cosines
        for t in 0..<steps {
            for i in 0..<half {
                let angle = Double(t + positionOffset) * Foundation.pow(Double(theta), -2 * Double(i) / Double(width))
                cosines[t * half + i] = Float(Foundation.cos(angle))
                sines[t * half + i] = Float(Foundation.sin(angle))
            }
        }
        let rows = count / width
        let out = Tensor(uninitialized: shape)
        for r in 0..<rows {
            let t = r % steps, x = data + r * width, y = out.data + r * width
            for i in 0..<half {
                let (c, s) = (cosines[t * half + i], sines[t * half + i])
                y[i] = x[i] * c - x[i + half] * s
                y[i + half] = x[i + half] * c + x[i] * s
            }
        }
        return Tensor.record(.rope, out, inputs: [self]) { out in
            // The rotation is orthogonal: its backward is the rotation by −angle.
            let g = self.gradientBuffer(), dOut = out.grad!.data
            for r in 0..<rows {
                let t = r % steps, dy = dOut + r * width, dx = g + r * width
                for i in 0..<half {
                    let (c, s) = (cosines[t * half + i], sines[t * half + i])
                    dx[i] += dy[i] * c + dy[i + half] * s
                    dx[i + half] += dy[i + half] * c - dy[i] * s
                }
            }
        }
    }
}
