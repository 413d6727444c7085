// QuantizationErrorTests.swift — the module's error reports its message.
import Testing
@testable import Quantization

@Suite struct QuantizationErrorTests {
    @Test func descriptionIsTheMessage() {
        #expect(QuantizationError("block size 0").description == "block size 0")
    }
}
