// NumberFormatTests.swift — every format against the spec: all 16-bit patterns, 10⁶ fp8 roundings, constants.
//
// Teaches (the tester): exhaustive where the space is small (65,536 fp16 and bf16 patterns), seeded and
// aimed where it is not (ties, overflow boundaries, subnormals), and every expected value from an
// independent oracle (NumberFormatReference.swift), the native Float16 conversion, or a known constant.
// Leaves out: performance beyond one generous timing bound.
import Foundation
import Testing
import Kernels
import Autodiff
@testable import Quantization

@Suite struct NumberFormatTests {
    // MARK: Exhaustive 16-bit decoding and round trips

    /// decode(p) equals the spec formula for every pattern; encode(decode(p)) == p for every non-NaN p.
    func checkAllPatterns(_ format: FloatFormat, _ spec: SpecFormat) {
        var mismatches = 0
        for p in 0..<UInt32(spec.patternCount) {
            let got = format.decode(p), expected = spec.value(p)
            if expected.isNaN {
                if !got.isNaN { mismatches += 1; Issue.record("\(format.name) \(p): expected NaN, got \(got)") }
                continue
            }
            if Double(got) != expected || got.sign != (p & spec.signBit != 0 ? .minus : .plus) {
                mismatches += 1
                Issue.record("\(format.name) pattern \(String(p, radix: 16)): decoded \(got), spec \(expected)")
            }
            if format.encode(got) != p { mismatches += 1; Issue.record("\(format.name) round trip of \(p) gave \(format.encode(got))") }
            if mismatches > 10 { return }
        }
    }

    @Test func fp16DecodesEveryPatternLikeTheSpecAndNativeFloat16() {
        checkAllPatterns(.fp16, .fp16)
        for p in 0...UInt16.max {
            let native = Float(Float16(bitPattern: p))
            #expect(sameFloat(FloatFormat.fp16.decode(UInt32(p)), native) || native.isNaN, "pattern \(p)")
        }
    }

    @Test func bf16DecodesEveryPatternLikeTheSpecAndTheTopHalfOfAnFp32() {
        checkAllPatterns(.bf16, .bf16)
        for p in 0...UInt32(UInt16.max) {
            #expect(sameFloat(FloatFormat.bf16.decode(p), Float(bitPattern: p << 16)), "pattern \(p)")
        }
    }

    @Test func eightAndFourBitFormatsDecodeEveryPatternLikeTheSpec() {
        checkAllPatterns(.e4m3, .e4m3)
        checkAllPatterns(.e5m2, .e5m2)
        checkAllPatterns(.e2m1, .e2m1)
        #expect(FloatFormat.e4m3.decode(0x7F).isNaN && FloatFormat.e4m3.decode(0xFF).isNaN)
        #expect(FloatFormat.e4m3.decode(0x78) == 256 && FloatFormat.e4m3.decode(0x7E) == 448)   // top field is normal
        #expect(FloatFormat.e5m2.decode(0x7C) == .infinity && FloatFormat.e5m2.decode(0x7D).isNaN)
        #expect((0..<8).map { FloatFormat.e2m1.decode($0) } == [0, 0.5, 1, 1.5, 2, 3, 4, 6])
    }

    // MARK: Rounding non-representable values against independent references

    @Test func fp16RoundingMatchesNativeFloat16AndTheScalingReference() {
        let spec = SpecFormat.fp16
        let samples = coveringSamples(count: 300_000, seed: 16, exponents: -30...17, grid: spec.grid)
        var failures = 0
        for x in samples where failures < 10 {
            let native = Float16(x)
            let code = FloatFormat.fp16.encode(x)
            let ok = x.isNaN ? FloatFormat.fp16.decode(code).isNaN : code == UInt32(native.bitPattern)
            let reference = scalingReference(x, mantissaBits: 10, minExponent: -14, maxExponent: 15)
            if !ok || !sameFloat(FloatFormat.fp16.round(x), reference) {
                failures += 1
                Issue.record("fp16(\(x)): code \(code), native \(native.bitPattern), reference \(reference)")
            }
        }
    }

