// NumberFormats+Table.swift — a format's vital numbers, computed from its definition, not typed in.
//
// Teaches: max, smallest normal, smallest subnormal and epsilon are not facts to memorise; each is the
// decoded value of one particular bit pattern. max is the largest finite pattern (IEEE: exponent field
// 2^E − 2 with an all-ones mantissa; E4M3FN: 1111.110 because 1111.111 is NaN), the smallest normal is
// exponent field 1 with mantissa 0, the smallest subnormal is the pattern 1, and epsilon is the gap
// between 1 and the next number, 2^−M. `NumberFormat` lets float and integer formats share one table.
// Leaves out: decimal digits of precision, dynamic range in decibels, and other derived figures.

/// What the chapters and studies need from any format: a name, a size, a range and rounding.
public protocol NumberFormat: Sendable {
    /// Display name, e.g. "fp16" or "int8".
    var name: String { get }
    /// Bits per stored number.
    var bitWidth: Int { get }
    /// Largest finite value at scale 1.
    var largestFinite: Float { get }
    /// `x` rounded onto the format's grid at scale 1 (with its overflow rule).
    func round(_ x: Float) -> Float
    /// The format's vital numbers.
    var facts: FormatFacts { get }
}

/// A float format's field widths and bias, e.g. fp16: E 5, M 10, bias 15.
public struct FieldWidths: Sendable, Equatable {
    /// Exponent bits E, mantissa bits M, and the bias.
    public var exponent: Int, mantissa: Int, bias: Int
}

/// One row of the format table. All values are exact fp32 numbers computed by decoding bit patterns.
public struct FormatFacts: Sendable, Equatable {
    /// Display name.
    public var name: String
    /// Bits per number.
    public var bits: Int
    /// Exponent and mantissa field widths and the bias (nil for integer formats).
    public var fields: FieldWidths?
    /// Largest finite value.
    public var max: Float
    /// Smallest positive normal value (integers: 1).
    public var minNormal: Float
    /// Smallest positive subnormal value (nil when the format has no subnormals).
    public var minSubnormal: Float?
    /// Gap between 1 and the next larger number: 2^−M for floats, 1 for integers at scale 1.
    public var epsilon: Float
    /// Whether the format can hold ±∞ / NaN.
    public var hasInfinity: Bool, hasNaN: Bool
}

extension FloatFormat: NumberFormat {
    /// The value of the largest finite bit pattern.
    public var largestFinite: Float { decode(maxFiniteMagnitude) }

    /// max, min normal, min subnormal and epsilon, each decoded from the bit pattern that defines it.
    public var facts: FormatFacts {
        // The code of 1.0 is its exponent field (= bias) followed by a zero mantissa; epsilon is the
        // distance from it to the next code's value.
        let one = encode(1)
        return FormatFacts(name: name, bits: bitWidth, fields: FieldWidths(exponent: exponentBits, mantissa: mantissaBits, bias: bias),
                           max: largestFinite,
                           minNormal: decode(UInt32(1) << UInt32(mantissaBits)),
                           minSubnormal: mantissaBits > 0 ? decode(1) : nil,
                           epsilon: decode(one + 1) - decode(one),
                           hasInfinity: specials == .infinityAndNaN, hasNaN: specials != .finiteOnly)
    }
}

extension IntegerFormat: NumberFormat {
    /// Bits per code.
    public var bitWidth: Int { bits }

    /// maxCode, at scale 1.
    public var largestFinite: Float { Float(maxCode) }

    /// `round(_:scale:)` at scale 1.
    public func round(_ x: Float) -> Float { round(x, scale: 1) }

    /// At scale 1: max = maxCode, every step (min normal, epsilon) = 1; no subnormals, ∞ or NaN.
    public var facts: FormatFacts {
        FormatFacts(name: name, bits: bits, fields: nil, max: largestFinite, minNormal: dequantize(1, scale: 1),
                    minSubnormal: nil, epsilon: dequantize(1, scale: 1), hasInfinity: false, hasNaN: false)
    }
}

/// The formats of chapter 10, widest first.
public enum NumberFormats {
    /// fp32, tf32, fp16, bf16, fp8 E5M2, fp8 E4M3, fp4 E2M1, int8, int4.
    public static let all: [any NumberFormat] = [FloatFormat.fp32, FloatFormat.tf32, FloatFormat.fp16, FloatFormat.bf16,
                                                 FloatFormat.e5m2, FloatFormat.e4m3, FloatFormat.e2m1,
                                                 IntegerFormat.int8, IntegerFormat.int4]
}
