// DoubleReference.swift — independent Double implementations of the ops, for forward tests and the
// Double gradient check (Autodiff/GradientCheck.swift).
//
// Teaches: a reference implementation is only independent if it shares no code with what it checks. These
// work on flat [Double] arrays with explicit index arithmetic — no Tensor, no Kernels — so a bug in the
// fast path cannot be copied into the expected value. The op catalogue (Tests/AutodiffTests) and the
// composite checks of layers (NNTests, PEFTTests, QuantizationTests) build their twins from them.
// Leaves out: speed (these are O(n³) loops on tiny shapes), broadcasting helpers (kept with the catalogue).
import Foundation

/// C = op(A)·op(B) for one matrix pair in Double.
public func referenceMatmul(_ a: ArraySlice<Double>, _ aRows: Int, _ aCols: Int, transA: Bool,
                     _ b: ArraySlice<Double>, _ bRows: Int, _ bCols: Int, transB: Bool) -> [Double] {
    let (a, b) = (Array(a), Array(b))
    let m = transA ? aCols : aRows, k = transA ? aRows : aCols, n = transB ? bRows : bCols
    var c = [Double](repeating: 0, count: m * n)
    for i in 0..<m { for j in 0..<n { for p in 0..<k {
        c[i * n + j] += (transA ? a[p * aCols + i] : a[i * aCols + p]) * (transB ? b[j * bCols + p] : b[p * bCols + j])
    } } }
    return c
}

/// Per-row map over the last axis.
public func mapRows(_ x: [Double], width: Int, _ f: ([Double]) -> [Double]) -> [Double] {
    stride(from: 0, to: x.count, by: width).flatMap { f(Array(x[$0..<($0 + width)])) }
}

/// softmax of one row, max-subtracted.
public func softmaxRow(_ r: [Double]) -> [Double] {
    let m = r.max()!
    let e = r.map { Foundation.exp($0 - m) }
    let s = e.reduce(0, +)
    return e.map { $0 / s }
}

/// GELU, exact: x·Φ(x).
public func geluErf(_ x: Double) -> Double { 0.5 * x * (1 + erf(x / 2.0.squareRoot())) }
/// GELU, tanh approximation (GPT-2's `gelu_new`).
public func geluTanh(_ x: Double) -> Double { 0.5 * x * (1 + Foundation.tanh((2 / Double.pi).squareRoot() * (x + 0.044715 * x * x * x))) }

/// Causal attention per head in Double: query i of T sees keys 0 ..< (S − T) + i + 1.
/// x = [q [heads·T·D], k [heads·S·D], v [heads·S·D]] → [heads·T·D].
public func attentionReference(_ x: [[Double]], heads: Int, t: Int, s: Int, d: Int) -> [Double] {
    let (q, k, v) = (x[0], x[1], x[2])
    var out = [Double](repeating: 0, count: heads * t * d)
    for h in 0..<heads {
        for i in 0..<t {
            let seen = s - t + i + 1
            let scores = (0..<seen).map { j in
                (0..<d).reduce(0.0) { $0 + q[(h * t + i) * d + $1] * k[(h * s + j) * d + $1] } / Double(d).squareRoot()
            }
            let p = softmaxRow(scores)
            for c in 0..<d { out[(h * t + i) * d + c] = (0..<seen).reduce(0.0) { $0 + p[$1] * v[(h * s + $1) * d + c] } }
        }
    }
    return out
}

/// Layer norm rows in Double (ε = 1e-5).
public func layerNormReference(_ x: [Double], _ gamma: [Double], _ beta: [Double]?) -> [Double] {
    mapRows(x, width: gamma.count) { r in
        let mean = r.reduce(0, +) / Double(r.count)
        let variance = r.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(r.count)
        let inv = 1 / (variance + 1e-5).squareRoot()
        return r.enumerated().map { ($0.element - mean) * inv * gamma[$0.offset] + (beta?[$0.offset] ?? 0) }
    }
}

/// RoPE in HF's rotate-half layout, in Double.
public func ropeReference(_ x: [Double], steps: Int, width: Int, offset: Int, theta: Double = 10_000) -> [Double] {
    let half = width / 2
    var out = x
    for r in 0..<(x.count / width) {
        let t = Double(r % steps + offset)
        for i in 0..<half {
            let angle = t * Foundation.pow(theta, -2 * Double(i) / Double(width))
            let (a, b) = (x[r * width + i], x[r * width + i + half])
            out[r * width + i] = a * Foundation.cos(angle) - b * Foundation.sin(angle)
            out[r * width + i + half] = b * Foundation.cos(angle) + a * Foundation.sin(angle)
        }
    }
    return out
}

/// RMS norm rows in Double: x / √(mean(x²) + ε) ⊙ γ.
public func rmsNormReference(_ x: [Double], _ gamma: [Double], eps: Double = 1e-5) -> [Double] {
    mapRows(x, width: gamma.count) { r in
        let inverse = 1 / (r.map { $0 * $0 }.reduce(0, +) / Double(r.count) + eps).squareRoot()
        return r.enumerated().map { $0.element * inverse * gamma[$0.offset] }
    }
}
