// Chapter11SmokeTests.swift — chapter 11 runs on its tiny configuration and its measurements hold.
import Testing
@testable import Chapter11Quantization

@Suite struct Chapter11SmokeTests {
    @Test func ptqQatAndMixedPrecisionSectionsReportTheirNumbers() throws {
        var lines: [String] = []
        let report = try Chapter11Quantization.run(.tiny) { lines.append($0) }
        let byScheme = Dictionary(uniqueKeysWithValues: report.ptq.map { ($0.scheme, $0) })
        // More bits, less weight error; per-channel beats per-tensor at 4 bits; NF4 costs ≈4.127 bits.
        #expect(byScheme["int8 per channel"]!.weightError < byScheme["int4 per channel"]!.weightError)
        #expect(byScheme["int4 per channel"]!.weightError < byScheme["int4 per tensor"]!.weightError)
        // (tiny matrices: the per-matrix mean and second-level scale add a little to 4.127)
        #expect((4.127..<4.2).contains(byScheme["NF4 blocks of 64 + DQ"]!.bitsPerWeight))
        #expect(abs(byScheme["int8 per channel"]!.loss - report.fp32Loss) < 0.05)
        #expect(report.int8DecomposedError * 10 < report.int8PlainError)
        #expect(report.qat.count == 1)
        // fp16 swallows 1e-4 next to 1; bf16 swallows 1e-3.
        #expect(report.mixedPrecision.fp16OnePlusSmall == 1 && report.mixedPrecision.bf16OnePlusSmall == 1)
        #expect(report.mixedPrecision.underflow.last!.fraction < report.mixedPrecision.underflow.first!.fraction)
        #expect(report.mixedPrecision.runs.count == 6)
        #expect(lines.contains { $0.contains("LLM.int8") })
        // The sentences under the tables are the ones computed from the rows.
        #expect(Chapter11Quantization.ptqVerdict(report.ptq, fp32Loss: report.fp32Loss).split(separator: "\n").allSatisfy { lines.joined(separator: "\n").contains($0) })
    }

    @Test func theVerdictsSayWhenTheNumbersContradictTheBook() {
        typealias PTQ = Chapter11Quantization.PTQRow
        let rows = [PTQ(scheme: "int8 per tensor", bitsPerWeight: 8, weightError: 0, loss: 2.0), PTQ(scheme: "int8 per channel", bitsPerWeight: 8, weightError: 0, loss: 2.5),
                    PTQ(scheme: "int4 per tensor", bitsPerWeight: 4, weightError: 0, loss: 3.0), PTQ(scheme: "int4 per channel", bitsPerWeight: 4, weightError: 0, loss: 2.2)]
        let verdict = Chapter11Quantization.ptqVerdict(rows, fp32Loss: 2)
        #expect(verdict.contains("int8: per-channel scales did NOT beat one scale per tensor here (2.500 vs 2.000)"))
        #expect(verdict.contains("int4: one scale per tensor costs 1.000 nats of corpus loss, one per channel 0.200"))
        let qat = Chapter11Quantization.qatVerdict([.init(bits: 4, ptqAccuracy: 0.5, qatAccuracy: 0.25)], tunedAccuracy: 0.75)
        #expect(qat.contains("4 bits: QAT does NOT beat PTQ (25% vs 50%; fp32 75%)."))
    }
}
