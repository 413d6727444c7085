// Reference.swift — naive, obviously-correct versions of the kernels: the specification.
//
// Teaches: what each kernel computes, in the plainest loops. Tests compare the fast kernels to
// these on odd sizes (1, 7, 17, 65 …). Leaves out: any attempt at speed.

/// Naive reference kernels. Slow on purpose; used by tests and as documentation.
public enum Reference {
    /// The textbook triple loop for `GEMM.multiply`, accumulating in Double for a tight oracle.
    public static func gemm(
        transA: Transpose, transB: Transpose, m: Int, n: Int, k: Int, alpha: Float,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        for i in 0..<m {
            for j in 0..<n {
                var sum = 0.0
                for p in 0..<k {
                    // op(A)[i, p] and op(B)[p, j], read through the transposes.
                    let aValue = transA == .none ? a[i * lda + p] : a[p * lda + i]
                    let bValue = transB == .none ? b[p * ldb + j] : b[j * ldb + p]
                    sum += Double(aValue) * Double(bValue)
                }
                let previous = beta == 0 ? 0 : beta * c[i * ldc + j]
                c[i * ldc + j] = alpha * Float(sum) + previous
            }
        }
    }
}
