// FormatsByHand.swift — Chapter 10 exercises: bf16 rounding with bit operations; absmax int8/int4 quantization (solved).
import ExerciseKit

/// Task 10.1 — bf16 rounding by bit manipulation.
///
/// bf16 is the top 16 bits of an fp32. Return `x` rounded to the nearest bf16 (ties to the even
/// mantissa), as an fp32 whose low 16 bits are zero. NaN must stay NaN; values that round above bf16's
/// max become ±∞; ±∞ and ±0 are unchanged. Example: 1234.56789 → 1232, 123456.789 → 123392.
/// Use `x.bitPattern` and `Float(bitPattern:)` — no library rounding.
public func bf16Round(_ x: Float) throws -> Float {
    // A NaN's payload may sit only in the low bits; rounding could carry into the exponent and make ∞.
    if x.isNaN { return x }
    let bits = x.bitPattern
    // Adding 0x7FFF carries into bit 16 exactly when the dropped half is > 0x8000 (round up); the extra
    // "lowest kept bit" makes the tie 0x8000 carry only when the kept part is odd — ties to even.
    // A carry out of the mantissa increments the exponent, which is right (1.11…1 → 10.0), and past the
    // largest exponent it produces the bits of ∞, which is IEEE's overflow rule. ±∞ and ±0 have zero low
    // bits and an even kept part, so they pass through unchanged.
    let lowestKept = (bits >> 16) & 1
    let rounded = bits &+ 0x7FFF &+ lowestKept
    return Float(bitPattern: rounded & 0xFFFF_0000)
}

/// Task 10.2 — absmax quantization to a `bits`-bit signed integer (2 ≤ bits ≤ 8).
///
/// With maxCode = 2^(bits−1) − 1 (int8: 127, int4: 7) and scale = absmax(x) / maxCode, return
/// codes[i] = round-half-to-even(x[i] / scale), clamped to ±maxCode, and the scale.
/// If every value is 0 the scale is 0 and every code is 0.
public func absmaxQuantize(_ x: [Float], bits: Int) throws -> (codes: [Int8], scale: Float) {
    // The symmetric range ±maxCode leaves −2^(bits−1) unused, so x and −x get opposite codes.
    let maxCode = Float((1 << (bits - 1)) - 1)
    let absmax = x.reduce(Float(0)) { max($0, abs($1)) }
    let scale = absmax / maxCode
    // All zeros: any scale reproduces them; 0 avoids 0/0 = NaN.
    if scale == 0 { return ([Int8](repeating: 0, count: x.count), 0) }
    // The largest value maps to ±maxCode (the clamp only guards against the division rounding up past it).
    let codes = x.map { Int8(min(max(($0 / scale).rounded(.toNearestOrEven), -maxCode), maxCode)) }
    return (codes, scale)
}

/// Task 10.2 — dequantization: the values codes[i] · scale.
public func absmaxDequantize(_ codes: [Int8], scale: Float) throws -> [Float] {
    // Every value comes back within scale / 2 of the original: the error is absolute, not relative.
    codes.map { Float($0) * scale }
}
