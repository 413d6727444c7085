// NumberFormats+Integer.swift — int8 and int4: a uniform grid of 2^b − 1 codes that needs a scale.
//
// Teaches: an integer format has no exponent, so its numbers are evenly spaced and its range is whatever
// the scale makes it: value = code · scale. We use the symmetric range −(2^(b−1) − 1)...2^(b−1) − 1
// (int8: ±127, int4: ±7), leaving the extra negative code unused so that +x and −x quantize alike;
// quantizing is round-half-to-even of x / scale, then clamping to the range.
// Leaves out: choosing the scale from data (absmax, percentiles, per-channel or per-block — the PTQ
// files), zero points (asymmetric ranges), packing two int4 codes per byte.

/// A signed integer format with a symmetric range and a real-valued scale.
public struct IntegerFormat: Sendable, Equatable, CustomStringConvertible {
    /// Display name, e.g. "int8".
    public let name: String
    /// Total bits b, sign included.
    public let bits: Int

    /// The `bits`-bit format; throws `QuantizationError` unless 2 ≤ bits ≤ 16.
    public init(bits: Int) throws {
        guard (2...16).contains(bits) else { throw QuantizationError("integer formats need 2...16 bits, got \(bits)") }
        self.init(validated: bits)
    }

    private init(validated bits: Int) {
        self.bits = bits
        name = "int\(bits)"
    }

    /// 8-bit codes −127...127.
    public static let int8 = IntegerFormat(validated: 8)
    /// 4-bit codes −7...7.
    public static let int4 = IntegerFormat(validated: 4)

    /// The largest code, 2^(b−1) − 1 (the range is symmetric: −maxCode...maxCode).
    public var maxCode: Int { (1 << (bits - 1)) - 1 }

    /// "int8 (codes −127...127)".
    public var description: String { "\(name) (codes −\(maxCode)...\(maxCode))" }

    /// The scale that maps the largest magnitude `absmax` onto `maxCode`: absmax / maxCode.
    public func scale(absmax: Float) -> Float { absmax / Float(maxCode) }

    /// The code of `x`: round-half-to-even(x / scale), clamped to ±maxCode.
    ///
    /// Ties go to the even integer (0.5 → 0, 1.5 → 2, 2.5 → 2), so rounding errors do not drift one way.
    /// NaN (including 0 / 0 when scale is 0) gives code 0; ±∞ clamps to ±maxCode.
    public func quantize(_ x: Float, scale: Float = 1) -> Int {
        let r = (x / scale).rounded(.toNearestOrEven)
        // Compare in Float before converting: Int(∞) or Int(NaN) would trap.
        if r.isNaN { return 0 }
        let limit = Float(maxCode)
        return Int(min(max(r, -limit), limit))
    }

    /// The value of `code`: code · scale.
    public func dequantize(_ code: Int, scale: Float) -> Float { Float(code) * scale }

    /// `x` quantized and dequantized with `scale`: the nearest grid point code · scale (clamped).
    public func round(_ x: Float, scale: Float) -> Float { dequantize(quantize(x, scale: scale), scale: scale) }
}
