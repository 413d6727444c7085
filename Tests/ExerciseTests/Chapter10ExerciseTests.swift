// Chapter10ExerciseTests.swift — tests for the chapter 10 exercises (bf16 rounding, absmax quantization).
// Select them with: swift test --filter "Task 10"
import Testing
import ExerciseKit
import Workbook
import WorkbookCatalogue
import Kernels
import Autodiff
import Quantization

@Suite(.implemented("10.1")) struct `Task 10.1 — bf16 rounding` {
    @Test func `Task 10.1 — the book's values and the special cases`() throws {
        #expect(try bf16Round(1234.56789) == 1232)
        #expect(try bf16Round(123456.789) == 123392)
        #expect(try bf16Round(1 + 0x1p-8) == 1)                   // tie between 1 and 1 + 2^-7: even is 1
        #expect(try bf16Round(1 + 3 * 0x1p-8) == 1 + 0x1p-6)      // tie between 1 + 2^-7 (odd) and 1 + 2^-6
        #expect(try bf16Round(.greatestFiniteMagnitude) == .infinity)
        #expect(try bf16Round(-.infinity) == -.infinity)
        #expect(try bf16Round(-0.0).sign == .minus)
        #expect(try bf16Round(.nan).isNaN)
        #expect(try bf16Round(Float(bitPattern: 0x7F80_0001)).isNaN)   // a NaN whose payload is in the low bits
    }

    @Test func `Task 10.1 — matches the library on 100,000 floats`() throws {
        var rng = RNG(seed: 101)
        var failures = 0
        for i in 0..<100_000 where failures < 5 {
            // Random bit patterns, and exact ties (low 16 bits 0x8000) to test ties-to-even.
            var bits = UInt32(truncatingIfNeeded: rng.next())
            if i % 4 == 0 { bits = bits & 0xFFFF_0000 | 0x8000 }
            let x = Float(bitPattern: bits)
            let expected = FloatFormat.bf16.round(x), got = try bf16Round(x)
            if !(expected.isNaN ? got.isNaN : got.bitPattern == expected.bitPattern) {
                failures += 1
                Issue.record("bf16Round(\(x)) = \(got), expected \(expected)")
            }
        }
    }
}

@Suite(.implemented("10.2")) struct `Task 10.2 — absmax quantization` {
    @Test func `Task 10.2 — hand-checked codes with exact ties`() throws {
        // int4: absmax 3.5, scale 0.5; x / scale = 7, −2.5, 1.5, 0.5, −0.4, 0 → ties go to even.
        let q4 = try absmaxQuantize([3.5, -1.25, 0.75, 0.25, -0.2, 0], bits: 4)
        #expect(q4.scale == 0.5 && q4.codes == [7, -2, 2, 0, 0, 0])
        // int8: absmax 31.75, scale 0.25; x / scale = 127, 1.5, −0.5, 40.
        let q8 = try absmaxQuantize([31.75, 0.375, -0.125, 10], bits: 8)
        #expect(q8.scale == 0.25 && q8.codes == [127, 2, 0, 40])
        #expect(try absmaxDequantize([127, -2, 0], scale: 0.25) == [31.75, -0.5, 0])
        let zeros = try absmaxQuantize([0, 0], bits: 8)
        #expect(zeros.codes == [0, 0] && zeros.scale == 0)
    }

    @Test func `Task 10.2 — matches the library's integer formats on Gaussian weights`() throws {
        var rng = RNG(seed: 102)
        let x = (0..<1000).map { _ in 0.02 * rng.normal() }
        let absmax = x.map(abs).max() ?? 0
        for format in [IntegerFormat.int8, .int4] {
            let (codes, scale) = try absmaxQuantize(x, bits: format.bits)
            #expect(scale == absmax / Float(format.maxCode), "\(format.name)")
            #expect(codes.map(Int.init) == x.map { format.quantize($0, scale: scale) }, "\(format.name)")
            let back = try absmaxDequantize(codes, scale: scale)
            // Every value comes back within half a step.
            #expect(zip(back, x).allSatisfy { abs($0 - $1) <= scale / 2 * 1.0001 }, "\(format.name)")
        }
    }
}
