// NumberFormatReference.swift — independent oracles for the number-format tests, written from the specs.
//
// Teaches (the tester): check an encoder against a *different* algorithm, not against itself. Here the
// reference decodes with Double arithmetic straight from the formula (−1)^s · 2^(e − bias) · (1 + m/2^M),
// and rounds by enumerating every representable value and picking the nearest (ties: even code), or by
// scaling with Double powers of two — none of the library's bit tricks.
// Leaves out: nothing the tests need; this file has no assertions of its own.
import Testing
import Kernels
import Autodiff
@testable import Quantization

/// A format as the spec tables describe it: field widths, bias, and which patterns are special.
struct SpecFormat {
    let exponentBits: Int, mantissaBits: Int, bias: Int
    let specials: SpecialValues
    let saturates: Bool

    static let fp16 = SpecFormat(exponentBits: 5, mantissaBits: 10, bias: 15, specials: .infinityAndNaN, saturates: false)
    static let bf16 = SpecFormat(exponentBits: 8, mantissaBits: 7, bias: 127, specials: .infinityAndNaN, saturates: false)
    static let tf32 = SpecFormat(exponentBits: 8, mantissaBits: 10, bias: 127, specials: .infinityAndNaN, saturates: false)
    static let e4m3 = SpecFormat(exponentBits: 4, mantissaBits: 3, bias: 7, specials: .nanOnly, saturates: false)
    static let e5m2 = SpecFormat(exponentBits: 5, mantissaBits: 2, bias: 15, specials: .infinityAndNaN, saturates: false)
    static let e2m1 = SpecFormat(exponentBits: 2, mantissaBits: 1, bias: 1, specials: .finiteOnly, saturates: true)

    var saturating: SpecFormat {
        SpecFormat(exponentBits: exponentBits, mantissaBits: mantissaBits, bias: bias, specials: specials, saturates: true)
    }
    var signBit: UInt32 { 1 << UInt32(exponentBits + mantissaBits) }
    var patternCount: Int { 1 << (1 + exponentBits + mantissaBits) }

    /// The value of `code` by the spec formula, in Double (NaN for NaN patterns).
    func value(_ code: UInt32) -> Double {
        let sign: Double = code & signBit != 0 ? -1 : 1
        let field = Int(code >> UInt32(mantissaBits)) & ((1 << exponentBits) - 1)
        let mantissa = Int(code) & ((1 << mantissaBits) - 1)
        let top = (1 << exponentBits) - 1
        if specials == .infinityAndNaN && field == top { return mantissa == 0 ? sign * .infinity : .nan }
        if specials == .nanOnly && field == top && mantissa == (1 << mantissaBits) - 1 { return .nan }
        let fraction = Double(mantissa) / Double(1 << mantissaBits)
        if field == 0 { return sign * pow2(1 - bias) * fraction }
        return sign * pow2(field - bias) * (1 + fraction)
    }

    /// Every finite non-negative value with its code, in increasing order (codes 0, 1, 2, … are monotone).
    var grid: [(value: Double, code: UInt32)] {
        (0..<UInt32(patternCount / 2)).compactMap { code in value(code).isFinite ? (value(code), code) : nil }
            .sorted { $0.value < $1.value }
    }

    /// The code written for overflow: max when saturating, else ∞ (IEEE) or NaN (FN).
    func overflowCode(_ grid: [(value: Double, code: UInt32)]) -> UInt32 {
        if saturates { return grid.last!.code }
        return specials == .infinityAndNaN ? UInt32((1 << exponentBits) - 1) << UInt32(mantissaBits) : UInt32(patternCount / 2 - 1)
    }

    /// The code of a NaN: the quiet NaN (IEEE), all ones (FN), or +0 for formats without NaN.
    var nanCode: UInt32 {
        switch specials {
        case .infinityAndNaN: return UInt32((1 << exponentBits) - 1) << UInt32(mantissaBits) | UInt32(1 << (mantissaBits - 1))
        case .nanOnly: return UInt32(patternCount / 2 - 1)
        case .finiteOnly: return 0
        }
    }
}

/// 2^k as a Double (exact for the exponents used here).
func pow2(_ k: Int) -> Double { Double(sign: .plus, exponent: k, significand: 1) }

/// Rounds by enumeration: the nearest representable value, ties to the even code, then the overflow rule.
struct EnumeratingRounder {
    let spec: SpecFormat
    let values: [Double]
    let codes: [UInt32]
    let overflow: UInt32

