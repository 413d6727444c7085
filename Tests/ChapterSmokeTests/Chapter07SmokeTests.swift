// Chapter07SmokeTests.swift — chapter 7 runs every method on its tiny configuration.
import Testing
@testable import Chapter07PEFTZoo

@Suite struct Chapter07SmokeTests {
    @Test func everyMethodRunsAndTrainsFewerParametersThanFullFineTuning() throws {
        var lines: [String] = []
        let rows = try Chapter07PEFTZoo.run(.tiny) { lines.append($0) }
        #expect(rows.count == 7)
        #expect(rows[0].fraction == 1)
        #expect(rows.dropFirst().allSatisfy { $0.trainable < rows[0].trainable && $0.trainable > 0 })
        #expect(rows[1].extraInferenceMultiplyAdds == 0)   // LoRA, merged
    }
}
