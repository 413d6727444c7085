// Chapter04SmokeTests.swift — chapter 4 runs on a tiny config and its measured bytes agree with the estimator.
import Testing
import FullFineTuning
@testable import Chapter04Memory

@Suite struct Chapter04SmokeTests {
    @Test func measuredMemoryAgreesWithTheEstimate() {
        var lines: [String] = []
        let report = Chapter04Memory.run(.tiny) { lines.append($0) }
        #expect(lines.contains { $0.hasPrefix("13B") && $0.contains("26.0 GB") && $0.contains("31.2 GB") })
        #expect(report.measurements.count == 3)
        for m in report.measurements {
            // Weights and optimizer state: exact.
            #expect(m.measured.weights == m.estimated.weights, "\(m.label)")
            #expect(m.measured.optimizerState == m.estimated.optimizerState, "\(m.label)")
            // Activations: within 5% of the op-by-op count.
            #expect(abs(m.measured.activations / m.estimated.activations - 1) < 0.05, "\(m.label)")
            // Gradients: at least the parameter gradients.
            #expect(m.measured.gradients >= m.estimated.gradients, "\(m.label)")
        }
        let (full, partial, checkpointed) = (report.measurements[0], report.measurements[1], report.measurements[2])
        #expect(partial.measured.optimizerState < full.measured.optimizerState / 2)
        #expect(checkpointed.measured.activations < full.measured.activations)
        #expect(partial.measured.activations < full.measured.activations)
    }
}
