// Chapter10Formats.swift — Chapter 10: number formats, from fp32 down to fp4 and int4.
//
// The claims, measured:
// 1. Every format's range and precision follow from four numbers (exponent bits, mantissa bits, bias,
//    special values): the table below is computed by decoding bit patterns, not typed in.
// 2. fp16 keeps precision and loses range (123456.789 → ∞); bf16 keeps fp32's range and loses precision
//    (1234.56789 → 1232); tf32 has both for the matmul inputs it is used for.
// 3. A bf16 tensor read as fp16 is garbage: the same 16 bits, split into different fields.
// 4. Small things vanish: in fp16 1 + 10⁻⁴ = 1 (bf16: 1 + 10⁻³ = 1), and gradients of 10⁻⁸ underflow to 0
//    in fp16 but not in bf16 — why mixed precision keeps fp32 master weights and scales the loss (ch. 11).
// 5. Floats make relative errors, integers absolute ones; 8- and 4-bit formats need a scale to hold
//    weights of size 0.02 at all.
// Leaves out: the quantization schemes built on these formats (absmax, blocks, NF4: chapters 11–12).
import Foundation
import Quantization

/// Chapter 10 — number formats.
public enum Chapter10Formats {
    /// The experiment's knobs.
    public struct Config: Sendable {
        /// Samples per distribution in the rounding-error study.
        public var samples: Int
        /// Seed of the study's random draws.
        public var seed: UInt64

        /// The book's run: 10⁶ samples per distribution (about a second in release).
        public static let standard = Config(samples: 1_000_000, seed: 10)
        /// For the smoke test: 10⁴ samples.
        public static let tiny = Config(samples: 10_000, seed: 10)
    }

    /// One row of the fp32 → fp16 / bf16 / tf32 table.
    public struct Conversion: Sendable {
        /// The input as written in the book, and as an fp32.
        public var label: String, input: Float
        /// The input rounded to each format (back in fp32).
        public var fp16: Float, bf16: Float, tf32: Float
    }

    /// One value's bf16 and fp16 bits, and what each set of bits means when read as the other format.
    public struct Reinterpretation: Sendable {
        /// The input as written.
        public var label: String
        /// The bf16 code, its value, and the value of the same 16 bits read as fp16.
        public var bf16Bits: UInt32, bf16: Float, bf16BitsAsFP16: Float
        /// The fp16 code, its value, and the value of the same 16 bits read as bf16.
        public var fp16Bits: UInt32, fp16: Float, fp16BitsAsBF16: Float
    }

    /// A tiny value rounded to the formats that gradients are stored in.
    public struct Underflow: Sendable {
        /// The gradient as written, and as an fp32.
        public var label: String, input: Float
        /// The gradient rounded to each format (0 when it underflows).
        public var fp16: Float, bf16: Float, e5m2: Float
    }

    /// The chapter's numbers.
    public struct Report: Sendable {
        /// The format table (claim 1).
        public var formats: [FormatFacts]
        /// The conversion table (claim 2).
        public var conversions: [Conversion]
        /// bf16 ↔ fp16 bit reinterpretations (claim 3).
        public var reinterpretations: [Reinterpretation]
        /// fp16(1 + 10⁻⁴), fp16(1 + 10⁻³), bf16(1 + 10⁻³), bf16(1 + 10⁻²) (claim 4).
        public var fp16OnePlus1e4: Float, fp16OnePlus1e3: Float, bf16OnePlus1e3: Float, bf16OnePlus1e2: Float
        /// 1 + 10⁻⁴ added 10,000 times, in each format (fp32, fp16, bf16).
        public var accumulated: (fp32: Float, fp16: Float, bf16: Float)
        /// Small gradients in fp16, bf16 and E5M2 (claim 4).
        public var underflows: [Underflow]
        /// fp16(10⁻⁸ · 65536) / 65536: the same gradient with loss scaling.
        public var fp16LossScaled: Float
        /// The rounding-error study (claim 5).
        public var errors: [RoundingStudy.Row]

        /// The conversion row for `label`, e.g. "1234.56789".
        public func conversion(_ label: String) -> Conversion? { conversions.first { $0.label == label } }
    }

    /// The inputs of the conversion table, as the book writes them.
    static let conversionInputs = ["1234.56789", "123456.789", "0.1", "3.14159265", "1e-5", "1e-8", "65504", "65519",
                                   "65520", "1e38", "-2.5e-3"]

