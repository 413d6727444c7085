// CombiningByHand.swift — Chapter 14 exercise: concatenating LoRA adapters.
import ExerciseKit

/// Task 14.1 — LoRA concatenation.
///
/// Each adapter i has A_i [r_i, in], B_i [out, r_i] (row-major) and scaling s_i; its update is s_i·B_i·A_i.
/// Build one adapter of rank R = Σ r_i, with scaling 1, whose update is the weighted sum
/// Σ w_i·s_i·B_i·A_i exactly: A [R, in] stacks the A_i's rows in order; B [out, R] puts w_i·s_i·B_i in
/// columns offset_i ..< offset_i + r_i (offset_i = r_1 + … + r_(i−1)). Return (A, B), row-major.
public func concatenateAdapters(_ adapters: [(a: [Float], b: [Float], rank: Int, scaling: Float)], weights: [Float],
                                inFeatures: Int, outFeatures: Int) throws -> (a: [Float], b: [Float]) {
    // TODO: A: the adapters' A matrices one after another (rows of length `inFeatures`).
    // TODO: B: row o is the concatenation over i of w_i·s_i·(row o of B_i).
    try todo("14.1")
}
