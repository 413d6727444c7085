// Ops+Attention.swift — causal self-attention as one differentiable op.
//
// Teaches: when fusing ops pays. Written as ops, attention is matmul → ×scale → +mask → softmax →
// matmul: five tape nodes, four [B, H, T, S] buffers kept for backward, and every masked score
// computed before it is thrown away. As one op (kernel in Kernels/Attention.swift) it keeps only the
// probabilities and skips most of the masked work; the math, and so the gradient, is the same.
// Leaves out: attention dropout, arbitrary masks (padding masks are handled by the loss weights).
import Kernels

extension Tensor {
    /// softmax(q·kᵀ/√D + causal mask)·v per head.
    ///
    /// Shapes: q [..., T, D]; k, v [..., S, D] with the same leading axes and S ≥ T. The first S − T keys
    /// are a prefix every query may attend to; query i also sees sequence keys 0…i. Result [..., T, D].
    /// Equal to `(matmul(q, k, transposeB: true) * (1/√D) + CausalSelfAttention.causalMask(T, prefix: S − T)).softmax()`
    /// followed by `matmul(·, v)`, up to float rounding.
    public static func causalAttention(_ q: Tensor, _ k: Tensor, _ v: Tensor) -> Tensor {
        require(q.rank >= 2 && k.rank == q.rank && v.shape == k.shape,
                "causalAttention: q \(q.shape), k \(k.shape), v \(v.shape) must be [..., T, D], [..., S, D], [..., S, D]")
        let (t, d, s) = (q.shape[q.rank - 2], q.shape[q.rank - 1], k.shape[k.rank - 2])
        require(Array(q.shape.dropLast(2)) == Array(k.shape.dropLast(2)) && k.shape[k.rank - 1] == d && s >= t,
                "causalAttention: q \(q.shape) and k \(k.shape) need equal leading axes, equal D and S ≥ T")
        let heads = q.count / Swift.max(t * d, 1)
        let scale = 1 / Float(d).squareRoot()
        let out = Tensor(uninitialized: q.shape)
        // The probabilities [..., T, S]: the one buffer backward needs (a tensor, so the meter counts it).
        let probabilities = Tensor(uninitialized: Array(q.shape.dropLast()) + [s])
        CausalAttention.forward(q: q.data, k: k.data, v: v.data, out: out.data, probabilities: probabilities.data,
                                heads: heads, queries: t, keys: s, width: d, scale: scale)
        return record(.attention, out, inputs: [q, k, v]) { out in
            CausalAttention.backward(q: q.data, k: k.data, v: v.data, probabilities: probabilities.data, dOut: out.grad!.data,
                                     dq: q.requiresGrad ? q.gradientBuffer() : nil,
                                     dk: k.requiresGrad ? k.gradientBuffer() : nil,
                                     dv: v.requiresGrad ? v.gradientBuffer() : nil,
                                     heads: heads, queries: t, keys: s, width: d, scale: scale)
        }
    }
}
