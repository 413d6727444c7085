// Ops+Matmul.swift — matrix multiplication, the op that holds nearly all of a transformer's FLOPs.
//
// Teaches: for C = A·B, dA = dC·Bᵀ and dB = Aᵀ·dC. With the transpose flags of GEMM these become
// single GEMM calls — no transposed copy is ever made. Leading ("batch") axes are handled two ways:
// a 2-D right operand (a weight) is shared, so A's batch axes fold into its rows; two batched
// operands (attention scores) run one GEMM per batch entry.
// Leaves out: broadcasting between different batch shapes (batch axes must match exactly).
import Kernels

extension Tensor {
    /// op(a) · op(b), where op transposes the last two axes when the flag is set.
    ///
    /// Shapes: a [..., M, K] (or [..., K, M] with transposeA), b [K, N] (or [N, K] with transposeB),
    /// result [..., M, N]; or, batched, a and b with equal leading axes. `matmul(x, w, transposeB: true)`
    /// is a Linear layer's x·Wᵀ with W stored [out, in].
    public static func matmul(_ a: Tensor, _ b: Tensor, transposeA: Bool = false, transposeB: Bool = false) -> Tensor {
        require(a.rank >= 2 && b.rank >= 2, "matmul: operands need rank ≥ 2, got \(a.shape) and \(b.shape)")
        let batchA = Array(a.shape.dropLast(2)), batchB = Array(b.shape.dropLast(2))
        require(batchB.isEmpty || batchA == batchB,
                     "matmul: batch axes of \(a.shape) and \(b.shape) must match (or b must be 2-D)")
        require(!(transposeA && batchB.isEmpty && !batchA.isEmpty),
                     "matmul: transposeA with a shared 2-D b is not supported (shapes \(a.shape), \(b.shape))")
        let (aRows, aCols) = (a.shape[a.rank - 2], a.shape[a.rank - 1])
        let (bRows, bCols) = (b.shape[b.rank - 2], b.shape[b.rank - 1])
        let m = transposeA ? aCols : aRows, k = transposeA ? aRows : aCols
        let kB = transposeB ? bCols : bRows, n = transposeB ? bRows : bCols
        require(k == kB, "matmul: inner dimensions differ: \(a.shape)\(transposeA ? "ᵀ" : "") · \(b.shape)\(transposeB ? "ᵀ" : "")")
        let batch = batchA.reduce(1, *)
        let out = Tensor(uninitialized: batchA + [m, n])
        let tA: Transpose = transposeA ? .transposed : .none, tB: Transpose = transposeB ? .transposed : .none
        // A 2-D b is a weight shared by every row of a (unless a is read transposed: then the 2-D × 2-D
        // product takes the general path with a batch of one).
        let sharedWeight = batchB.isEmpty && !transposeA

        if sharedWeight {
            // Shared weight: fold a's batch axes into rows → one large GEMM.
            GEMM.multiply(transA: tA, transB: tB, m: batch * m, n: n, k: k, a: a.data, lda: aCols,
                          b: b.data, ldb: bCols, c: out.data, ldc: n)
        } else {
            GEMM.multiplyBatched(batch: batch, transA: tA, transB: tB, m: m, n: n, k: k,
                                 a: a.data, lda: aCols, strideA: aRows * aCols,
                                 b: b.data, ldb: bCols, strideB: bRows * bCols,
                                 c: out.data, ldc: n, strideC: m * n)
        }
        return record(.matmul, out, inputs: [a, b]) { out in
            let dC = out.grad!.data
            if sharedWeight {
                // Rows of a: R = batch·m. dA [R, K] = dC [R, N] · op(B)ᵀ; dB = op⁻¹(Aᵀ · dC).
                let rows = batch * m
                if a.requiresGrad {
                    GEMM.multiply(transA: .none, transB: transposeB ? .none : .transposed, m: rows, n: k, k: n,
                                  a: dC, lda: n, b: b.data, ldb: bCols, beta: 1, c: a.gradientBuffer(), ldc: k)
                }
                if b.requiresGrad {
                    if transposeB {
                        // B stored [N, K]: dB = dCᵀ [N, R] · A [R, K].
                        GEMM.multiply(transA: .transposed, transB: .none, m: n, n: k, k: rows,
                                      a: dC, lda: n, b: a.data, ldb: k, beta: 1, c: b.gradientBuffer(), ldc: k)
                    } else {
                        // B stored [K, N]: dB = Aᵀ [K, R] · dC [R, N].
                        GEMM.multiply(transA: .transposed, transB: .none, m: k, n: n, k: rows,
                                      a: a.data, lda: k, b: dC, ldb: n, beta: 1, c: b.gradientBuffer(), ldc: n)
                    }
                }
            } else {
                if a.requiresGrad {
                    // op(A) = dC·op(B)ᵀ; if A is stored transposed, dA_stored = op(B)·dCᵀ.
                    if transposeA {
                        GEMM.multiplyBatched(batch: batch, transA: tB, transB: .transposed, m: k, n: m, k: n,
                                             a: b.data, lda: bCols, strideA: bRows * bCols, b: dC, ldb: n, strideB: m * n,
                                             beta: 1, c: a.gradientBuffer(), ldc: aCols, strideC: aRows * aCols)
                    } else {
                        GEMM.multiplyBatched(batch: batch, transA: .none, transB: transposeB ? .none : .transposed,
                                             m: m, n: k, k: n, a: dC, lda: n, strideA: m * n,
                                             b: b.data, ldb: bCols, strideB: bRows * bCols,
                                             beta: 1, c: a.gradientBuffer(), ldc: aCols, strideC: aRows * aCols)
                    }
                }
                if b.requiresGrad {
                    // op(B) gets op(A)ᵀ·dC; if B is stored transposed, dB_stored = dCᵀ·op(A).
                    if transposeB {
                        GEMM.multiplyBatched(batch: batch, transA: .transposed, transB: tA, m: n, n: k, k: m,
                                             a: dC, lda: n, strideA: m * n, b: a.data, ldb: aCols, strideB: aRows * aCols,
                                             beta: 1, c: b.gradientBuffer(), ldc: bCols, strideC: bRows * bCols)
                    } else {
                        GEMM.multiplyBatched(batch: batch, transA: transposeA ? .none : .transposed, transB: .none,
                                             m: k, n: n, k: m, a: a.data, lda: aCols, strideA: aRows * aCols,
                                             b: dC, ldb: n, strideB: m * n,
                                             beta: 1, c: b.gradientBuffer(), ldc: bCols, strideC: bRows * bCols)
                    }
                }
            }
        }
    }
}