    /// Runs the chapter, printing through `output`.
    @discardableResult
    public static func run(_ config: Config, output: @escaping (String) -> Void = { print($0) }) throws -> Report {
        output("Chapter 10 — Number formats: what fits in 32, 16, 8 and 4 bits\n")
        let formats = NumberFormats.all.map(\.facts)
        printFormatTable(formats, output: output)

        // 2. The conversion table: one fp32 input, three 16/19-bit formats.
        let conversions = try conversionInputs.map { label -> Conversion in
            guard let x = Float(label) else { throw QuantizationError("not a number: \(label)") }
            return Conversion(label: label, input: x, fp16: FloatFormat.fp16.round(x), bf16: FloatFormat.bf16.round(x),
                              tf32: FloatFormat.tf32.round(x))
        }
        output("\n2. fp32 → fp16 / bf16 / tf32 (round to nearest, ties to even)")
        output("   " + pad("fp32 input", 14) + pad("fp16", 16) + pad("bf16", 16) + pad("tf32", 16))
        for row in conversions {
            output("   " + pad(row.label, 14) + pad("\(row.fp16)", 16) + pad("\(row.bf16)", 16) + pad("\(row.tf32)", 16))
        }
        output("   fp16 runs out of range above 65504 (65520 is the tie with 2^16 and goes to ∞); bf16 keeps fp32's range")
        output("   with 8 significant bits; tf32 (19 bits, what tensor cores read) has fp16's precision and fp32's range.")

        // 3. The same bits, read as the other 16-bit format.
        let reinterpretations = try ["1234.56789", "0.1", "3.14159265", "1e-5", "-2.5e-3"].map { label in
            let x = Float(label) ?? .nan
            let b = FloatFormat.bf16.encode(x), h = FloatFormat.fp16.encode(x)
            return Reinterpretation(label: label, bf16Bits: b, bf16: FloatFormat.bf16.decode(b),
                                    bf16BitsAsFP16: try FloatFormat.bf16.reinterpret(b, as: .fp16),
                                    fp16Bits: h, fp16: FloatFormat.fp16.decode(h),
                                    fp16BitsAsBF16: try FloatFormat.fp16.reinterpret(h, as: .bf16))
        }
        output("\n3. Same 16 bits, wrong format: a bf16 checkpoint loaded as fp16 (and the reverse)")
        output("   " + pad("value", 12) + pad("bf16 bits", 10) + pad("bf16", 12) + pad("read as fp16", 15)
               + pad("fp16 bits", 10) + pad("fp16", 12) + pad("read as bf16", 14))
        for r in reinterpretations {
            output("   " + pad(r.label, 12) + pad(hex(r.bf16Bits), 10) + pad(short(r.bf16), 12) + pad(short(r.bf16BitsAsFP16), 15)
                   + pad(hex(r.fp16Bits), 10) + pad(short(r.fp16), 12) + pad(short(r.fp16BitsAsBF16), 14))
        }
        output("   Nothing is converted: bf16's 8 exponent bits are read as 5 exponent + 3 mantissa bits.")

        // 4. Small additions and small gradients.
        let report = smallNumbers(formats: formats, conversions: conversions, reinterpretations: reinterpretations,
                                  output: output)

        // 5. Rounding error on activations and weights.
        let errors = RoundingStudy.measure(samples: config.samples, seed: config.seed)
        printErrorTable(errors, samples: config.samples, output: output)
        var result = report
        result.errors = errors
        return result
    }
}

// MARK: - Sections 1, 4 and 5, and formatting helpers

extension Chapter10Formats {
    /// Section 1: the format table.
    static func printFormatTable(_ formats: [FormatFacts], output: (String) -> Void) {
        output("1. The formats, computed from their bit fields: value = (−1)^s · 2^(e − bias) · (1 + m/2^M)")
        output("   " + pad("format", 11) + pad("bits", 6) + pad("E", 4) + pad("M", 4) + pad("bias", 6) + pad("max", 12)
               + pad("min normal", 12) + pad("min subnorm.", 13) + pad("epsilon", 12) + "∞    NaN")
        for f in formats {
            let fields = f.fields.map { [String($0.exponent), String($0.mantissa), String($0.bias)] } ?? ["—", "—", "—"]
            output("   " + pad(f.name, 11) + pad("\(f.bits)", 6) + pad(fields[0], 4) + pad(fields[1], 4) + pad(fields[2], 6)
                   + pad(short(f.max), 12) + pad(short(f.minNormal), 12) + pad(f.minSubnormal.map(short) ?? "—", 13)
                   + pad(short(f.epsilon), 12) + pad(f.hasInfinity ? "yes" : "no", 5) + (f.hasNaN ? "yes" : "no"))
        }
        output("   E4M3 reaches 448 (not 240) because only S.1111.111 is NaN; E2M1 has no special values at all.")
        output("   Converting to E4M3 past ±448: FloatFormat.e4m3 saturates to ±448 (as PyTorch's .to(torch.float8_e4m3fn));")
        output("   FloatFormat.e4m3NaNOnOverflow gives NaN instead (OCP's non-saturating conversion).")
        output("   Integer rows are at scale 1: their numbers are code × scale, evenly spaced (int8: ±127, int4: ±7).")
    }

