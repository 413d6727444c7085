// PEFTByHand.swift — Chapter 7 exercise: IA3's learned rescaling.
import ExerciseKit

/// Task 7.1 — IA3 on GPT-2's fused attention projection.
///
/// `c_attn` maps x [in] to q | k | v, three blocks of `width` values: y = W·x + bias with W [3·width, in]
/// row-major and bias [3·width]. IA3 learns one scale per key and per value unit, `scales` [2·width]
/// (keys first, then values), and multiplies them into the output; the queries are left alone.
/// Return the rescaled output [3·width].
public func ia3Attention(x: [Float], w: [Float], bias: [Float], scales: [Float], inFeatures: Int, width: Int) throws -> [Float] {
    // TODO: y = W·x + bias, 3·width values.
    // TODO: multiply y[width + j] by scales[j] for j in 0..<2·width (the k and v blocks); keep q as is.
    try todo("7.1")
}
