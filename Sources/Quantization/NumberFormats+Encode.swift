// NumberFormats+Encode.swift — fp32 → any FloatFormat: round to nearest, ties to even, then the overflow rule.
//
// Teaches: rounding an fp32 to fewer mantissa bits is integer arithmetic. Write |x| = sig · 2^k with an
// integer significand sig (≤ 24 bits); the target format's spacing near x is 2^q with
// q = max(⌊log₂|x|⌋, minExponent) − M (the max() is what makes subnormals: below the smallest normal the
// spacing stops shrinking). Then n = round-half-even(sig / 2^(q − k)) is the target significand, a shift
// plus a look at the bits shifted out. One formula then gives the code for normals and subnormals alike,
// and a mantissa carry (n = 2^(M+1)) rolls into the next exponent by itself. Overflow is decided *after*
// rounding, as IEEE 754 and the OCP fp8 spec require: fp16(65519) = 65504 but fp16(65520) = ∞.
// Leaves out: other rounding modes (toward zero, stochastic), fp64 inputs, SIMD-vectorised loops.

extension FloatFormat {
    /// The bit pattern nearest to `x` (ties to the even mantissa), with the overflow rule applied.
    ///
    /// Contract: exact IEEE round-to-nearest-even, including subnormals and values that round to ±0
    /// (the sign is kept). Rounded magnitudes above the largest finite number become ±max (`.saturate`),
    /// ±∞ (`.toSpecial` with infinities) or NaN (`.toSpecial`, "FN" formats). ±∞ inputs follow the same
    /// rule. NaN becomes the format's quiet NaN; a format without NaN (E2M1) returns +0 for it.
    public func encode(_ x: Float) -> UInt32 {
        let bits = x.bitPattern
        let sign: UInt32 = bits >> 31 != 0 ? signBit : 0
        let field = Int((bits >> 23) & 0xFF)
        let fraction = bits & 0x7F_FFFF
        if field == 0xFF { return fraction != 0 ? nanMagnitude : sign | overflowMagnitude }
        if field == 0 && fraction == 0 { return sign }

        // |x| = sig · 2^k with sig an integer; fp32 subnormals have no implicit leading 1.
        let sig = UInt64(field == 0 ? fraction : fraction | 0x80_0000)
        let k = max(field, 1) - 150
        let log2x = field == 0 ? (31 - fraction.leadingZeroBitCount) - 149 : field - 127
        // The target's spacing near |x| is 2^q; below the smallest normal it stays at 2^(minExponent − M).
        let q = max(log2x, minExponent) - mantissaBits
        let shift = q - k
        var n: UInt64
        if shift <= 0 {
            n = sig << UInt64(-shift)              // the format is finer than fp32 here: exact
        } else if shift > 26 {
            n = 0                                  // |x| < a quarter of the spacing: rounds to ±0
        } else {
            // Round half to even on the bits shifted out.
            n = sig >> UInt64(shift)
            let rest = sig & ((1 << UInt64(shift)) - 1)
            let half = UInt64(1) << UInt64(shift - 1)
            if rest > half || (rest == half && n & 1 == 1) { n += 1 }
        }
        // Code = (exponent field − 1) · 2^M + n for normals (n carries the implicit 1) and = n for subnormals;
        // both are (q + M − minExponent) · 2^M + n. A carry to n = 2^(M+1) lands on the next binade by itself.
        let magnitude = UInt64(q + mantissaBits - minExponent) << UInt64(mantissaBits) + n
        if magnitude > UInt64(maxFiniteMagnitude) { return sign | overflowMagnitude }
        return sign | UInt32(magnitude)
    }

    /// `x` rounded to this format and back to fp32: `decode(encode(x))`.
    ///
    /// This is what "casting to fp16 and back" does; chapter 11 uses it to simulate low-precision training.
    public func round(_ x: Float) -> Float { decode(encode(x)) }

    /// Every element rounded to this format (`round(_:)` elementwise); same length as `values`.
    public func round(_ values: [Float]) -> [Float] {
        var result = values
        roundInPlace(&result)
        return result
    }

    /// Rounds every element of `values` to this format, in place.
    public func roundInPlace(_ values: inout [Float]) {
        values.withUnsafeMutableBufferPointer { roundInPlace($0) }
    }

    /// Rounds every element of a raw buffer to this format, in place (for tensors' storage).
    public func roundInPlace(_ buffer: UnsafeMutableBufferPointer<Float>) {
        for i in buffer.indices { buffer[i] = decode(encode(buffer[i])) }
    }

    /// The value this format's bit pattern `code` has when the same bits are read by `other` — e.g. bf16
    /// bits handed to code that expects fp16. Nothing is converted, so the result is usually garbage.
    /// Throws `QuantizationError` unless both formats have the same `bitWidth`.
    public func reinterpret(_ code: UInt32, as other: FloatFormat) throws -> Float {
        guard other.bitWidth == bitWidth else {
            throw QuantizationError("cannot read \(bitWidth)-bit \(name) bits as \(other.bitWidth)-bit \(other.name)")
        }
        return other.decode(code)
    }
}
