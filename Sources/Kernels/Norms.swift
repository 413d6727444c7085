// Norms.swift — layer normalisation and RMS normalisation over the last axis, forward and backward.
//
// Teaches: the closed-form backward passes of the two normalisations of GPT-2 and Llama, and how to
// thread a kernel whose backward *sums over rows* (dγ, dβ) and still get the same bits for any thread
// count: rows are cut into blocks of a fixed size, each block sums its rows into its own partial
// row, and the partials are added in block order at the end.
// Leaves out: Welford's online variance (rows here are short enough for two passes), fused residuals.

/// Layer normalisation and RMS normalisation over the last axis.
public enum Norms {
    /// Rows per block (threads take whole blocks; dγ partials are per block).
    static let rowsPerBlock = 32

    /// y = (x − μ)/σ · γ + β per row, σ = √(var + eps); saves μ and 1/σ per row for backward.
    /// x, y: [rows, cols]; gamma, beta: [cols] (beta may be nil); mean, rstd: [rows]
    public static func layerNormForward(
        _ x: UnsafePointer<Float>, gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>?,
        _ y: UnsafeMutablePointer<Float>, mean: UnsafeMutablePointer<Float>, rstd: UnsafeMutablePointer<Float>,
        rows: Int, cols: Int, eps: Float
    ) {
        Parallelism.forEachBlock(count: rows, blockSize: rowsPerBlock, workPerItem: cols * 4) { block in
            for r in block {
                let xr = x + r * cols, yr = y + r * cols
                let mu = RowMath.sum(xr, cols) / Float(cols)
                let variance = RowMath.squaredDeviations(xr, cols, from: mu) / Float(cols)
                let inv = 1 / (variance + eps).squareRoot()
                mean[r] = mu
                rstd[r] = inv
                if let beta {
                    for c in 0..<cols { yr[c] = (xr[c] - mu) * inv * gamma[c] + beta[c] }
                } else {
                    for c in 0..<cols { yr[c] = (xr[c] - mu) * inv * gamma[c] }
                }
            }
        }
    }

    /// The backward loop both norms share. Over fixed row blocks, for each row r: x̂ = (x − μ[r])·rstd[r]
    /// (μ = 0 without `mean`) and g = dy ⊙ γ go into scratch rows, dy ⊙ x̂ and dy into the block's dγ and
    /// dβ partials, then `finish(r, x̂, g)` writes dx. The partials are added into dgamma and dbeta in
    /// block order at the end, so the sums are bitwise the same for any thread count.
    private static func backwardRows(
        dy: UnsafePointer<Float>, x: UnsafePointer<Float>, mean: UnsafePointer<Float>?, rstd: UnsafePointer<Float>,
        gamma: UnsafePointer<Float>, dgamma: UnsafeMutablePointer<Float>?, dbeta: UnsafeMutablePointer<Float>?,
        rows: Int, cols: Int, _ finish: (Int, UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>) -> Void
    ) {
        let blocks = (rows + rowsPerBlock - 1) / rowsPerBlock
        let partialGamma = dgamma == nil ? nil : UnsafeMutablePointer<Float>.allocate(capacity: blocks * cols)
        let partialBeta = dbeta == nil ? nil : UnsafeMutablePointer<Float>.allocate(capacity: blocks * cols)
        defer { partialGamma?.deallocate(); partialBeta?.deallocate() }
        partialGamma?.initialize(repeating: 0, count: blocks * cols)
        partialBeta?.initialize(repeating: 0, count: blocks * cols)
        Parallelism.forEachBlock(count: rows, blockSize: rowsPerBlock, workPerItem: cols * 8) { block in
            let index = block.lowerBound / rowsPerBlock
            let pg = partialGamma.map { $0 + index * cols }, pb = partialBeta.map { $0 + index * cols }
            // Two scratch rows: x̂ and g.
            let xhat = UnsafeMutablePointer<Float>.allocate(capacity: 2 * cols)
            defer { xhat.deallocate() }
            let g = xhat + cols
            for r in block {
                let xr = x + r * cols, dyr = dy + r * cols
                let (mu, inv) = (mean?[r] ?? 0, rstd[r])
                for c in 0..<cols {
                    xhat[c] = (xr[c] - mu) * inv
                    g[c] = dyr[c] * gamma[c]
                }
                if let pg { for c in 0..<cols { pg[c] += dyr[c] * xhat[c] } }
                if let pb { for c in 0..<cols { pb[c] += dyr[c] } }
                finish(r, xhat, g)
            }
        }
        for index in 0..<blocks {
            if let dgamma, let partialGamma { for c in 0..<cols { dgamma[c] += partialGamma[index * cols + c] } }
            if let dbeta, let partialBeta { for c in 0..<cols { dbeta[c] += partialBeta[index * cols + c] } }
        }
    }