    @Test func bf16AndTf32RoundingMatchTheScalingReference() {
        for (format, spec) in [(FloatFormat.bf16, SpecFormat.bf16), (FloatFormat.tf32, SpecFormat.tf32)] {
            let samples = coveringSamples(count: 300_000, seed: 32, exponents: -126...127, grid: spec.grid)
            var failures = 0
            for x in samples where failures < 10 {
                let reference = scalingReference(x, mantissaBits: spec.mantissaBits, minExponent: -126, maxExponent: 127)
                if !sameFloat(format.round(x), reference) {
                    failures += 1
                    Issue.record("\(format.name)(\(x)) = \(format.round(x)), reference \(reference)")
                }
            }
        }
    }

    @Test(arguments: [("E4M3", FloatFormat.e4m3, SpecFormat.e4m3), ("E4M3 sat", FloatFormat.e4m3.saturating, SpecFormat.e4m3.saturating),
                      ("E5M2", FloatFormat.e5m2, SpecFormat.e5m2), ("E5M2 sat", FloatFormat.e5m2.saturating, SpecFormat.e5m2.saturating),
                      ("E2M1", FloatFormat.e2m1, SpecFormat.e2m1)])
    func smallFormatsEncodeAMillionFloatsLikeTheEnumeratingReference(_ name: String, _ format: FloatFormat, _ spec: SpecFormat) {
        let reference = EnumeratingRounder(spec)
        let samples = coveringSamples(count: 1_000_000, seed: 8, exponents: -20...20, grid: spec.grid)
        var failures = 0
        for x in samples where failures < 10 {
            let expected = reference.encode(x), got = format.encode(x)
            if got != expected {
                failures += 1
                Issue.record("\(name)(\(x)): got \(String(got, radix: 16)), reference \(String(expected, radix: 16))")
            }
        }
    }

    @Test func handCheckedTiesAndOverflowsFromTheSpecs() {
        // E4M3: 464 is halfway between 448 (1.110) and the would-be 480 (1.111): ties to even keep 448.
        #expect(FloatFormat.e4m3.round(464) == 448)
        #expect(FloatFormat.e4m3.round(465).isNaN && FloatFormat.e4m3.round(.infinity).isNaN)
        #expect(FloatFormat.e4m3.saturating.round(465) == 448 && FloatFormat.e4m3.saturating.round(-1e9) == -448)
        #expect(FloatFormat.e4m3.saturating.round(.infinity) == 448)
        // E5M2: 61440 is halfway between 57344 (1.11) and 65536 (1.00·2^16, even): it overflows to ∞.
        #expect(FloatFormat.e5m2.round(61439) == 57344 && FloatFormat.e5m2.round(61440) == .infinity)
        #expect(FloatFormat.e5m2.saturating.round(1e6) == 57344)
        // E2M1: 5 between 4 (even) and 6; 2.5 between 2 (even) and 3; 0.25 between 0 and 0.5.
        #expect([5, 2.5, 0.25, 0.75, 7, -100].map { FloatFormat.e2m1.round($0) } == [4, 2, 0, 1, 6, -6])
        // fp16: the book's row 65520 is the tie between 65504 and 65536 and overflows.
        #expect(FloatFormat.fp16.round(65519) == 65504 && FloatFormat.fp16.round(65520) == .infinity)
        // Rounding to zero keeps the sign.
        #expect(FloatFormat.fp16.round(-1e-9).sign == .minus && FloatFormat.fp16.round(-1e-9) == 0)
        // NaN stays NaN where the format has one.
        #expect(FloatFormat.fp16.round(.nan).isNaN && FloatFormat.e5m2.round(.nan).isNaN && FloatFormat.e2m1.round(.nan) == 0)
    }

