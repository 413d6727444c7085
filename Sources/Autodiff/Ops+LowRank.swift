// Ops+LowRank.swift — a Linear layer, plain or with a low-rank (LoRA) update, as one fused op.
//
// Teaches: why fusion matters for memory. Written as separate ops, x·Wᵀ + b + s·(x·Aᵀ)·Bᵀ would keep
// five full-width intermediate buffers alive for backward. Fused, it keeps only its input x and the
// thin u = x·Aᵀ [N, r], and writes one output — so a LoRA layer's activation memory is no larger than
// the plain layer's. Backward, with g = ∂L/∂y:
//   dx = g·W + s·(g·B)·A     dW = gᵀ·x     db = Σ_rows g     dB = s·gᵀ·u     dA = s·(g·B)ᵀ·x
// The same op with a *quantized* frozen base (QLoRA): W is a `DequantizingWeight` decoded panel by
// panel inside the GEMMs (Kernels/DequantizedGEMM.swift), never materialised; it gets no gradient.
// Leaves out: dropout on the branch (the unfused path in PEFT handles that case).
import Kernels

extension Tensor {
    /// y = x·Wᵀ + b + s·(x·Aᵀ)·Bᵀ.  x [..., in], W [out, in], b [out] or nil, A [r, in], B [out, r] → [..., out].
    public static func lowRankLinear(_ x: Tensor, weight: Tensor, bias: Tensor?, a: Tensor, b: Tensor, scaling s: Float) -> Tensor {
        fusedLinear(.lowRankLinear, x, weight: weight, bias: bias, a: a, b: b, scaling: s)
    }

    /// y = x·Wᵀ + b as one op: a plain fully connected layer.  x [..., in], W [out, in], b [out] or nil
    /// → [..., out]. The same as `matmul(x, W, transposeB: true) + b`, without the separate broadcast add
    /// (and its second full-size buffer and pass over memory); backward: dx = g·W, dW = gᵀ·x, db = Σ_rows g.
    public static func linear(_ x: Tensor, weight: Tensor, bias: Tensor?) -> Tensor {
        fusedLinear(.linear, x, weight: weight, bias: bias, a: nil, b: nil, scaling: 1)
    }

    /// The dense-weight fused layer behind `linear` and `lowRankLinear` (the branch when A and B are given).
    private static func fusedLinear(_ op: Op, _ x: Tensor, weight: Tensor, bias: Tensor?, a: Tensor?, b: Tensor?,
                                    scaling s: Float) -> Tensor {
        let (out, inFeatures) = (weight.shape[0], weight.shape[1])
        let branch = LowRankBranch(x: x, out: out, inFeatures: inFeatures, bias: bias, a: a, b: b, scaling: s, op: op.rawValue)
        require(weight.rank == 2, "\(op.rawValue): W \(weight.shape)")
        let rows = branch.rows
        // y = x·Wᵀ (every element written: no zero fill), then the branch and the bias.
        let y = Tensor(uninitialized: Array(x.shape.dropLast()) + [out])
        GEMM.multiply(transA: .none, transB: .transposed, m: rows, n: out, k: inFeatures,
                      a: x.data, lda: inFeatures, b: weight.data, ldb: inFeatures, c: y.data, ldc: out)
        let u = branch.addForward(into: y)
        return record(op, y, inputs: [x, weight] + [a, b, bias].compactMap { $0 }) { y in
            let g = y.grad!.data
            if x.requiresGrad {
                GEMM.multiply(transA: .none, transB: .none, m: rows, n: inFeatures, k: out, a: g, lda: out,
                              b: weight.data, ldb: inFeatures, beta: 1, c: x.gradientBuffer(), ldc: inFeatures)
            }
            if weight.requiresGrad {
                GEMM.multiply(transA: .transposed, transB: .none, m: out, n: inFeatures, k: rows, a: g, lda: out,
                              b: x.data, ldb: inFeatures, beta: 1, c: weight.gradientBuffer(), ldc: inFeatures)
            }
            branch.addBackward(g, u: u)
        }
    }

    /// y = x·Ŵᵀ + b (+ s·(x·Aᵀ)·Bᵀ when A and B are given), with Ŵ [out, in] a frozen quantized weight
    /// decoded panel by panel (QLoRA's base layer). x [..., in] → [..., out]. Gradients reach x, b, A, B.
    public static func quantizedLinear(_ x: Tensor, weight: DequantizingWeight, bias: Tensor?,
                                       a: Tensor? = nil, b: Tensor? = nil, scaling s: Float = 1) -> Tensor {
        let (out, inFeatures) = (weight.rows, weight.columns)
        require((a == nil) == (b == nil), "quantizedLinear: give both A and B, or neither")
        let branch = LowRankBranch(x: x, out: out, inFeatures: inFeatures, bias: bias, a: a, b: b, scaling: s, op: "quantizedLinear")
        let rows = branch.rows
        let y = Tensor(zeros: Array(x.shape.dropLast()) + [out])
        DequantizedGEMM.multiplyTransposed(x: x.data, m: rows, weight: weight, y: y.data, ldy: out)
        let u = branch.addForward(into: y)
        let inputs = [x] + [a, b, bias].compactMap { $0 }
        return record(.quantizedLinear, y, inputs: inputs) { y in
            let g = y.grad!.data
            if x.requiresGrad {
                DequantizedGEMM.accumulateProduct(g: g, ldg: out, m: rows, weight: weight, dx: x.gradientBuffer())
            }
            branch.addBackward(g, u: u)
        }
    }
}