    /// Section 4: 1 + small, repeated small additions, and gradients that underflow. Returns the report
    /// with everything but the error study filled in.
    static func smallNumbers(formats: [FormatFacts], conversions: [Conversion], reinterpretations: [Reinterpretation],
                             output: (String) -> Void) -> Report {
        let fp16 = FloatFormat.fp16, bf16 = FloatFormat.bf16
        // One addition in a format = the exact fp32 sum rounded once (fp32 has > 2·(M+1) bits, so rounding
        // the fp32 result is the same as rounding the exact sum).
        func add(_ a: Float, _ b: Float, in format: FloatFormat) -> Float { format.round(format.round(a) + format.round(b)) }
        let sums = (fp16: add(1, 1e-4, in: fp16), fp16e3: add(1, 1e-3, in: fp16), bf16: add(1, 1e-3, in: bf16),
                    bf16e2: add(1, 1e-2, in: bf16))
        output("\n4. Small numbers vanish")
        output("   fp16: 1 + 1e-4 = \(sums.fp16)    1 + 1e-3 = \(sums.fp16e3)    (spacing above 1 is 2^-10 ≈ 9.8e-4)")
        output("   bf16: 1 + 1e-3 = \(sums.bf16)    1 + 1e-2 = \(sums.bf16e2)    (spacing above 1 is 2^-7 = 0.0078125)")
        // A weight of 1 receiving 10,000 updates of 1e-4: the updates are each too small to register.
        var w = (fp32: Float(1), fp16: Float(1), bf16: Float(1))
        for _ in 0..<10_000 {
            w.fp32 += 1e-4
            w.fp16 = add(w.fp16, 1e-4, in: fp16)
            w.bf16 = add(w.bf16, 1e-4, in: bf16)
        }
        output("   1 plus 10,000 updates of 1e-4:  fp32 → \(w.fp32)   fp16 → \(w.fp16)   bf16 → \(w.bf16)   (exact: 2)")

        let underflows = ["1e-3", "1e-5", "1e-7", "1e-8", "1e-20", "1e-40"].map { label -> Underflow in
            let x = Float(label) ?? 0
            return Underflow(label: label, input: x, fp16: fp16.round(x), bf16: bf16.round(x), e5m2: FloatFormat.e5m2.round(x))
        }
        output("   Gradients of shrinking size (fp16's smallest subnormal is 6.0e-8; bf16 reaches fp32's 9.2e-41):")
        output("     " + pad("gradient", 10) + pad("fp16", 16) + pad("bf16", 16) + pad("fp8 E5M2", 16))
        for u in underflows {
            output("     " + pad(u.label, 10) + pad(short(u.fp16), 16) + pad(short(u.bf16), 16) + pad(short(u.e5m2), 16))
        }
        let scaled = fp16.round(1e-8 * 65536) / 65536
        output("   With the loss scaled by 65536 (chapter 11): fp16(1e-8 · 65536) / 65536 = \(short(scaled))")
        return Report(formats: formats, conversions: conversions, reinterpretations: reinterpretations,
                      fp16OnePlus1e4: sums.fp16, fp16OnePlus1e3: sums.fp16e3, bf16OnePlus1e3: sums.bf16,
                      bf16OnePlus1e2: sums.bf16e2, accumulated: w, underflows: underflows, fp16LossScaled: scaled, errors: [])
    }

    /// Section 5: the rounding-error table.
    static func printErrorTable(_ rows: [RoundingStudy.Row], samples: Int, output: (String) -> Void) {
        output("\n5. Rounding error, RMS over \(samples) samples (relative: sqrt(mean(((r − x)/x)²)); a value rounded to 0 counts 1)")
        output("   " + pad("format", 11) + pad("bits", 6) + pad("N(0,1) rel.", 13) + pad("N(0,1) ‖e‖/‖x‖", 16)
               + pad("w~N(0,.02²) rel.", 18) + "same, absmax-scaled")
        for row in rows {
            let name = row.name + (row.alwaysScaled ? "*" : "")
            output("   " + pad(name, 11) + pad("\(row.bits)", 6) + pad(percent(row.standardNormal), 13)
                   + pad(percent(row.standardNormalNormalized), 16) + pad(percent(row.weights), 18) + percent(row.weightsScaled))
        }
        output("   Scaled: floats × a power of two putting absmax just under the format's max; * integer formats are")
        output("   always scaled, code = round(x / (absmax / maxCode)).")
        output("   Floats err by a fixed fraction of each value; an integer grid errs by a fixed amount, so its small")
        output("   values suffer (large relative error, small ‖e‖/‖x‖). Unscaled, weights of size 0.02 are mostly")
        output("   subnormal in E4M3 and all zero in E2M1: low-bit formats need a scale (chapter 11).")
    }

    /// `s` left-aligned in `width` columns.
    static func pad(_ s: String, _ width: Int) -> String {
        s.count >= width ? s + " " : s + String(repeating: " ", count: width - s.count)
    }

    /// Five significant digits, "inf" and "nan" spelled out.
    static func short(_ x: Float) -> String {
        x.isNaN ? "nan" : x.isInfinite ? (x < 0 ? "-inf" : "inf") : String(format: "%.5g", Double(x))
    }

    /// 16 bits as "0x449A".
    static func hex(_ bits: UInt32) -> String {
        let digits = String(bits, radix: 16, uppercase: true)
        return "0x" + String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }

    /// "1.23%" (or "inf").
    static func percent(_ x: Double) -> String { x.isFinite ? String(format: "%.3g%%", 100 * x) : "inf" }
}
