// Ops+LowRank.swift — a Linear layer with a low-rank (LoRA) update, as one fused op.
//
// Teaches: why fusion matters for memory. Written as separate ops, x·Wᵀ + b + s·(x·Aᵀ)·Bᵀ would keep
// five full-width intermediate buffers alive for backward. Fused, it keeps only its input x and the
// thin u = x·Aᵀ [N, r], and writes one output — so a LoRA layer's activation memory is no larger than
// the plain layer's. Backward, with g = ∂L/∂y:
//   dx = g·W + s·(g·B)·A     dW = gᵀ·x     db = Σ_rows g     dB = s·gᵀ·u     dA = s·(g·B)ᵀ·x
// Leaves out: dropout on the branch (the unfused path in PEFT handles that case).
import Kernels

extension Tensor {
    /// y = x·Wᵀ + b + s·(x·Aᵀ)·Bᵀ.  x [..., in], W [out, in], b [out] or nil, A [r, in], B [out, r] → [..., out].
    public static func lowRankLinear(_ x: Tensor, weight: Tensor, bias: Tensor?, a: Tensor, b: Tensor, scaling s: Float) -> Tensor {
        let (out, inFeatures, rank) = (weight.shape[0], weight.shape[1], a.shape[0])
        require(x.shape.last == inFeatures && a.shape == [rank, inFeatures] && b.shape == [out, rank]
                     && (bias == nil || bias!.shape == [out]),
                     "lowRankLinear: x \(x.shape), W \(weight.shape), A \(a.shape), B \(b.shape), bias \(bias?.shape ?? [])")
        let rows = x.count / inFeatures
        // u = x·Aᵀ [N, r] (saved), y = x·Wᵀ + u·(s·B)ᵀ (+ b).
        let u = Tensor(zeros: [rows, rank])
        GEMM.multiply(transA: .none, transB: .transposed, m: rows, n: rank, k: inFeatures,
                      a: x.data, lda: inFeatures, b: a.data, ldb: inFeatures, c: u.data, ldc: rank)
        let y = Tensor(zeros: Array(x.shape.dropLast()) + [out])
        GEMM.multiply(transA: .none, transB: .transposed, m: rows, n: out, k: inFeatures,
                      a: x.data, lda: inFeatures, b: weight.data, ldb: inFeatures, c: y.data, ldc: out)
        GEMM.multiply(transA: .none, transB: .transposed, m: rows, n: out, k: rank, alpha: s,
                      a: u.data, lda: rank, b: b.data, ldb: rank, beta: 1, c: y.data, ldc: out)
        if let bias {
            for r in 0..<rows { for j in 0..<out { y.data[r * out + j] += bias.data[j] } }
        }
        let inputs = [x, weight, a, b] + (bias.map { [$0] } ?? [])
        return record(.lowRankLinear, y, inputs: inputs) { y in
            let g = y.grad!.data
            // gB = g·B [N, r], needed by dx and dA.
            var gB = [Float](repeating: 0, count: rows * rank)
            GEMM.multiply(transA: .none, transB: .none, m: rows, n: rank, k: out, a: g, lda: out, b: b.data, ldb: rank,
                          c: &gB, ldc: rank)
            if x.requiresGrad {
                let dx = x.gradientBuffer()
                GEMM.multiply(transA: .none, transB: .none, m: rows, n: inFeatures, k: out, a: g, lda: out,
                              b: weight.data, ldb: inFeatures, beta: 1, c: dx, ldc: inFeatures)
                GEMM.multiply(transA: .none, transB: .none, m: rows, n: inFeatures, k: rank, alpha: s, a: gB, lda: rank,
                              b: a.data, ldb: inFeatures, beta: 1, c: dx, ldc: inFeatures)
            }
            if weight.requiresGrad {
                GEMM.multiply(transA: .transposed, transB: .none, m: out, n: inFeatures, k: rows, a: g, lda: out,
                              b: x.data, ldb: inFeatures, beta: 1, c: weight.gradientBuffer(), ldc: inFeatures)
            }
            if let bias, bias.requiresGrad {
                let db = bias.gradientBuffer()
                for r in 0..<rows { for j in 0..<out { db[j] += g[r * out + j] } }
            }
            if b.requiresGrad {
                GEMM.multiply(transA: .transposed, transB: .none, m: out, n: rank, k: rows, alpha: s, a: g, lda: out,
                              b: u.data, ldb: rank, beta: 1, c: b.gradientBuffer(), ldc: rank)
            }
            if a.requiresGrad {
                GEMM.multiply(transA: .transposed, transB: .none, m: rank, n: inFeatures, k: rows, alpha: s, a: gB, lda: rank,
                              b: x.data, ldb: inFeatures, beta: 1, c: a.gradientBuffer(), ldc: inFeatures)
            }
        }
    }
}
