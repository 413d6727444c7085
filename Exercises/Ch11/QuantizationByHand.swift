// QuantizationByHand.swift — Chapter 11–12 exercises: the straight-through estimator; NF4 block quantization.
import ExerciseKit

/// Task 11.1 — the backward pass of fake quantization (straight-through estimator).
///
/// Forward, each value became clamp(round(x / scale), qmin, qmax) · scale. Given the gradient of the loss
/// with respect to those outputs (`upstream`, same length as `x`), return the gradient with respect to x
/// that QAT uses: `upstream[i]` where qmin ≤ x[i] / scale ≤ qmax (the rounding is treated as the
/// identity), and 0 where the clamp was active (those inputs cannot move the output).
public func straightThroughGradient(x: [Float], scale: Float, qmin: Int, qmax: Int, upstream: [Float]) throws -> [Float] {
    // TODO: for each i, compute x[i] / scale and compare it with Float(qmin) and Float(qmax).
    // TODO: pass upstream[i] through inside the range, 0 outside.
    try todo("11.1")
}

/// The 16 NF4 levels in code order (QLoRA's table: quantiles of N(0, 1) normalised to [-1, 1]).
public let nf4Levels: [Float] = [
    -1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453,
    -0.28444138169288635, -0.18477343022823334, -0.09105003625154495, 0.0,
    0.07958029955625534, 0.16093020141124725, 0.24611230194568634, 0.33791524171829224,
    0.44070982933044434, 0.5626170039176941, 0.7229568362236023, 1.0,
]

/// Task 12.1 — quantize one block of weights to NF4 and pack the codes.
///
/// absmax = the largest |value| of the block; each value's code is the index (0…15) of the level in
/// `nf4Levels` nearest to value / absmax (when a value is exactly halfway, take the lower level; when
/// absmax is 0 every value is 0 and gets code 7). Pack two codes per byte, the first in the high nibble:
/// byte j = codes[2j] << 4 | codes[2j + 1]; an odd count leaves the last low nibble 0.
/// Return the packed bytes and the absmax.
public func nf4QuantizeBlock(_ values: [Float]) throws -> (packed: [UInt8], absmax: Float) {
    // TODO: absmax of the block; normalise each value by it (absmax 0 → every normalised value is 0).
    // TODO: nearest level: the code is the number of midpoints (levels[i] + levels[i+1]) / 2 strictly below the value.
    // TODO: pack pairs of codes, first code in the high nibble.
    try todo("12.1")
}
