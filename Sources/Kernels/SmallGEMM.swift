// SmallGEMM.swift — the straightforward loop for products too small to be worth packing.
//
// Teaches: the i-p-j loop order. With row-major B, the innermost loop runs along a row of B and a
// row of C — contiguous memory the compiler vectorises — instead of down a column.
// Leaves out: blocking (see GEMM+Packed.swift).

enum SmallGEMM {
    /// C = α·op(A)·op(B) + β·C for small sizes (same contract as `GEMM.multiply`).
    static func multiply(transA: Transpose, transB: Transpose, m: Int, n: Int, k: Int, alpha: Float,
                         a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                         beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
        var row = [Float](repeating: 0, count: n)
        for i in 0..<m {
            for j in 0..<n { row[j] = 0 }
            for p in 0..<k {
                let x = transA == .none ? a[i &* lda &+ p] : a[p &* lda &+ i]
                if transB == .none {
                    let bRow = b + p &* ldb
                    for j in 0..<n { row[j] += x * bRow[j] }
                } else {
                    for j in 0..<n { row[j] += x * b[j &* ldb &+ p] }
                }
            }
            let cRow = c + i &* ldc
            for j in 0..<n { cRow[j] = beta == 0 ? alpha * row[j] : alpha * row[j] + beta * cRow[j] }
        }
    }
}
