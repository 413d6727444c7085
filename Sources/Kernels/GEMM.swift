// GEMM.swift — the one kernel that dominates training time: C = α·op(A)·op(B) + β·C.
//
// Teaches: the BLAS calling convention (row-major here), leading dimensions, and why all four
// transpose combinations exist (backward of Y = X·Wᵀ needs dX = dY·W and dW = dYᵀ·X, which we
// compute without ever materialising a transposed copy).
// Leaves out: complex numbers, column-major storage, strided (non-unit) inner dimensions.
//
// The fast path (packed panels + register tiles + threads) lives in GEMM+Packed.swift; the naive
// triple loop in Reference.swift is the specification the tests compare against.

import Foundation
import SIMDWidth

/// The register tile of the packed GEMM, chosen once from the SIMD width the build targets
/// (`TINYTUNE_SIMD_FLOATS`, set by the compiler flags: see Sources/SIMDWidth/include/SIMDWidth.h).
public enum GEMMTile {
    /// Floats per vector register the compiler may use: 16 with AVX-512, 8 with AVX2, 4 with NEON.
    public static var simdFloats: Int { Int(TINYTUNE_SIMD_FLOATS) }
    /// Whether the micro-kernel works on `SIMD16<Float>` (an 8×48 tile in zmm registers) rather than
    /// `SIMD8<Float>` (6×16: ymm registers, or pairs of NEON registers on arm64).
    public static var usesSIMD16: Bool { simdFloats >= 16 }
    /// The tile as "rows×columns", for benchmark output.
    public static var description: String { usesSIMD16 ? "8×48 (SIMD16)" : "6×16 (SIMD8)" }
}

/// Whether a GEMM operand is read as stored or as its transpose.
public enum Transpose: Sendable {
    /// Use the matrix as stored.
    case none
    /// Use the transpose of the stored matrix.
    case transposed
}

/// Operand pointers handed to worker threads (each worker writes disjoint C matrices).
struct BatchPointers: @unchecked Sendable {
    let a: UnsafePointer<Float>, b: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>
}

/// Dense single-precision matrix multiplication on raw row-major buffers.
public enum GEMM {
    /// C[m, n] = alpha · op(A)[m, k] · op(B)[k, n] + beta · C[m, n], all row-major.
    ///
    /// - Parameters:
    ///   - transA: `.none` means A is stored [m, k] with row stride `lda`; `.transposed` means A is
    ///     stored [k, m] with row stride `lda` and read as its transpose.
    ///   - transB: `.none` means B is stored [k, n] (row stride `ldb`); `.transposed`: stored [n, k].
    ///   - c: [m, n] with row stride `ldc`. When `beta == 0`, C is not read (NaNs in it are ignored).
    ///   - threads: how many threads to split over; `nil` uses `Parallelism.threads`.
    public static func multiply(
        transA: Transpose, transB: Transpose, m: Int, n: Int, k: Int,
        alpha: Float = 1,
        a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0,
        c: UnsafeMutablePointer<Float>, ldc: Int,
        threads: Int? = nil
    ) {
        if m == 0 || n == 0 { return }
        if k == 0 || alpha == 0 {
            // Nothing to multiply: C = β·C (β = 0 clears without reading).
            for i in 0..<m {
                for j in 0..<n { c[i * ldc + j] = beta == 0 ? 0 : beta * c[i * ldc + j] }
            }
            return
        }
        // Tiny products are not worth packing; the simple loop wins there.
        if m * n * k < 4096 {
            SmallGEMM.multiply(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
                               a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
            return
        }
        // Use threads only when each gets real work (~4 MFLOP or more): waking a thread costs microseconds.
        let budget = threads ?? Parallelism.threads
        let useful = max(1, min(budget, m * n * k / 2_000_000))
        // A few rows times a weight matrix (generation's decode step): stream W once, no packing.
        if m <= SkinnyGEMM.maxRows && transA == .none && transB == .transposed {
            // Streaming W is the work here, not the flops: a thread pays off per 512 KB of W it reads.
            let streamers = max(1, min(budget, n * k / 131_072))
            SkinnyGEMM.multiply(m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: beta,
                                c: c, ldc: ldc, threads: streamers)
            return
        }
        packedMultiply(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
                       a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc, threads: useful)
    }

    /// A batch of independent GEMMs: for each i in 0..<batch,
    /// C_i = alpha · op(A_i) · op(B_i) + beta · C_i, with A_i = a + i·strideA (likewise B, C).
    /// A stride of 0 reuses one matrix for every batch entry (broadcasting a weight).
    public static func multiplyBatched(
        batch: Int, transA: Transpose, transB: Transpose, m: Int, n: Int, k: Int,
        alpha: Float = 1,
        a: UnsafePointer<Float>, lda: Int, strideA: Int,
        b: UnsafePointer<Float>, ldb: Int, strideB: Int,
        beta: Float = 0,
        c: UnsafeMutablePointer<Float>, ldc: Int, strideC: Int,
        threads: Int? = nil
    ) {
        // Small matrices (attention heads): one thread per batch entry. Large ones: threads inside each.
        let budget = threads ?? Parallelism.threads
        if batch > 1 && budget > 1 && m * n * k < 2_000_000 * budget {
            let shared = BatchPointers(a: a, b: b, c: c)
            Parallelism.noteSplit(budget)
            Parallelism.perform(iterations: budget) { worker in
                for i in stride(from: worker, to: batch, by: budget) {
                    multiply(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
                             a: shared.a + i * strideA, lda: lda, b: shared.b + i * strideB, ldb: ldb,
                             beta: beta, c: shared.c + i * strideC, ldc: ldc, threads: 1)
                }
            }
            return
        }
        for i in 0..<batch {
            multiply(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
                     a: a + i * strideA, lda: lda, b: b + i * strideB, ldb: ldb,
                     beta: beta, c: c + i * strideC, ldc: ldc, threads: threads)
        }
    }
}
