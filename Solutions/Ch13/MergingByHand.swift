// MergingByHand.swift — Chapter 13 exercises: the arithmetic of merging (solved).
import ExerciseKit
import Foundation

/// Task 13.1 — spherical linear interpolation.
///
/// Interpolate from `a` (t = 0) to `b` (t = 1) along the great circle: with θ the angle between them,
/// result = sin((1−t)θ)/sin θ · a + sin(tθ)/sin θ · b. When |cos θ| > 0.9995 use plain linear
/// interpolation (1−t)·a + t·b instead.
public func slerp(_ a: [Float], _ b: [Float], t: Float) throws -> [Float] {
    let dot = zip(a, b).reduce(Double(0)) { $0 + Double($1.0) * Double($1.1) }
    let norms = a.reduce(Double(0)) { $0 + Double($1 * $1) }.squareRoot() * b.reduce(Double(0)) { $0 + Double($1 * $1) }.squareRoot()
    let cosine = norms == 0 ? 1 : dot / norms
    // Nearly parallel vectors make sin θ ≈ 0: the formula loses precision, and lerp is then as good.
    if abs(cosine) > 0.9995 { return zip(a, b).map { (1 - t) * $0 + t * $1 } }
    let theta = acos(cosine)
    let wa = Float(sin((1 - Double(t)) * theta) / sin(theta)), wb = Float(sin(Double(t) * theta) / sin(theta))
    return zip(a, b).map { wa * $0 + wb * $1 }
}

/// Task 13.2 — TIES's sign election and disjoint mean.
///
/// For each position, elect the sign of the *sum* of the values there; average only the nonzero values
/// with that sign (0 if the sum is 0 or nothing agrees).
public func electAndAverage(_ vectors: [[Float]]) throws -> [Float] {
    // Disagreeing updates cancel in a plain average; TIES keeps only the majority direction's values.
    (0..<(vectors.first?.count ?? 0)).map { i in
        let total = vectors.reduce(Float(0)) { $0 + $1[i] }
        let agreeing = vectors.map { $0[i] }.filter { $0 != 0 && total != 0 && ($0 > 0) == (total > 0) }
        return agreeing.isEmpty ? 0 : agreeing.reduce(0, +) / Float(agreeing.count)
    }
}

/// Task 13.3 — DARE's rescale.
///
/// Given a task vector and a keep-mask (true = kept) drawn with drop probability p, return the vector
/// with dropped entries zeroed and kept ones divided by (1 − p), so that its expectation is unchanged.
public func dareRescale(_ tau: [Float], keep: [Bool], dropProbability p: Float) throws -> [Float] {
    // E[kept · x/(1−p)] = (1−p)·x/(1−p) = x.
    zip(tau, keep).map { $1 ? $0 / (1 - p) : 0 }
}

/// Task 13.4 — negating a task vector.
///
/// `tuned` was fine-tuned from `base`. Return a model with that fine-tune's skill removed from `other`
/// (which contains it): other − λ·(tuned − base).
public func subtractTask(other: [Float], tuned: [Float], base: [Float], lambda: Float) throws -> [Float] {
    // Task vectors add and subtract like ordinary vectors: adding τ teaches, subtracting τ unteaches.
    (0..<other.count).map { other[$0] - lambda * (tuned[$0] - base[$0]) }
}
