// Chapter10SmokeTests.swift — chapter 10 prints its tables on the tiny configuration, with the book's numbers.
import Testing
@testable import Chapter10Formats

@Suite struct Chapter10SmokeTests {
    @Test func conversionTableAndDemosHaveTheBooksValues() throws {
        var lines: [String] = []
        let report = try Chapter10Formats.run(.tiny) { lines.append($0) }
        // The book's rows: fp16 keeps precision, bf16 keeps range.
        let a = try #require(report.conversion("1234.56789")), b = try #require(report.conversion("123456.789"))
        #expect(a.fp16 == 1235 && a.bf16 == 1232 && a.tf32 == 1235)
        #expect(b.fp16 == .infinity && b.bf16 == 123392)
        #expect(report.conversion("65520")?.fp16 == .infinity && report.conversion("65504")?.fp16 == 65504)
        // bf16 bits 0x449A read as fp16: 2^2 · (1 + 154/1024).
        #expect(report.reinterpretations.first?.bf16Bits == 0x449A && report.reinterpretations.first?.bf16BitsAsFP16 == 4.6015625)
        // Small numbers: spacing above 1 is 2^-10 (fp16) and 2^-7 (bf16).
        #expect(report.fp16OnePlus1e4 == 1 && report.fp16OnePlus1e3 == 1 + 0x1p-10)
        #expect(report.bf16OnePlus1e3 == 1 && report.bf16OnePlus1e2 == 1 + 0x1p-7)
        #expect(report.accumulated.fp16 == 1 && report.accumulated.bf16 == 1 && abs(report.accumulated.fp32 - 2) < 1e-3)
        let tiny = try #require(report.underflows.first { $0.label == "1e-8" })
        #expect(tiny.fp16 == 0 && tiny.e5m2 == 0 && abs(tiny.bf16 - 1e-8) < 1e-10)
        #expect(abs(report.fp16LossScaled - 1e-8) < 1e-11)
        // The table's constants and the error study's shape.
        #expect(report.formats.first { $0.name == "fp16" }?.max == 65504)
        #expect(report.formats.first { $0.name == "fp8 E4M3" }?.max == 448)
        #expect(report.errors.count == 9)
        let fp16 = try #require(report.errors.first { $0.name == "fp16" })
        #expect(fp16.standardNormal > 0 && fp16.standardNormal < 0x1p-11)
        #expect(report.errors.first { $0.name == "fp4 E2M1" }?.weights == 1)
        #expect(lines.contains { $0.contains("1234.56789") && $0.contains("1235.0") && $0.contains("1232.0") })
    }
}
