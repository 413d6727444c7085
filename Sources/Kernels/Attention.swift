// Attention.swift — fused causal attention for all heads at once: scores, scale, mask, softmax, mix.
//
// Teaches: what the four-op version (Q·Kᵀ, ×1/√d, +mask, softmax, ·V) costs and how to avoid it. Per
// head, the scores are a [T, S] matrix of which the causal mask throws away nearly half; the op-by-op
// version computes all of it, writes it four times and keeps four copies for backward. Here:
//  1. query rows go in blocks of `rowBlock`; a block multiplies only by the keys its last row can
//     see (keys 0 ..< P + i₀ + rows), so the masked upper triangle is mostly never computed;
//  2. scale, mask and softmax are one pass over each row's visible part (the rest is set to 0);
//  3. only the probabilities are kept for backward (one [T, S] buffer per head);
//  4. heads are independent: they are dealt to threads, each head computed the same way whoever
//     runs it, so results are bitwise identical for any thread count.
// The first P = S − T keys are a prefix (prefix tuning) that every query sees; query i also sees
// sequence keys 0…i, i.e. keys 0 ..< P + i + 1.
// Backward, per block, with dS = P ⊙ (dP − rowsum(P ⊙ dP)) · scale the softmax backward:
//   dV += Pᵀ·dO,  dP = dO·Vᵀ,  dQ += dS·K,  dK += dSᵀ·Q.
// Leaves out: flash-attention's online softmax (it would avoid the [T, S] buffer), dropout on the
// probabilities, non-causal attention.
import Foundation

/// Fused multi-head causal attention on raw buffers (caseless namespace).
public enum CausalAttention {
    /// Query rows per block: each block multiplies by the keys its last row can see.
    static let rowBlock = 32

    /// Pointers made sendable for the head workers (each head writes only its own slices).
    private struct Buffers: @unchecked Sendable {
        let q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>
        let out: UnsafeMutablePointer<Float>?, probabilities: UnsafeMutablePointer<Float>
        let dOut: UnsafePointer<Float>?
        let dq: UnsafeMutablePointer<Float>?, dk: UnsafeMutablePointer<Float>?, dv: UnsafeMutablePointer<Float>?
    }

    /// Runs `body(head, scratch)` for every head, heads dealt round-robin to up to `Parallelism.threads`
    /// workers; `scratch` is a per-worker buffer of `scratchCount` floats.
    private static func forEachHead(_ heads: Int, work: Int, scratchCount: Int, _ body: @escaping @Sendable (Int, UnsafeMutablePointer<Float>) -> Void) {
        let workers = max(1, min(Parallelism.threads, heads, work / Parallelism.minimumWorkPerThread))
        let run: @Sendable (Int) -> Void = { worker in
            let scratch = UnsafeMutablePointer<Float>.allocate(capacity: max(scratchCount, 1))
            defer { scratch.deallocate() }
            for head in stride(from: worker, to: heads, by: workers) { body(head, scratch) }
        }
        Parallelism.noteSplit(workers)
        if workers == 1 { run(0) } else { Parallelism.perform(iterations: workers, run) }
    }

    /// out = softmax(scale · Q·Kᵀ + causal mask) · V for every head, saving the probabilities.
    ///   q, out: [heads, T, D]; k, v: [heads / groups, S, D] with S ≥ T; probabilities: [heads, T, S]
    /// Grouped KV (`groups` > 1): query head h reads key/value head h / groups. `keyHeadStride` is the
    /// distance between key (and value) heads, S·D unless the keys sit in a larger buffer (a KV cache
    /// with room for more positions than it holds).
    public static func forward(q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>,
                               out: UnsafeMutablePointer<Float>, probabilities: UnsafeMutablePointer<Float>,
                               heads: Int, queries t: Int, keys s: Int, width d: Int, scale: Float,
                               groups: Int = 1, keyHeadStride: Int? = nil) {
        require(s >= t, "CausalAttention: \(s) keys for \(t) queries (keys must include every query position)")
        require(groups >= 1 && heads % groups == 0, "CausalAttention: \(heads) heads do not split into groups of \(groups)")
        let prefix = s - t, kvStride = keyHeadStride ?? s * d
        let buffers = Buffers(q: q, k: k, v: v, out: out, probabilities: probabilities, dOut: nil, dq: nil, dk: nil, dv: nil)
        forEachHead(heads, work: heads * t * s * d, scratchCount: 0) { head, _ in
            let kvHead = head / groups
            let (qh, kh, vh) = (buffers.q + head * t * d, buffers.k + kvHead * kvStride, buffers.v + kvHead * kvStride)
            let (oh, ph) = (buffers.out! + head * t * d, buffers.probabilities + head * t * s)
            for i0 in stride(from: 0, to: t, by: rowBlock) {
                let rows = min(rowBlock, t - i0), visible = prefix + i0 + rows
                // Scaled scores of the block's visible keys: P[i0 ..< i0+rows, 0 ..< visible].
                GEMM.multiply(transA: .none, transB: .transposed, m: rows, n: visible, k: d, alpha: scale,
                              a: qh + i0 * d, lda: d, b: kh, ldb: d, c: ph + i0 * s, ldc: s, threads: 1)
                for i in i0..<(i0 + rows) {
                    // Query i sees keys 0 ..< prefix + i + 1: softmax over those, zeros after.
                    let row = ph + i * s, seen = prefix + i + 1
                    let inv = 1 / RowMath.shiftedExp(row, row, seen, shift: RowMath.max(row, seen))
                    for j in 0..<seen { row[j] *= inv }
                    for j in seen..<s { row[j] = 0 }
                }
                // The block's outputs mix only the visible values.
                GEMM.multiply(transA: .none, transB: .none, m: rows, n: d, k: visible,
                              a: ph + i0 * s, lda: s, b: vh, ldb: d, c: oh + i0 * d, ldc: d, threads: 1)
            }
        }
    }

