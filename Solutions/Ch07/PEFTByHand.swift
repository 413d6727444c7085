// PEFTByHand.swift — Chapter 7 exercise: IA3's learned rescaling (solved).
import ExerciseKit

/// Task 7.1 — IA3 on GPT-2's fused attention projection.
///
/// `c_attn` maps x [in] to q | k | v, three blocks of `width` values: y = W·x + bias with W [3·width, in]
/// row-major and bias [3·width]. IA3 learns one scale per key and per value unit, `scales` [2·width]
/// (keys first, then values), and multiplies them into the output; the queries are left alone.
/// Return the rescaled output [3·width].
public func ia3Attention(x: [Float], w: [Float], bias: [Float], scales: [Float], inFeatures: Int, width: Int) throws -> [Float] {
    // The frozen layer first: an ordinary matrix-vector product plus bias.
    let y = (0..<(3 * width)).map { o in (0..<inFeatures).reduce(bias[o]) { $0 + w[o * inFeatures + $1] * x[$1] } }
    // IA3's whole update is this elementwise product: 2·width learned numbers per layer, initialised to 1
    // (the identity), so the model is unchanged at step 0. Queries keep scale 1: rescaling q and k both
    // would only multiply the attention logits by the same factor twice.
    return y.enumerated().map { index, value in index < width ? value : value * scales[index - width] }
}
