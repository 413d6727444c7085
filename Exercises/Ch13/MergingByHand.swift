// MergingByHand.swift — Chapter 13 exercises: the arithmetic of merging.
import ExerciseKit

/// Task 13.1 — spherical linear interpolation.
///
/// Interpolate from `a` (t = 0) to `b` (t = 1) along the great circle: with θ the angle between them,
/// result = sin((1−t)θ)/sin θ · a + sin(tθ)/sin θ · b. When |cos θ| > 0.9995 use plain linear
/// interpolation (1−t)·a + t·b instead.
public func slerp(_ a: [Float], _ b: [Float], t: Float) throws -> [Float] {
    // TODO: cos θ = a·b / (‖a‖‖b‖); the two weights; the lerp fallback.
    try todo("13.1")
}

/// Task 13.2 — TIES's sign election and disjoint mean.
///
/// For each position, elect the sign of the *sum* of the values there; average only the nonzero values
/// with that sign (0 if the sum is 0 or nothing agrees).
public func electAndAverage(_ vectors: [[Float]]) throws -> [Float] {
    // TODO: per position: total, then the mean of the agreeing nonzero entries.
    try todo("13.2")
}

/// Task 13.3 — DARE's rescale.
///
/// Given a task vector and a keep-mask (true = kept) drawn with drop probability p, return the vector
/// with dropped entries zeroed and kept ones divided by (1 − p), so that its expectation is unchanged.
public func dareRescale(_ tau: [Float], keep: [Bool], dropProbability p: Float) throws -> [Float] {
    // TODO: zero or rescale each entry.
    try todo("13.3")
}

/// Task 13.4 — negating a task vector.
///
/// `tuned` was fine-tuned from `base`. Return a model with that fine-tune's skill removed from `other`
/// (which contains it): other − λ·(tuned − base).
public func subtractTask(other: [Float], tuned: [Float], base: [Float], lambda: Float) throws -> [Float] {
    // TODO: the task vector is tuned − base.
    try todo("13.4")
}
