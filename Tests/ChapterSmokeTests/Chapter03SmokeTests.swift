// Chapter03SmokeTests.swift — chapter 3 runs its tiny recipe: the loss falls below the unigram baseline.
import Foundation
import Testing
@testable import Chapter03Pretraining

@Suite struct Chapter03SmokeTests {
    @Test func pretrainingBeatsTheUnigramBaseline() throws {
        var lines: [String] = []
        let report = try Chapter03Pretraining.run(.tiny) { lines.append($0) }
        #expect(report.initialValidationLoss > 4)                 // ≈ ln 72 for a random model
        #expect(Double(report.finalValidationLoss) < report.unigramBaseline)
        #expect(FileManager.default.fileExists(atPath: report.lossCurve.path))
        let svg = try String(contentsOf: report.lossCurve, encoding: .utf8)
        #expect(svg.hasPrefix("<svg") && svg.contains("polyline"))
        #expect(report.samplesAfter.count == 3)
    }
}
