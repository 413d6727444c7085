// SVD.swift — the singular value decomposition, by one-sided Jacobi rotations (in Double).
//
// Teaches: W = U·diag(S)·Vᵀ; keeping the top r singular values gives the best rank-r approximation
// (Eckart–Young), and the discarded singular values measure the error exactly:
// ‖W − W_r‖_F² = Σ_{k>r} s_k². Chapter 8 uses this on a fine-tuning update ΔW to show why low rank
// works; PiSSA uses it to initialise LoRA. One-sided Jacobi orthogonalises the columns of W·V by
// plane rotations until all pairs are orthogonal; then the column norms are the singular values.
// Leaves out: speed (O(n³) per sweep; fine for the few-hundred-wide matrices here).
import Foundation

/// A thin SVD: W [rows, cols] = U [rows, k] · diag(S) [k] · Vᵀ [k, cols], k = min(rows, cols), S descending.
public struct SVD: Sendable {
    /// k = min(rows, cols).
    public let rank: Int
    /// U, row-major [rows, k].
    public let u: [Double]
    /// Singular values, descending.
    public let singularValues: [Double]
    /// V, row-major [cols, k].
    public let v: [Double]

    /// Decomposes a row-major matrix.
    public static func decompose(_ matrix: [Double], rows: Int, columns: Int) -> SVD {
        // Work on the transpose when wide, so the matrix has at least as many rows as columns.
        if columns > rows {
            var transposed = [Double](repeating: 0, count: matrix.count)
            for r in 0..<rows { for c in 0..<columns { transposed[c * rows + r] = matrix[r * columns + c] } }
            let t = decompose(transposed, rows: columns, columns: rows)
            return SVD(rank: t.rank, u: t.v, singularValues: t.singularValues, v: t.u)
        }
        let (m, n) = (rows, columns)
        var a = matrix                       // columns become U·S
        var v = [Double](repeating: 0, count: n * n)
        for i in 0..<n { v[i * n + i] = 1 }
        // Sweep over column pairs until they are mutually orthogonal.
        for _ in 0..<60 {
            var rotated = false
            for p in 0..<(n - 1) {
                for q in (p + 1)..<n {
                    var alpha = 0.0, beta = 0.0, gamma = 0.0
                    for i in 0..<m {
                        let (x, y) = (a[i * n + p], a[i * n + q])
                        alpha += x * x; beta += y * y; gamma += x * y
                    }
                    if abs(gamma) <= 1e-15 * (alpha * beta).squareRoot() || gamma == 0 { continue }
                    rotated = true
                    // The rotation that zeroes the (p, q) inner product.
                    let zeta = (beta - alpha) / (2 * gamma)
                    let t = (zeta >= 0 ? 1.0 : -1.0) / (abs(zeta) + (1 + zeta * zeta).squareRoot())
                    let c = 1 / (1 + t * t).squareRoot(), s = c * t
                    for i in 0..<m {
                        let (x, y) = (a[i * n + p], a[i * n + q])
                        a[i * n + p] = c * x - s * y
                        a[i * n + q] = s * x + c * y
                    }
                    for i in 0..<n {
                        let (x, y) = (v[i * n + p], v[i * n + q])
                        v[i * n + p] = c * x - s * y
                        v[i * n + q] = s * x + c * y
                    }
                }
            }
            if !rotated { break }
        }
        // Singular values are the column norms; sort descending and normalise U's columns.
        let norms = (0..<n).map { j in (0..<m).reduce(0.0) { $0 + a[$1 * n + j] * a[$1 * n + j] }.squareRoot() }
        let order = (0..<n).sorted { norms[$0] > norms[$1] }
        var u = [Double](repeating: 0, count: m * n), vSorted = [Double](repeating: 0, count: n * n)
        for (k, j) in order.enumerated() {
            for i in 0..<m { u[i * n + k] = norms[j] > 0 ? a[i * n + j] / norms[j] : 0 }
            for i in 0..<n { vSorted[i * n + k] = v[i * n + j] }
        }
        return SVD(rank: n, u: u, singularValues: order.map { norms[$0] }, v: vSorted)
    }

    /// ‖W − W_r‖_F / ‖W‖_F for the best rank-r approximation: √(Σ_{k≥r} s_k² / Σ_k s_k²).
    public func relativeError(rank r: Int) -> Double {
        let total = singularValues.reduce(0) { $0 + $1 * $1 }
        let rest = singularValues.dropFirst(r).reduce(0) { $0 + $1 * $1 }
        return total == 0 ? 0 : (rest / total).squareRoot()
    }
}
