// NumberFormats.swift — binary floating-point formats from fp32 down to fp4, defined by their bit fields.
//
// Teaches: a binary float is (−1)^s · 2^(e − bias) · (1 + m/2^M), with subnormals 2^(1 − bias) · (m/2^M)
// when the exponent field is 0. Four numbers — exponent bits E, mantissa bits M, the bias, and what the
// top exponent field means — define fp32, fp16, bf16, tf32, fp8 E4M3 / E5M2 and fp4 E2M1. Everything
// else (largest value, smallest normal, epsilon) follows from them; see `NumberFormats+Table.swift`.
// Encoding (round to nearest, ties to even, with the overflow rule) is in `NumberFormats+Encode.swift`.
// Leaves out: arithmetic carried out *in* a format (we round fp32 results, which is exact for a single
// +, −, ×, ÷ because fp32 has more than twice the precision of every format here), stochastic rounding,
// shared block scales (MX formats), formats wider than fp32 or with a bias that makes fp32 subnormals
// normal.

/// What a format does with its largest exponent field.
public enum SpecialValues: Sendable, Equatable {
    /// IEEE 754: the all-ones exponent field holds ±∞ (mantissa 0) and NaN (any other mantissa).
    /// fp32, fp16, bf16, tf32 and fp8 E5M2.
    case infinityAndNaN
    /// OCP "FN" (finite + NaN): no infinities; only S.1…1.1…1 is NaN, and the other mantissas of the top
    /// exponent field are ordinary numbers — which is how fp8 E4M3 reaches 448 instead of 240.
    case nanOnly
    /// No special values: every bit pattern is a finite number (fp4 E2M1).
    case finiteOnly
}

/// What `encode` does with a value whose rounded magnitude exceeds the largest finite number.
public enum OverflowRule: Sendable, Equatable {
    /// Clamp to ±max; ±∞ inputs also become ±max (OCP's saturating conversion).
    case saturate
    /// ±∞ when the format has infinities, else NaN (IEEE's rule; OCP's non-saturating conversion).
    case toSpecial
}

/// A binary floating-point format: 1 sign bit, `exponentBits`, `mantissaBits`, a bias and a special-value
/// policy. Codes are the format's bit patterns in the low `bitWidth` bits of a `UInt32`, laid out
/// sign | exponent field | mantissa field, exactly as the hardware stores them.
///
/// Every value of every format is exactly representable as a `Float`, so `decode` is exact and
/// `round(x) = decode(encode(x))` is the fp32 value a cast to the format and back produces.
public struct FloatFormat: Sendable, Equatable, CustomStringConvertible {
    /// Display name, e.g. "fp16" or "fp8 E4M3".
    public let name: String
    /// Width E of the exponent field.
    public let exponentBits: Int
    /// Width M of the mantissa (fraction) field; precision is M + 1 significant bits.
    public let mantissaBits: Int
    /// The exponent field value that means 2⁰.
    public let bias: Int
    /// What the top exponent field encodes.
    public let specials: SpecialValues
    /// What happens to values beyond the largest finite number.
    public let overflow: OverflowRule

    // Derived once, so encode/decode are a few integer operations.
    /// Total bits: 1 + E + M.
    public let bitWidth: Int
    /// Exponent of the smallest normal number, 1 − bias.
    public let minExponent: Int
    /// Exponent of the largest finite binade.
    public let maxExponent: Int
    /// Bit pattern (sign bit clear) of the largest finite number.
    public let maxFiniteMagnitude: UInt32
    /// The sign bit, 1 << (E + M).
    let signBit: UInt32
    /// Magnitude written when `encode` overflows (max, ∞ or NaN, by `overflow` and `specials`).
    let overflowMagnitude: UInt32
    /// Magnitude written for a NaN input.
    let nanMagnitude: UInt32
    /// 2^(minExponent − M): the value of mantissa step 1 in the subnormal range.
    let subnormalQuantum: Float

    /// A format from its fields. `bias` defaults to the IEEE choice 2^(E−1) − 1.
    ///
    /// Throws `QuantizationError` unless the format fits inside fp32 (so decoding is exact): E in 1...8,
    /// M in 0...23 (at least 1 when NaN lives in the mantissa), smallest normal exponent ≥ −126, largest
    /// ≤ 127, at least one normal binade; and `.toSpecial` overflow needs a special value to overflow to.
    public init(name: String, exponentBits: Int, mantissaBits: Int, bias: Int? = nil, specials: SpecialValues,
                overflow: OverflowRule) throws {
        guard (1...8).contains(exponentBits), (0...23).contains(mantissaBits) else {
            throw QuantizationError("\(name): need 1...8 exponent bits and 0...23 mantissa bits, got E\(exponentBits)M\(mantissaBits)")
        }
        guard specials != .infinityAndNaN || mantissaBits >= 1 else {
            throw QuantizationError("\(name): IEEE-style NaN needs at least one mantissa bit")
        }
        guard specials != .finiteOnly || overflow == .saturate else {
            throw QuantizationError("\(name): a format without ∞ or NaN can only saturate on overflow")
        }
        let b = bias ?? (1 << (exponentBits - 1)) - 1
        let topField = (1 << exponentBits) - 1
        let maxExponent = (specials == .infinityAndNaN ? topField - 1 : topField) - b
        guard 1 - b >= -126, maxExponent <= 127, maxExponent >= 1 - b else {
            throw QuantizationError("\(name): exponents \(1 - b)...\(maxExponent) must lie within fp32's −126...127")
        }
        self.init(validated: name, exponentBits, mantissaBits, b, specials, overflow)
    }

