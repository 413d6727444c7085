// Chapter09SmokeTests.swift — chapter 9 serves a mixed batch exactly on its tiny configuration.
import Testing
@testable import Chapter09Serving

@Suite struct Chapter09SmokeTests {
    @Test func mixedBatchIsExact() throws {
        var lines: [String] = []
        let report = try Chapter09Serving.run(.tiny) { lines.append($0) }
        #expect(report.mixedBatchDifference < 1e-5)
        #expect(report.answers.count == 3)
        #expect(report.adapterBytes < report.baseBytes / 2)
    }
}
