// CombiningByHand.swift — Chapter 14 exercise: concatenating LoRA adapters (solved).
import ExerciseKit

/// Task 14.1 — LoRA concatenation.
///
/// Each adapter i has A_i [r_i, in], B_i [out, r_i] (row-major) and scaling s_i; its update is s_i·B_i·A_i.
/// Build one adapter of rank R = Σ r_i, with scaling 1, whose update is the weighted sum
/// Σ w_i·s_i·B_i·A_i exactly: A [R, in] stacks the A_i's rows in order; B [out, R] puts w_i·s_i·B_i in
/// columns offset_i ..< offset_i + r_i (offset_i = r_1 + … + r_(i−1)). Return (A, B), row-major.
public func concatenateAdapters(_ adapters: [(a: [Float], b: [Float], rank: Int, scaling: Float)], weights: [Float],
                                inFeatures: Int, outFeatures: Int) throws -> (a: [Float], b: [Float]) {
    // Block matrices: [B_1 | B_2]·[A_1; A_2] = B_1·A_1 + B_2·A_2. So stacking A's rows and B's columns is
    // the sum of the updates with no approximation — the price is rank r_1 + r_2.
    let a = adapters.flatMap(\.a)
    let b = (0..<outFeatures).flatMap { o in
        // The scalings and weights go into B (the new adapter has scaling 1), one block per adapter.
        zip(adapters, weights).flatMap { adapter, weight in
            adapter.b[(o * adapter.rank)..<((o + 1) * adapter.rank)].map { weight * adapter.scaling * $0 }
        }
    }
    return (a, b)
}
