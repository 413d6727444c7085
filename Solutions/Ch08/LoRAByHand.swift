// LoRAByHand.swift — Chapter 7–9 exercises: LoRA's forward pass, its size, merging, mixed batches (solved).
import ExerciseKit

/// Task 8.1 — the LoRA forward pass for one input vector.
///
/// W is [out, in], A is [r, in], B is [out, r], all row-major; x is [in]. Return
/// y = W·x + scaling·B·(A·x) — computing A·x first (r values), never the full B·A.
public func loraForward(x: [Float], w: [Float], a: [Float], b: [Float], inFeatures: Int, outFeatures: Int, rank: Int,
                        scaling: Float) throws -> [Float] {
    // A·x first: r·in multiply-adds, then B·u: out·r — instead of out·in to build B·A.
    let u = (0..<rank).map { k in (0..<inFeatures).reduce(Float(0)) { $0 + a[k * inFeatures + $1] * x[$1] } }
    return (0..<outFeatures).map { o in
        let base = (0..<inFeatures).reduce(Float(0)) { $0 + w[o * inFeatures + $1] * x[$1] }
        let update = (0..<rank).reduce(Float(0)) { $0 + b[o * rank + $1] * u[$1] }
        return base + scaling * update
    }
}

/// Task 8.2 — LoRA's parameter count.
///
/// Rank-r adapters on linear layers with the given (in, out) shapes: how many trainable parameters?
public func loraParameterCount(layers: [(inFeatures: Int, outFeatures: Int)], rank: Int) throws -> Int {
    // r·(in + out) per layer instead of in·out: linear, not quadratic, in the width.
    layers.map { rank * ($0.inFeatures + $0.outFeatures) }.reduce(0, +)
}

/// Task 8.3 — merging an adapter.
///
/// Return W + scaling·B·A as a row-major [out, in] matrix.
public func mergedWeight(w: [Float], a: [Float], b: [Float], inFeatures: Int, outFeatures: Int, rank: Int,
                         scaling: Float) throws -> [Float] {
    // After merging, inference runs one matmul again: the adapter costs nothing at serving time.
    var merged = w
    for o in 0..<outFeatures {
        for i in 0..<inFeatures {
            merged[o * inFeatures + i] += scaling * (0..<rank).reduce(Float(0)) { $0 + b[o * rank + $1] * a[$1 * inFeatures + i] }
        }
    }
    return merged
}

/// Task 8.4 — a mixed-adapter batch.
///
/// Row b of `x` ([batch, in]) is served with adapter `choices[b]` (an index into `adapters`, or nil for
/// the base model). Each adapter is (A, B, scaling) with the shapes of Task 8.1. Return the outputs
/// [batch, out]: W·x_b for every row, plus the chosen adapter's update.
public func mixedBatch(x: [Float], w: [Float], adapters: [(a: [Float], b: [Float], scaling: Float)], choices: [Int?],
                       inFeatures: Int, outFeatures: Int, rank: Int) throws -> [Float] {
    // The base weight is shared by every row; each row adds only its own low-rank update.
    try choices.enumerated().flatMap { row, choice -> [Float] in
        let xb = Array(x[(row * inFeatures)..<((row + 1) * inFeatures)])
        guard let choice else {
            return (0..<outFeatures).map { o in (0..<inFeatures).reduce(Float(0)) { $0 + w[o * inFeatures + $1] * xb[$1] } }
        }
        let adapter = adapters[choice]
        return try loraForward(x: xb, w: w, a: adapter.a, b: adapter.b, inFeatures: inFeatures, outFeatures: outFeatures,
                                rank: rank, scaling: adapter.scaling)
    }
}
