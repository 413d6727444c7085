// SkinnyGEMM.swift — C = A·Bᵀ when A has only a few rows: the decode step of generation.
//
// Teaches: why one-token decoding is memory-bound. With m = 1 (one new position), every weight is
// used for a single multiply-add, so the cost is reading W once; packing W into panels first (what
// the blocked GEMM does to reuse it across many rows) would read it twice and write it once for
// nothing. Here each row of B (a row of W [out, in], contiguous) is streamed once and dotted with the
// m ≤ 4 rows of A, eight lanes at a time, with the output columns split over threads.
// Leaves out: m > 4 (the packed GEMM wins there), transposed A or non-transposed B layouts.
import Foundation

enum SkinnyGEMM {
    /// Largest m this path takes.
    static let maxRows = 4

    /// C[m, n] = α · A[m, k] · B[n, k]ᵀ + β · C, for m ≤ `maxRows` (same contract as `GEMM.multiply`
    /// with transA = .none, transB = .transposed).
    static func multiply(m: Int, n: Int, k: Int, alpha: Float, a: UnsafePointer<Float>, lda: Int,
                         b: UnsafePointer<Float>, ldb: Int, beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int,
                         threads: Int) {
        let shared = BatchPointers(a: a, b: b, c: c)
        // Columns [start, end) of C: for each, one pass over row j of B against every row of A.
        @Sendable func columns(_ start: Int, _ end: Int) {
            for j in start..<end {
                let bRow = shared.b + j &* ldb
                for i in 0..<m {
                    let product = alpha * dot(shared.a + i &* lda, bRow, k)
                    let out = shared.c + (i &* ldc &+ j)
                    out.pointee = beta == 0 ? product : product + beta * out.pointee
                }
            }
        }
        if threads > 1 {
            let chunk = (n + threads - 1) / threads
            Parallelism.perform(iterations: threads) { worker in
                columns(min(worker * chunk, n), min((worker + 1) * chunk, n))
            }
        } else {
            columns(0, n)
        }
    }

    /// Σ x[i]·y[i] over n floats: four independent 8-lane accumulators hide the FMA latency.
    @inline(__always)
    static func dot(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ n: Int) -> Float {
        func load(_ p: UnsafePointer<Float>, _ i: Int) -> SIMD8<Float> { UnsafeRawPointer(p + i).loadUnaligned(as: SIMD8<Float>.self) }
        var (s0, s1, s2, s3) = (SIMD8<Float>(), SIMD8<Float>(), SIMD8<Float>(), SIMD8<Float>())
        var i = 0
        while i &+ 32 <= n {
            s0 = s0.addingProduct(load(x, i), load(y, i))
            s1 = s1.addingProduct(load(x, i &+ 8), load(y, i &+ 8))
            s2 = s2.addingProduct(load(x, i &+ 16), load(y, i &+ 16))
            s3 = s3.addingProduct(load(x, i &+ 24), load(y, i &+ 24))
            i &+= 32
        }
        while i &+ 8 <= n {
            s0 = s0.addingProduct(load(x, i), load(y, i))
            i &+= 8
        }
        var sum = ((s0 + s1) + (s2 + s3)).sum()
        while i < n {
            sum += x[i] * y[i]
            i &+= 1
        }
        return sum
    }
}
