// Chapter01SmokeTests.swift — chapter 1 runs and its network learns XOR.
import Testing
@testable import Chapter01Autograd

@Suite struct Chapter01SmokeTests {
    @Test func xorIsLearnedAndGradientsCheck() {
        var lines: [String] = []
        let report = Chapter01Autograd.run(.tiny) { lines.append($0) }
        #expect(report.gradientCheckError < 1e-6)
        #expect(report.initialLoss > 0.5)
        #expect(report.finalLoss < 0.05, "final loss \(report.finalLoss)")
        // Signs right on all four points: −, +, +, −.
        #expect(zip(report.predictions, [-1.0, 1, 1, -1]).allSatisfy { $0 * $1 > 0.5 })
        #expect(lines.contains { $0.contains("largest difference") })
    }
}