    init(_ spec: SpecFormat) {
        self.spec = spec
        var grid = spec.grid
        overflow = spec.overflowCode(grid)
        // One virtual point past max, max + its spacing: rounding to it (or beyond) is overflow. Its code
        // parity decides the tie at max + half a spacing (E5M2: even, so the tie overflows; E4M3: odd).
        let last = grid[grid.count - 1]
        let spacing = last.value - grid[grid.count - 2].value
        grid.append((last.value + spacing, last.code + 1))
        values = grid.map(\.value)
        codes = grid.map(\.code)
    }

    func encode(_ x: Float) -> UInt32 {
        if x.isNaN { return spec.nanCode }
        let sign: UInt32 = x.sign == .minus ? spec.signBit : 0
        let a = abs(Double(x))
        if a >= values[values.count - 1] { return sign | overflow }
        // Binary search: values[lo] ≤ a < values[lo + 1].
        var lo = 0, hi = values.count - 1
        while hi - lo > 1 {
            let mid = (lo + hi) / 2
            if values[mid] <= a { lo = mid } else { hi = mid }
        }
        let midpoint = (values[lo] + values[hi]) / 2          // exact: both have a handful of bits
        let chosen = a < midpoint ? lo : a > midpoint ? hi : (codes[lo] & 1 == 0 ? lo : hi)
        return sign | (chosen == values.count - 1 ? overflow : codes[chosen])
    }
}

/// IEEE round-to-nearest-even to M mantissa bits and exponents minExponent...maxExponent, by Double
/// scaling: r = round(x / 2^q) · 2^q with q = max(⌊log₂|x|⌋, minExponent) − M; beyond max → ±∞.
func scalingReference(_ x: Float, mantissaBits m: Int, minExponent: Int, maxExponent: Int) -> Float {
    if !x.isFinite || x == 0 { return x }
    let d = Double(x)
    let q = pow2(max(Int(d.exponent), minExponent) - m)
    let r = (d / q).rounded(.toNearestOrEven) * q
    let largest = (2 - pow2(-m)) * pow2(maxExponent)
    return abs(r) > largest ? (r < 0 ? -.infinity : .infinity) : Float(r)
}

/// Test inputs that cover a format: log-uniform values over `exponents`, exact grid points, exact
/// midpoints between neighbours (ties) and their fp32 neighbours, random bit patterns, and edge cases.
func coveringSamples(count: Int, seed: UInt64, exponents: ClosedRange<Int>, grid: [(value: Double, code: UInt32)]) -> [Float] {
    var rng = RNG(seed: seed)
    var samples: [Float] = [0, -0, .infinity, -.infinity, .nan, .greatestFiniteMagnitude, .leastNonzeroMagnitude,
                            -.leastNormalMagnitude]
    let values = grid.map(\.value)
    let last = values.count - 1
    // Around max: the tie with the virtual next point, and a bit either side of everything.
    let past = values[last] + (values[last] - values[last - 1])
    for v in [values[last], (values[last] + past) / 2, past, values[1] / 2, values[1] * 0.75] {
        samples += [Float(v), Float(v).nextUp, Float(v).nextDown, -Float(v)]
    }
    while samples.count < count {
        let sign: UInt32 = rng.bernoulli(0.5) ? 0x8000_0000 : 0
        switch rng.below(10) {
        case 0..<5:   // log-uniform with a random 23-bit fraction
            let e = exponents.lowerBound + rng.below(exponents.count)
            samples.append(Float(bitPattern: sign | UInt32(127 + e) << 23 | UInt32(truncatingIfNeeded: rng.next()) & 0x7F_FFFF))
        case 5..<8:   // an exact tie, or one fp32 step either side of it
            let i = rng.below(last)
            let tie = Float((values[i] + values[i + 1]) / 2)
            let pick = [tie, tie.nextUp, tie.nextDown][rng.below(3)]
            samples.append(sign != 0 ? -pick : pick)
        case 8:       // a representable value
            let v = Float(values[rng.below(values.count)])
            samples.append(sign != 0 ? -v : v)
        default:      // any fp32 at all: NaNs, infinities, subnormals, huge values
            samples.append(Float(bitPattern: UInt32(truncatingIfNeeded: rng.next())))
        }
    }
    return samples
}

/// Equal as values, with NaN equal to NaN and −0 different from +0.
func sameFloat(_ a: Float, _ b: Float) -> Bool { a.isNaN ? b.isNaN : a.bitPattern == b.bitPattern }
