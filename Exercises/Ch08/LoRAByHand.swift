// LoRAByHand.swift — Chapter 7–9 exercises: LoRA's forward pass, its size, merging, mixed batches.
import ExerciseKit

/// Task 8.1 — the LoRA forward pass for one input vector.
///
/// W is [out, in], A is [r, in], B is [out, r], all row-major; x is [in]. Return
/// y = W·x + scaling·B·(A·x) — computing A·x first (r values), never the full B·A.
public func loraForward(x: [Float], w: [Float], a: [Float], b: [Float], inFeatures: Int, outFeatures: Int, rank: Int,
                        scaling: Float) throws -> [Float] {
    // TODO: u = A·x (length r); y = W·x + scaling·B·u.
    try todo("8.1")
}

/// Task 8.2 — LoRA's parameter count.
///
/// Rank-r adapters on linear layers with the given (in, out) shapes: how many trainable parameters?
public func loraParameterCount(layers: [(inFeatures: Int, outFeatures: Int)], rank: Int) throws -> Int {
    // TODO: A is [r, in] and B is [out, r] for every layer.
    try todo("8.2")
}

/// Task 8.3 — merging an adapter.
///
/// Return W + scaling·B·A as a row-major [out, in] matrix.
public func mergedWeight(w: [Float], a: [Float], b: [Float], inFeatures: Int, outFeatures: Int, rank: Int,
                         scaling: Float) throws -> [Float] {
    // TODO: add scaling·Σ_k B[o, k]·A[k, i] to every W[o, i].
    try todo("8.3")
}

/// Task 8.4 — a mixed-adapter batch.
///
/// Row b of `x` ([batch, in]) is served with adapter `choices[b]` (an index into `adapters`, or nil for
/// the base model). Each adapter is (A, B, scaling) with the shapes of Task 8.1. Return the outputs
/// [batch, out]: W·x_b for every row, plus the chosen adapter's update.
public func mixedBatch(x: [Float], w: [Float], adapters: [(a: [Float], b: [Float], scaling: Float)], choices: [Int?],
                       inFeatures: Int, outFeatures: Int, rank: Int) throws -> [Float] {
    // TODO: one base product per row; add only the chosen adapter's B·(A·x_b).
    try todo("8.4")
}