    /// Accumulates dx, dγ, dβ for layer norm (any of them may be nil to skip).
    /// With x̂ = (x − μ)/σ and g = dy ⊙ γ: dx = (g − mean(g) − x̂·mean(g ⊙ x̂)) / σ.
    public static func layerNormBackward(
        dy: UnsafePointer<Float>, x: UnsafePointer<Float>, mean: UnsafePointer<Float>, rstd: UnsafePointer<Float>,
        gamma: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>?,
        dgamma: UnsafeMutablePointer<Float>?, dbeta: UnsafeMutablePointer<Float>?, rows: Int, cols: Int
    ) {
        backwardRows(dy: dy, x: x, mean: mean, rstd: rstd, gamma: gamma, dgamma: dgamma, dbeta: dbeta,
                     rows: rows, cols: cols) { r, xhat, g in
            guard let dx else { return }
            let meanG = RowMath.sum(g, cols) / Float(cols)
            let meanGX = RowMath.dot(g, xhat, cols) / Float(cols)
            let (dxr, inv) = (dx + r * cols, rstd[r])
            for c in 0..<cols { dxr[c] += (g[c] - meanG - xhat[c] * meanGX) * inv }
        }
    }

    /// y = x / rms(x) · γ per row, rms = √(mean(x²) + eps); saves 1/rms per row.
    /// x, y: [rows, cols]; gamma: [cols]; rstd: [rows]
    public static func rmsNormForward(
        _ x: UnsafePointer<Float>, gamma: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
        rstd: UnsafeMutablePointer<Float>, rows: Int, cols: Int, eps: Float
    ) {
        Parallelism.forEachBlock(count: rows, blockSize: rowsPerBlock, workPerItem: cols * 3) { block in
            for r in block {
                let xr = x + r * cols, yr = y + r * cols
                let inv = 1 / (RowMath.dot(xr, xr, cols) / Float(cols) + eps).squareRoot()
                rstd[r] = inv
                for c in 0..<cols { yr[c] = xr[c] * inv * gamma[c] }
            }
        }
    }

    /// Accumulates dx and dγ for RMS norm. With x̂ = x/rms and g = dy ⊙ γ: dx = (g − x̂·mean(g ⊙ x̂)) / rms.
    public static func rmsNormBackward(
        dy: UnsafePointer<Float>, x: UnsafePointer<Float>, rstd: UnsafePointer<Float>, gamma: UnsafePointer<Float>,
        dx: UnsafeMutablePointer<Float>?, dgamma: UnsafeMutablePointer<Float>?, rows: Int, cols: Int
    ) {
        backwardRows(dy: dy, x: x, mean: nil, rstd: rstd, gamma: gamma, dgamma: dgamma, dbeta: nil,
                     rows: rows, cols: cols) { r, xhat, g in
            guard let dx else { return }
            let meanGX = RowMath.dot(g, xhat, cols) / Float(cols)
            let (dxr, inv) = (dx + r * cols, rstd[r])
            for c in 0..<cols { dxr[c] += (g[c] - xhat[c] * meanGX) * inv }
        }
    }
}