    @Test func theBooksConversionTable() throws {
        #expect(FloatFormat.fp16.round(1234.56789) == 1235 && FloatFormat.bf16.round(1234.56789) == 1232)
        #expect(FloatFormat.fp16.round(123456.789) == .infinity && FloatFormat.bf16.round(123456.789) == 123392)
        #expect(FloatFormat.tf32.round(1234.56789) == 1235 && FloatFormat.tf32.round(123456.789) == 123456)
        #expect(FloatFormat.fp16.round(1 + 1e-4) == 1 && FloatFormat.bf16.round(1 + 1e-3) == 1)
        #expect(FloatFormat.fp16.round(1e-8) == 0 && FloatFormat.bf16.round(1e-8) > 0)
        // bf16 bits of 1232 (0x449A) read as fp16: 2^(17−15) · (1 + 154/1024) = 4.6015625.
        #expect(FloatFormat.bf16.encode(1232) == 0x449A)
        #expect(try FloatFormat.bf16.reinterpret(0x449A, as: .fp16) == 4.6015625)
        #expect(throws: QuantizationError.self) { try FloatFormat.bf16.reinterpret(0x449A, as: .e4m3) }
    }

    // MARK: The table against known constants

    @Test func tableMatchesWellKnownConstants() throws {
        let fp16 = FloatFormat.fp16.facts, bf16 = FloatFormat.bf16.facts, tf32 = FloatFormat.tf32.facts
        #expect(fp16.bits == 16 && fp16.max == 65504 && fp16.minNormal == 6.103515625e-05 && fp16.epsilon == 9.765625e-4)
        #expect(fp16.minSubnormal == 5.9604644775390625e-08 && fp16.hasInfinity && fp16.hasNaN)
        #expect(bf16.max == 3.3895313892515355e38 && bf16.minNormal == Float.leastNormalMagnitude && bf16.epsilon == 0.0078125)
        #expect(tf32.bits == 19 && tf32.epsilon == 9.765625e-4 && tf32.max == 3.4011621342146535e38)
        #expect(FloatFormat.fp32.facts.max == .greatestFiniteMagnitude && FloatFormat.fp32.facts.epsilon == .ulpOfOne)
        let e4m3 = FloatFormat.e4m3.facts, e5m2 = FloatFormat.e5m2.facts, e2m1 = FloatFormat.e2m1.facts
        #expect(e4m3.max == 448 && e4m3.minNormal == 0.015625 && e4m3.minSubnormal == 0.001953125 && e4m3.epsilon == 0.125)
        #expect(!e4m3.hasInfinity && e4m3.hasNaN)
        #expect(e5m2.max == 57344 && e5m2.minNormal == 6.103515625e-05 && e5m2.minSubnormal == 1.52587890625e-05 && e5m2.epsilon == 0.25)
        #expect(e2m1.max == 6 && e2m1.minNormal == 1 && e2m1.minSubnormal == 0.5 && e2m1.epsilon == 0.5 && !e2m1.hasNaN)
        #expect(IntegerFormat.int8.facts.max == 127 && IntegerFormat.int4.facts.max == 7 && IntegerFormat.int8.facts.bits == 8)
        #expect(NumberFormats.all.map(\.bitWidth) == [32, 19, 16, 16, 8, 8, 4, 8, 4])
    }

