// Reductions.swift — sums and maxima over the middle axis of an [outer, n, inner] view.
//
// Teaches: that one "reduce over an axis" kernel covers every axis: view the tensor as
// [outer, n, inner] (the product of the axes before, the axis, the product of the axes after) and
// reduce the middle index. Summing rows into an output row keeps the inner loop contiguous.
// Leaves out: reductions over several axes at once (reduce one axis at a time).

/// Reductions over the middle axis of an [outer, n, inner] view.
public enum Reduce {
    /// out[o, i] = Σ_j x[o, j, i].   x: [outer, n, inner], out: [outer, inner]
    public static func sum(_ x: UnsafePointer<Float>, outer: Int, n: Int, inner: Int, out: UnsafeMutablePointer<Float>) {
        for o in 0..<outer {
            let output = out + o * inner
            if inner == 1 {
                // Summing a contiguous row: vectorised lanes.
                output[0] = RowMath.sum(x + o * n, n)
                continue
            }
            for i in 0..<inner { output[i] = 0 }
            for j in 0..<n {
                let row = x + (o * n + j) * inner
                for i in 0..<inner { output[i] += row[i] }
            }
        }
    }

    /// out[o, i] = max_j x[o, j, i], argmax[o, i] = the first j attaining it.
    /// x: [outer, n, inner] with n ≥ 1; out, argmax: [outer, inner]
    public static func max(
        _ x: UnsafePointer<Float>, outer: Int, n: Int, inner: Int,
        out: UnsafeMutablePointer<Float>, argmax: UnsafeMutablePointer<Int32>
    ) {
        for o in 0..<outer {
            for i in 0..<inner {
                var best = x[o * n * inner + i], bestIndex: Int32 = 0
                for j in 1..<Swift.max(n, 1) where x[(o * n + j) * inner + i] > best {
                    best = x[(o * n + j) * inner + i]
                    bestIndex = Int32(j)
                }
                out[o * inner + i] = best
                argmax[o * inner + i] = bestIndex
            }
        }
    }
}
