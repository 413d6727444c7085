// Int8Outliers.swift — LLM.int8(): int8 matrix multiplication with the outlier features kept in 16-bit.
//
// Teaches: why plain int8 breaks large transformers and the fix of Dettmers et al. (2022). Past a few
// billion parameters, a handful of hidden features carry activations of magnitude 20–100 in every
// token. With one absmax scale per token row, those few values stretch the scale and every ordinary
// value rounds to a handful of codes. The decomposition: feature columns of X in which any |x| ≥ 6 are
// multiplied in fp16 (with the matching columns of W); the rest go through vector-wise int8 — each row
// of X and each row of W (an output feature) with its own absmax, products summed in int32, and the
// sum rescaled by sₓ·s_w / 127². Outlier columns are rare (<1%), so nearly all the work stays int8.
// Leaves out: the GPU kernels, and int8 for the backward pass (this is the inference path).
import Foundation
import Kernels

/// Int8 matrix products, with and without outlier decomposition.
public enum Int8Matmul {
    /// Y[m, n] = X[m, k]·Wᵀ with W [n, k]: vector-wise int8 on the regular columns; columns of X with any
    /// |x| ≥ `threshold` in fp16 (Float16 operands, Float accumulation). `threshold: nil` = plain int8.
    /// Returns Y and the outlier column indices.
    public static func multiply(_ x: [Float], rows m: Int, _ w: [Float], outputs n: Int, inner k: Int,
                                threshold: Float? = 6) -> (y: [Float], outlierColumns: [Int]) {
        require(x.count == m * k && w.count == n * k, "Int8Matmul: X \(x.count) values for [\(m), \(k)], W \(w.count) for [\(n), \(k)]")
        // 1. Outlier feature columns: any |X[i, c]| ≥ threshold.
        var isOutlier = [Bool](repeating: false, count: k)
        if let threshold {
            for i in 0..<m { for c in 0..<k where abs(x[i * k + c]) >= threshold { isOutlier[c] = true } }
        }
        let outliers = (0..<k).filter { isOutlier[$0] }
        // 2. Vector-wise int8 of the regular part: row absmax of X (outliers excluded), row absmax of W.
        let xScales = (0..<m).map { i in rowAbsmax(x, row: i, width: k, skipping: isOutlier) / 127 }
        let wScales = (0..<n).map { j in rowAbsmax(w, row: j, width: k, skipping: isOutlier) / 127 }
        let xq = quantizeRows(x, rows: m, width: k, scales: xScales, skipping: isOutlier)
        let wq = quantizeRows(w, rows: n, width: k, scales: wScales, skipping: isOutlier)
        var y = [Float](repeating: 0, count: m * n)
        for i in 0..<m {
            for j in 0..<n {
                // Integer dot product (exact in Int32 for k < 133 000), then one rescale.
                var accumulator: Int32 = 0
                for c in 0..<k { accumulator &+= Int32(xq[i * k + c]) &* Int32(wq[j * k + c]) }
                var value = Float(accumulator) * xScales[i] * wScales[j]
                // 3. The outlier columns in fp16.
                for c in outliers { value += Float(Float16(x[i * k + c])) * Float(Float16(w[j * k + c])) }
                y[i * n + j] = value
            }
        }
        return (y, outliers)
    }

    /// max |row| over the non-outlier columns.
    static func rowAbsmax(_ values: [Float], row: Int, width: Int, skipping: [Bool]) -> Float {
        var best: Float = 0
        for c in 0..<width where !skipping[c] { best = max(best, abs(values[row * width + c])) }
        return best
    }

    /// Int8 codes round(v / s_row), with outlier columns set to 0 (they are handled in fp16).
    static func quantizeRows(_ values: [Float], rows: Int, width: Int, scales: [Float], skipping: [Bool]) -> [Int8] {
        var codes = [Int8](repeating: 0, count: rows * width)
        for r in 0..<rows where scales[r] > 0 {
            for c in 0..<width where !skipping[c] {
                codes[r * width + c] = Int8(min(max((values[r * width + c] / scales[r]).rounded(.toNearestOrEven), -127), 127))
            }
        }
        return codes
    }
}
