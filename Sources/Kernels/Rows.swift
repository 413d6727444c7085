// Rows.swift — kernels that work one row at a time: reductions, softmax, layer-norm, RMS-norm.
//
// Teaches: the numerically stable softmax (subtract the row max), log-softmax via log-sum-exp,
// and the closed-form backward passes of softmax and the two normalisations.
// Leaves out: fused attention, Welford's online variance (rows here are short enough for two passes).
import Foundation

/// Reductions over the middle axis of an [outer, n, inner] view.
public enum Reduce {
    /// out[o, i] = Σ_j x[o, j, i].   x: [outer, n, inner], out: [outer, inner]
    public static func sum(_ x: UnsafePointer<Float>, outer: Int, n: Int, inner: Int, out: UnsafeMutablePointer<Float>) {
        for o in 0..<outer {
            for i in 0..<inner { out[o * inner + i] = 0 }
            for j in 0..<n {
                let row = x + (o * n + j) * inner
                for i in 0..<inner { out[o * inner + i] += row[i] }
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

/// Softmax and log-softmax over the last axis.
public enum Softmax {
    /// y[r, :] = exp(x[r, :] − max) / Σ exp(x[r, :] − max).   x, y: [rows, cols]
    public static func forward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, rows: Int, cols: Int) {
        for r in 0..<rows {
            let xr = x + r * cols, yr = y + r * cols
            var m = -Float.infinity
            for c in 0..<cols { m = Swift.max(m, xr[c]) }
            var s: Float = 0
            for c in 0..<cols { yr[c] = FastMath.exp(xr[c] - m); s += yr[c] }
            let inv = 1 / s
            for c in 0..<cols { yr[c] *= inv }
        }
    }

    /// dx[r, :] += y ⊙ (dy − ⟨dy, y⟩), the softmax Jacobian-vector product.   all: [rows, cols]
    public static func backward(
        y: UnsafePointer<Float>, dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>, rows: Int, cols: Int
    ) {
        for r in 0..<rows {
            let yr = y + r * cols, dyr = dy + r * cols, dxr = dx + r * cols
            var dot: Float = 0
            for c in 0..<cols { dot += yr[c] * dyr[c] }
            for c in 0..<cols { dxr[c] += yr[c] * (dyr[c] - dot) }
        }
    }

    /// y[r, :] = x[r, :] − log Σ exp(x[r, :]) (computed stably).   x, y: [rows, cols]
    public static func logForward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, rows: Int, cols: Int) {
        for r in 0..<rows {
            let xr = x + r * cols, yr = y + r * cols
            var m = -Float.infinity
            for c in 0..<cols { m = Swift.max(m, xr[c]) }
            var s: Float = 0
            for c in 0..<cols { s += FastMath.exp(xr[c] - m) }
            let logSum = m + Foundation.log(s)
            for c in 0..<cols { yr[c] = xr[c] - logSum }
        }
    }

    /// dx[r, :] += dy − softmax(x)·Σ dy, where softmax(x) = exp(y).   all: [rows, cols]
    public static func logBackward(
        y: UnsafePointer<Float>, dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>, rows: Int, cols: Int
    ) {
        for r in 0..<rows {
            let yr = y + r * cols, dyr = dy + r * cols, dxr = dx + r * cols
            var s: Float = 0
            for c in 0..<cols { s += dyr[c] }
            for c in 0..<cols { dxr[c] += dyr[c] - FastMath.exp(yr[c]) * s }
        }
    }
}

/// Layer normalisation and RMS normalisation over the last axis.
public enum Norms {
    /// y = (x − μ)/σ · γ + β per row, σ = √(var + eps); saves μ and 1/σ per row for backward.
    /// x, y: [rows, cols]; gamma, beta: [cols] (beta may be nil); mean, rstd: [rows]
    public static func layerNormForward(
        _ x: UnsafePointer<Float>, gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>?,
        _ y: UnsafeMutablePointer<Float>, mean: UnsafeMutablePointer<Float>, rstd: UnsafeMutablePointer<Float>,
        rows: Int, cols: Int, eps: Float
    ) {
        for r in 0..<rows {
            let xr = x + r * cols, yr = y + r * cols
            var mu: Float = 0
            for c in 0..<cols { mu += xr[c] }
            mu /= Float(cols)
            var variance: Float = 0
            for c in 0..<cols { variance += (xr[c] - mu) * (xr[c] - mu) }
            variance /= Float(cols)
            let inv = 1 / (variance + eps).squareRoot()
            mean[r] = mu
            rstd[r] = inv
            for c in 0..<cols { yr[c] = (xr[c] - mu) * inv * gamma[c] + (beta?[c] ?? 0) }
        }
    }

    /// Accumulates dx, dγ, dβ for layer norm (any of them may be nil to skip).
    /// With x̂ = (x − μ)/σ and g = dy ⊙ γ: dx = (g − mean(g) − x̂·mean(g ⊙ x̂)) / σ.
    public static func layerNormBackward(
        dy: UnsafePointer<Float>, x: UnsafePointer<Float>, mean: UnsafePointer<Float>, rstd: UnsafePointer<Float>,
        gamma: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>?,
        dgamma: UnsafeMutablePointer<Float>?, dbeta: UnsafeMutablePointer<Float>?, rows: Int, cols: Int
    ) {
        for r in 0..<rows {
            let xr = x + r * cols, dyr = dy + r * cols
            let mu = mean[r], inv = rstd[r]
            var meanG: Float = 0, meanGX: Float = 0
            for c in 0..<cols {
                let xhat = (xr[c] - mu) * inv
                let g = dyr[c] * gamma[c]
                meanG += g
                meanGX += g * xhat
                dgamma?[c] += dyr[c] * xhat
                dbeta?[c] += dyr[c]
            }
            meanG /= Float(cols)
            meanGX /= Float(cols)
            if let dx {
                let dxr = dx + r * cols
                for c in 0..<cols {
                    let xhat = (xr[c] - mu) * inv
                    dxr[c] += (dyr[c] * gamma[c] - meanG - xhat * meanGX) * inv
                }
            }
        }
    }

    /// y = x / rms(x) · γ per row, rms = √(mean(x²) + eps); saves 1/rms per row.
    /// x, y: [rows, cols]; gamma: [cols]; rstd: [rows]
    public static func rmsNormForward(
        _ x: UnsafePointer<Float>, gamma: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
        rstd: UnsafeMutablePointer<Float>, rows: Int, cols: Int, eps: Float
    ) {
        for r in 0..<rows {
            let xr = x + r * cols, yr = y + r * cols
            var ms: Float = 0
            for c in 0..<cols { ms += xr[c] * xr[c] }
            let inv = 1 / (ms / Float(cols) + eps).squareRoot()
            rstd[r] = inv
            for c in 0..<cols { yr[c] = xr[c] * inv * gamma[c] }
        }
    }

    /// Accumulates dx and dγ for RMS norm. With x̂ = x/rms and g = dy ⊙ γ: dx = (g − x̂·mean(g ⊙ x̂)) / rms.
    public static func rmsNormBackward(
        dy: UnsafePointer<Float>, x: UnsafePointer<Float>, rstd: UnsafePointer<Float>, gamma: UnsafePointer<Float>,
        dx: UnsafeMutablePointer<Float>?, dgamma: UnsafeMutablePointer<Float>?, rows: Int, cols: Int
    ) {
        for r in 0..<rows {
            let xr = x + r * cols, dyr = dy + r * cols
            let inv = rstd[r]
            var meanGX: Float = 0
            for c in 0..<cols {
                let xhat = xr[c] * inv
                meanGX += dyr[c] * gamma[c] * xhat
                dgamma?[c] += dyr[c] * xhat
            }
            meanGX /= Float(cols)
            if let dx {
                let dxr = dx + r * cols
                for c in 0..<cols { dxr[c] += (dyr[c] * gamma[c] - xr[c] * inv * meanGX) * inv }
            }
        }
    }
}
