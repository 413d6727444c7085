// QuantizationByHand.swift — Chapter 11–12 exercises, solved: the straight-through estimator; NF4 block
// quantization.
import ExerciseKit

/// Task 11.1 — the backward pass of fake quantization (straight-through estimator).
///
/// Forward, each value became clamp(round(x / scale), qmin, qmax) · scale. Given the gradient of the loss
/// with respect to those outputs (`upstream`, same length as `x`), return the gradient with respect to x
/// that QAT uses: `upstream[i]` where qmin ≤ x[i] / scale ≤ qmax (the rounding is treated as the
/// identity), and 0 where the clamp was active (those inputs cannot move the output).
public func straightThroughGradient(x: [Float], scale: Float, qmin: Int, qmax: Int, upstream: [Float]) throws -> [Float] {
    // round() has derivative 0 almost everywhere; the STE replaces it by 1. The clamp's derivative is
    // real: 1 inside [qmin, qmax], 0 outside — so the gradient is the upstream one, masked.
    let inverse: Float = scale > 0 ? 1 / scale : 0
    return zip(x, upstream).map { value, gradient in
        let scaled = value * inverse
        return scaled >= Float(qmin) && scaled <= Float(qmax) ? gradient : 0
    }
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
    let absmax = values.map(abs).max() ?? 0
    let inverse: Float = absmax > 0 ? 1 / absmax : 0
    // Sorted levels → the nearest one is found by counting the midpoints below the value.
    let midpoints = (0..<15).map { (nf4Levels[$0] + nf4Levels[$0 + 1]) / 2 }
    let codes = values.map { value in UInt8(midpoints.filter { value * inverse > $0 }.count) }
    var packed = [UInt8](repeating: 0, count: (codes.count + 1) / 2)
    for (i, code) in codes.enumerated() {
        // Even positions fill the high nibble, odd ones the low nibble of the same byte.
        packed[i / 2] |= i % 2 == 0 ? code << 4 : code
    }
    return (packed, absmax)
}
