// Chapter02SmokeTests.swift — chapter 2 runs; its kernels agree and its gradients check.
import Testing
@testable import Chapter02Tensors

@Suite struct Chapter02SmokeTests {
    @Test func chapterNumbersAreRight() {
        var lines: [String] = []
        let report = Chapter02Tensors.run(.tiny) { lines.append($0) }
        #expect(report.timings.count == 2)
        #expect(report.timings.allSatisfy { $0.maxDifference < 1e-4 })
        #expect(report.tape == ["softmax", "tanh", "matmul"])
        #expect(report.gradientCheckRatio <= 1)
        #expect(report.broadcastGradient == [2, 2, 2])
    }
}