    /// The memberwise part of `init`, for field combinations already known to be valid.
    private init(validated name: String, _ e: Int, _ m: Int, _ bias: Int, _ specials: SpecialValues,
                 _ overflow: OverflowRule) {
        self.name = name
        exponentBits = e
        mantissaBits = m
        self.bias = bias
        self.specials = specials
        self.overflow = overflow
        bitWidth = 1 + e + m
        minExponent = 1 - bias
        let topField = UInt32((1 << e) - 1)
        let allOnes = UInt32((1 << (e + m)) - 1)
        // The largest finite pattern: IEEE stops one exponent field short of the top; "FN" formats use the
        // top field except the all-ones NaN pattern; finite-only formats use every pattern.
        switch specials {
        case .infinityAndNaN:
            maxExponent = Int(topField) - 1 - bias
            maxFiniteMagnitude = (topField - 1) << UInt32(m) | UInt32((1 << m) - 1)
            nanMagnitude = topField << UInt32(m) | UInt32(1 << (m - 1))   // quiet NaN: top mantissa bit set
        case .nanOnly:
            maxExponent = Int(topField) - bias
            maxFiniteMagnitude = allOnes - 1
            nanMagnitude = allOnes
        case .finiteOnly:
            maxExponent = Int(topField) - bias
            maxFiniteMagnitude = allOnes
            nanMagnitude = 0                                              // no NaN: documented choice, +0
        }
        signBit = UInt32(1) << UInt32(e + m)
        switch (overflow, specials) {
        case (.saturate, _), (.toSpecial, .finiteOnly): overflowMagnitude = maxFiniteMagnitude
        case (.toSpecial, .infinityAndNaN): overflowMagnitude = topField << UInt32(m)    // ±∞
        case (.toSpecial, .nanOnly): overflowMagnitude = allOnes                          // NaN
        }
        subnormalQuantum = Float(sign: .plus, exponent: 1 - bias - m, significand: 1)
    }

    /// IEEE 754 single precision (E8M23): the reference every other format is converted from.
    public static let fp32 = FloatFormat(validated: "fp32", 8, 23, 127, .infinityAndNaN, .toSpecial)
    /// IEEE 754 half precision (E5M10): max 65504, 11 significant bits.
    public static let fp16 = FloatFormat(validated: "fp16", 5, 10, 15, .infinityAndNaN, .toSpecial)
    /// bfloat16 (E8M7): fp32's exponent range with 8 significant bits — the top half of an fp32.
    public static let bf16 = FloatFormat(validated: "bf16", 8, 7, 127, .infinityAndNaN, .toSpecial)
    /// NVIDIA TensorFloat-32 (E8M10): fp32's range with fp16's precision; 19 bits, stored in 32.
    public static let tf32 = FloatFormat(validated: "tf32", 8, 10, 127, .infinityAndNaN, .toSpecial)
    /// OCP fp8 E4M3 ("E4M3FN"): no infinities, NaN = S.1111.111, max 448; overflow (and ±∞) saturates
    /// to ±448, as PyTorch's `x.to(torch.float8_e4m3fn)` does. NaN stays NaN.
    public static let e4m3 = FloatFormat(validated: "fp8 E4M3", 4, 3, 7, .nanOnly, .saturate)
    /// The same format with OCP's non-saturating conversion: overflow and ±∞ → NaN.
    public static let e4m3NaNOnOverflow = FloatFormat(validated: "fp8 E4M3 (NaN on overflow)", 4, 3, 7, .nanOnly, .toSpecial)
    /// OCP fp8 E5M2: IEEE-like with ±∞, max 57344; overflow → ±∞.
    public static let e5m2 = FloatFormat(validated: "fp8 E5M2", 5, 2, 15, .infinityAndNaN, .toSpecial)
    /// OCP fp4 E2M1: no ∞ or NaN; the 8 magnitudes 0, 0.5, 1, 1.5, 2, 3, 4, 6; saturates.
    public static let e2m1 = FloatFormat(validated: "fp4 E2M1", 2, 1, 1, .finiteOnly, .saturate)

    /// This format with overflow clamped to ±max (e.g. `FloatFormat.e5m2.saturating`: 1e6 → 57344).
    public var saturating: FloatFormat {
        FloatFormat(validated: overflow == .saturate ? name : name + " sat", exponentBits, mantissaBits, bias, specials,
                    .saturate)
    }

    /// "fp16 (E5M10, bias 15)".
    public var description: String { "\(name) (E\(exponentBits)M\(mantissaBits), bias \(bias))" }

    /// The value of bit pattern `code` (bits above `bitWidth` are ignored).
    ///
    /// Exponent field 0: (−1)^s · m · 2^(1 − bias − M) (zero and subnormals); top field per `specials`;
    /// otherwise (−1)^s · 2^(field − bias) · (1 + m/2^M). Exact: every value is an fp32 number.
    public func decode(_ code: UInt32) -> Float {
        let magnitude = code & (signBit &- 1)
        let negative = code & signBit != 0
        let field = Int(magnitude >> UInt32(mantissaBits))
        let mantissa = magnitude & ((1 << UInt32(mantissaBits)) &- 1)
        let value: Float
        if field == 0 {
            // Subnormal: no implicit leading 1, fixed exponent; exact since m · 2^k is an fp32 number.
            value = Float(mantissa) * subnormalQuantum
        } else if specials == .infinityAndNaN && field == (1 << exponentBits) - 1 {
            value = mantissa == 0 ? .infinity : .nan
        } else if specials == .nanOnly && magnitude == (signBit &- 1) {
            value = .nan
        } else {
            // Normal: rebuild the fp32 bits — re-bias the exponent, left-align the mantissa.
            value = Float(bitPattern: UInt32(field - bias + 127) << 23 | mantissa << UInt32(23 - mantissaBits))
        }
        return negative ? -value : value
    }
}