extension Tensor {
    /// y = x·Wᵀ + b (+ s·(x·Aᵀ)·Bᵀ) with W prepacked for inference (Kernels/GEMM+Prepacked.swift).
    /// x [..., in] → [..., out]. Inference only: nothing may need a gradient (run it under
    /// `Tensor.withNoGrad`, as generation does); it records no tape node.
    public static func prepackedLinear(_ x: Tensor, weight: PrepackedWeight, bias: Tensor?,
                                       a: Tensor? = nil, b: Tensor? = nil, scaling s: Float = 1) -> Tensor {
        let needsGradient = [x, a, b, bias].contains { $0?.requiresGrad == true }
        require(!(gradientsEnabled && needsGradient),
                "prepackedLinear: a prepacked weight is for inference; run under Tensor.withNoGrad or keep the dense weight for training")
        require((a == nil) == (b == nil), "prepackedLinear: give both A and B, or neither")
        let (out, inFeatures) = (weight.rows, weight.columns)
        let branch = LowRankBranch(x: x, out: out, inFeatures: inFeatures, bias: bias, a: a, b: b, scaling: s, op: "prepackedLinear")
        let y = Tensor(uninitialized: Array(x.shape.dropLast()) + [out])
        GEMM.multiplyPrepacked(x: x.data, lda: inFeatures, m: branch.rows, weight: weight, c: y.data, ldc: out)
        _ = branch.addForward(into: y)
        return record(.linear, y, inputs: []) { _ in }   // a profile row; no inputs, so no tape node
    }
}

/// The parts of a low-rank linear layer shared by the fp32 and quantized-base versions: the bias and
/// the s·(x·Aᵀ)·Bᵀ branch, forward and backward.
private struct LowRankBranch {
    let x: Tensor, bias: Tensor?, a: Tensor?, b: Tensor?
    let scaling: Float, rows: Int, out: Int, inFeatures: Int, rank: Int

    init(x: Tensor, out: Int, inFeatures: Int, bias: Tensor?, a: Tensor?, b: Tensor?, scaling: Float, op: String) {
        let rank = a?.shape[0] ?? 0
        require(x.shape.last == inFeatures && (a == nil || a!.shape == [rank, inFeatures]) && (b == nil || b!.shape == [out, rank])
                     && (bias == nil || bias!.shape == [out]),
                "\(op): x \(x.shape), W [\(out), \(inFeatures)], A \(a?.shape ?? []), B \(b?.shape ?? []), bias \(bias?.shape ?? [])")
        (self.x, self.bias, self.a, self.b, self.scaling) = (x, bias, a, b, scaling)
        (self.rows, self.out, self.inFeatures, self.rank) = (x.count / inFeatures, out, inFeatures, rank)
    }

    /// Adds s·(x·Aᵀ)·Bᵀ + b into y [rows, out]; returns u = x·Aᵀ [rows, r] (saved for backward).
    func addForward(into y: Tensor) -> Tensor? {
        var u: Tensor?
        if let a, let b {
            let product = Tensor(zeros: [rows, rank])
            GEMM.multiply(transA: .none, transB: .transposed, m: rows, n: rank, k: inFeatures,
                          a: x.data, lda: inFeatures, b: a.data, ldb: inFeatures, c: product.data, ldc: rank)
            GEMM.multiply(transA: .none, transB: .transposed, m: rows, n: out, k: rank, alpha: scaling,
                          a: product.data, lda: rank, b: b.data, ldb: rank, beta: 1, c: y.data, ldc: out)
            u = product
        }
        if let bias {
            // Row by row through local pointers (the inner loop vectorises).
            let (values, added) = (y.data, UnsafePointer(bias.data))
            for r in 0..<rows {
                let row = values + r &* out
                for j in 0..<out { row[j] += added[j] }
            }
        }
        return u
    }

    /// With g = ∂L/∂y: dx += s·(g·B)·A, dB += s·gᵀ·u, dA += s·(g·B)ᵀ·x, db += Σ_rows g.
    func addBackward(_ g: UnsafeMutablePointer<Float>, u: Tensor?) {
        if let bias, bias.requiresGrad {
            let db = bias.gradientBuffer()
            for r in 0..<rows {
                let row = g + r &* out
                for j in 0..<out { db[j] += row[j] }
            }
        }
        guard let a, let b, let u else { return }
        // gB = g·B [rows, r], needed by dx and dA.
        var gB = [Float](repeating: 0, count: rows * rank)
        GEMM.multiply(transA: .none, transB: .none, m: rows, n: rank, k: out, a: g, lda: out, b: b.data, ldb: rank,
                      c: &gB, ldc: rank)
        if x.requiresGrad {
            GEMM.multiply(transA: .none, transB: .none, m: rows, n: inFeatures, k: rank, alpha: scaling, a: gB, lda: rank,
                          b: a.data, ldb: inFeatures, beta: 1, c: x.gradientBuffer(), ldc: inFeatures)
        }
        if b.requiresGrad {
            GEMM.multiply(transA: .transposed, transB: .none, m: out, n: rank, k: rows, alpha: scaling, a: g, lda: out,
                          b: u.data, ldb: rank, beta: 1, c: b.gradientBuffer(), ldc: rank)
        }
        if a.requiresGrad {
            GEMM.multiply(transA: .transposed, transB: .none, m: rank, n: inFeatures, k: rows, alpha: scaling, a: gB, lda: rank,
                          b: x.data, ldb: inFeatures, beta: 1, c: a.gradientBuffer(), ldc: inFeatures)
        }
    }
}