    @Test func invalidFormatsThrow() throws {
        #expect(throws: QuantizationError.self) {
            try FloatFormat(name: "E9M2", exponentBits: 9, mantissaBits: 2, specials: .infinityAndNaN, overflow: .toSpecial)
        }
        #expect(throws: QuantizationError.self) {
            try FloatFormat(name: "E2M1 to ∞", exponentBits: 2, mantissaBits: 1, specials: .finiteOnly, overflow: .toSpecial)
        }
        #expect(throws: QuantizationError.self) {
            try FloatFormat(name: "tiny bias", exponentBits: 8, mantissaBits: 7, bias: 200, specials: .infinityAndNaN, overflow: .toSpecial)
        }
        #expect(throws: QuantizationError.self) { try IntegerFormat(bits: 1) }
        // A custom format built from fields equals the predefined one.
        #expect(try FloatFormat(name: "fp16", exponentBits: 5, mantissaBits: 10, specials: .infinityAndNaN, overflow: .toSpecial) == .fp16)
    }

    // MARK: Integer formats

    @Test func integerFormatsRoundHalfToEvenAndClamp() throws {
        let int8 = IntegerFormat.int8, int4 = IntegerFormat.int4
        #expect([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 126.5, 200, -200].map { int8.quantize($0) } == [0, 2, 2, 0, -2, -2, 126, 127, -127])
        #expect([6.5, 7.5, -9, 3.49, Float.infinity, .nan].map { int4.quantize($0) } == [6, 7, -7, 3, 7, 0])
        // With a scale: code = round(x / scale); value = code · scale.
        #expect(int8.quantize(1.25, scale: 0.5) == 2 && int8.quantize(1.75, scale: 0.5) == 4 && int8.dequantize(-3, scale: 0.25) == -0.75)
        #expect(int4.round(100, scale: 0.5) == 3.5 && int8.scale(absmax: 12.7) == 12.7 / 127)
        #expect(try IntegerFormat(bits: 3).maxCode == 3)
    }

    // MARK: Speed and the error study

    @Test func roundingAMillionFloatsInPlaceEqualsFloat16() {
        // (Speed is a benchmark's business, not a test's: this checks the bulk path's values only.)
        var rng = RNG(seed: 3)
        var values = (0..<1_000_000).map { _ in rng.normal() }
        let expected = values.map { Float(Float16($0)) }
        FloatFormat.fp16.roundInPlace(&values)
        #expect(values == expected)
    }

    @Test func errorMeasuresOnHandValues() {
        // Relative errors 0.5, 0, 1 (rounded to zero); the zero input is skipped.
        #expect(RoundingStudy.rmsRelative([1, 2, 4, 0], rounded: [1.5, 2, 0, 0]) == (1.25 / 3.0).squareRoot())
        #expect(RoundingStudy.rmsRelative([1], rounded: [.infinity]) == .infinity)
        #expect(RoundingStudy.normalizedError([3, 4], rounded: [3, 4.5]) == 0.1)
        // int8: absmax 2 maps onto 127, scale 2/127: 0.5 → code round(31.75) = 32 → 32 · scale.
        #expect(RoundingStudy.roundScaled([-2, 0.5], format: IntegerFormat.int8) == [-127 * (Float(2) / 127), 32 * (Float(2) / 127)])
        // E2M1: absmax 0.02 is scaled by 2^8 (6 / 0.02 = 300 → 256): 0.02 · 256 = 5.12 → 6 → 6/256; 0.003 · 256 = 0.768 → 1.
        #expect(RoundingStudy.roundScaled([0.02, -0.003], format: FloatFormat.e2m1) == [6.0 / 256, -1.0 / 256])
    }

    @Test func studyBoundsFollowFromTheMantissaWidths() {
        let rows = RoundingStudy.measure(samples: 20_000, seed: 1)
        let byName = Dictionary(uniqueKeysWithValues: rows.map { ($0.name, $0) })
        // Normal numbers are off by at most half a spacing: relative error ≤ 2^−(M+1).
        for (name, m) in [("fp32", 23), ("tf32", 10), ("fp16", 10), ("bf16", 7)] {
            let row = byName[name]!
            #expect(row.standardNormal > 0 || m == 23)
            #expect(row.standardNormal <= pow2(-(m + 1)), "\(name)")
        }
        // N(0, 0.02²) weights are all below fp4's smallest number 0.5/2: every one rounds to zero.
        #expect(byName["fp4 E2M1"]!.weights == 1)
        #expect(byName["fp4 E2M1"]!.weightsScaled < 1 && byName["int8"]!.alwaysScaled)
        // Scaling never overflows, even for fp32 whose max / 0.02 is beyond fp32.
        #expect(rows.allSatisfy { $0.weightsScaled.isFinite && $0.standardNormal.isFinite }, "\(rows.map(\.weightsScaled))")
    }
}