    /// Accumulates dq, dk, dv (each may be nil) from dOut [heads, T, D] and the saved probabilities.
    public static func backward(q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>,
                                probabilities: UnsafePointer<Float>, dOut: UnsafePointer<Float>,
                                dq: UnsafeMutablePointer<Float>?, dk: UnsafeMutablePointer<Float>?, dv: UnsafeMutablePointer<Float>?,
                                heads: Int, queries t: Int, keys s: Int, width d: Int, scale: Float) {
        let prefix = s - t
        let buffers = Buffers(q: q, k: k, v: v, out: nil, probabilities: UnsafeMutablePointer(mutating: probabilities),
                              dOut: dOut, dq: dq, dk: dk, dv: dv)
        let needScores = dq != nil || dk != nil
        forEachHead(heads, work: 2 * heads * t * s * d, scratchCount: rowBlock * s) { head, dS in
            let (qh, kh, vh) = (buffers.q + head * t * d, buffers.k + head * s * d, buffers.v + head * s * d)
            let (ph, dOh) = (buffers.probabilities + head * t * s, buffers.dOut! + head * t * d)
            for i0 in stride(from: 0, to: t, by: rowBlock) {
                let rows = min(rowBlock, t - i0), visible = prefix + i0 + rows
                let pBlock = ph + i0 * s, dOBlock = dOh + i0 * d
                // dV[0 ..< visible] += P_blockᵀ · dO_block.
                if let dv = buffers.dv {
                    GEMM.multiply(transA: .transposed, transB: .none, m: visible, n: d, k: rows, a: pBlock, lda: s,
                                  b: dOBlock, ldb: d, beta: 1, c: dv + head * s * d, ldc: d, threads: 1)
                }
                guard needScores else { continue }
                // dP = dO_block · V[0 ..< visible]ᵀ into scratch [rows, s], then dS in place.
                GEMM.multiply(transA: .none, transB: .transposed, m: rows, n: visible, k: d, a: dOBlock, lda: d,
                              b: vh, ldb: d, c: dS, ldc: s, threads: 1)
                for i in 0..<rows {
                    let p = pBlock + i * s, row = dS + i * s, seen = prefix + i0 + i + 1
                    let dot = RowMath.dot(p, row, seen)
                    for j in 0..<seen { row[j] = scale * p[j] * (row[j] - dot) }
                    for j in seen..<visible { row[j] = 0 }
                }
                // dQ_block += dS · K[0 ..< visible];  dK[0 ..< visible] += dSᵀ · Q_block.
                if let dq = buffers.dq {
                    GEMM.multiply(transA: .none, transB: .none, m: rows, n: d, k: visible, a: dS, lda: s,
                                  b: kh, ldb: d, beta: 1, c: dq + head * t * d + i0 * d, ldc: d, threads: 1)
                }
                if let dk = buffers.dk {
                    GEMM.multiply(transA: .transposed, transB: .none, m: visible, n: d, k: rows, a: dS, lda: s,
                                  b: qh + i0 * d, ldb: d, beta: 1, c: dk + head * s * d, ldc: d, threads: 1)
                }
            }
        }
    }
}
