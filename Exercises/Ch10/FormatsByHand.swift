// FormatsByHand.swift — Chapter 10 exercises: bf16 rounding with bit operations; absmax int8/int4 quantization.
import ExerciseKit

/// Task 10.1 — bf16 rounding by bit manipulation.
///
/// bf16 is the top 16 bits of an fp32. Return `x` rounded to the nearest bf16 (ties to the even
/// mantissa), as an fp32 whose low 16 bits are zero. NaN must stay NaN; values that round above bf16's
/// max become ±∞; ±∞ and ±0 are unchanged. Example: 1234.56789 → 1232, 123456.789 → 123392.
/// Use `x.bitPattern` and `Float(bitPattern:)` — no library rounding.
public func bf16Round(_ x: Float) throws -> Float {
    // TODO: return NaN unchanged (adding to a NaN's bits could turn it into ∞).
    // TODO: add 0x7FFF plus the lowest kept bit (bit 16) to the bits — the carry does round-half-to-even —
    //       then clear the low 16 bits.
    try todo("10.1")
}

/// Task 10.2 — absmax quantization to a `bits`-bit signed integer (2 ≤ bits ≤ 8).
///
/// With maxCode = 2^(bits−1) − 1 (int8: 127, int4: 7) and scale = absmax(x) / maxCode, return
/// codes[i] = round-half-to-even(x[i] / scale), clamped to ±maxCode, and the scale.
/// If every value is 0 the scale is 0 and every code is 0.
public func absmaxQuantize(_ x: [Float], bits: Int) throws -> (codes: [Int8], scale: Float) {
    // TODO: absmax = the largest |x[i]|; scale = absmax / maxCode.
    // TODO: divide each value by the scale, round with `.rounded(.toNearestOrEven)`, clamp, convert to Int8
    //       (handle scale 0 first: 0 / 0 is NaN, and Int8(NaN) traps).
    try todo("10.2")
}

/// Task 10.2 — dequantization: the values codes[i] · scale.
public func absmaxDequantize(_ codes: [Int8], scale: Float) throws -> [Float] {
    // TODO: multiply each code by the scale.
    try todo("10.2")
}
