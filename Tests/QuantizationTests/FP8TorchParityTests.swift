// FP8TorchParityTests.swift — our default fp8 formats are PyTorch's, bit for bit.
//
// Fixtures/fp8.safetensors (scripts/bitsandbytes/make_fp8_fixture.py, torch 2.15) holds torch's decoding
// of all 256 bit patterns of float8_e4m3fn and float8_e5m2, and its conversion `x.to(float8_*)` of
// 22 222 float32 values: every fp8 value, each midpoint between neighbours and the floats just beside
// them (the ties), values past the largest finite number up to 3e38, ±0, ±∞, float32 subnormals and
// 20 000 log-uniform values from 1e-9 to 1e6. `FloatFormat.e4m3` (saturating to ±448) and
// `FloatFormat.e5m2` (overflowing to ±∞) must give the same codes; `e4m3NaNOnOverflow` (the OCP
// spec's NaN on overflow) is the other behaviour and must differ exactly on the overflowing inputs.
import Foundation
import Testing
import Checkpoints
@testable import Quantization

@Suite struct FP8TorchParityTests {
    static func file() throws -> SafeTensors.File {
        try SafeTensors.File(contentsOf: BitsAndBytesFixture.directory.appendingPathComponent("fp8.safetensors"))
    }

    @Test(arguments: [("e4m3fn", FloatFormat.e4m3), ("e5m2", FloatFormat.e5m2)])
    func allBitPatternsDecodeAsTorch(_ name: String, _ format: FloatFormat) throws {
        let reference = try Self.file().floats(of: "\(name).decoded")
        #expect(reference.count == 256)
        for (code, expected) in reference.enumerated() {
            let ours = format.decode(UInt32(code))
            #expect(ours.bitPattern == expected.bitPattern || (ours.isNaN && expected.isNaN), "\(name) 0x\(String(code, radix: 16)): \(ours) vs torch \(expected)")
        }
    }

    @Test(arguments: [("e4m3fn", FloatFormat.e4m3), ("e5m2", FloatFormat.e5m2)])
    func conversionRoundsAsTorch(_ name: String, _ format: FloatFormat) throws {
        let file = try Self.file()
        let inputs = try file.floats(of: "inputs")
        let codes = [UInt8](try file.bytes(of: "\(name).codes"))
        #expect(inputs.count > 22_000 && inputs.count == codes.count)
        let differing = inputs.indices.filter { UInt32(codes[$0]) != format.encode(inputs[$0]) }
        #expect(differing.isEmpty, "\(name): \(differing.count) of \(inputs.count) conversions differ, e.g. \(differing.prefix(5).map { "\(inputs[$0]) → ours 0x\(String(format.encode(inputs[$0]), radix: 16)), torch 0x\(String(codes[$0], radix: 16))" })")
        #expect(format.round(.nan).isNaN)
    }

    /// The OCP variant differs from torch exactly where torch saturates: |x| rounding above 448.
    @Test func nanOnOverflowDiffersOnlyWhereTorchSaturates() throws {
        let file = try Self.file()
        let inputs = try file.floats(of: "inputs")
        let codes = [UInt8](try file.bytes(of: "e4m3fn.codes"))
        for (x, code) in zip(inputs, codes) {
            let ocp = FloatFormat.e4m3NaNOnOverflow.decode(FloatFormat.e4m3NaNOnOverflow.encode(x))
            let saturated = code & 0x7F == 0x7E && abs(x) > 464   // torch gave ±448 for a value that rounds past it
            if saturated { #expect(ocp.isNaN, "\(x)") } else { #expect(ocp.bitPattern == FloatFormat.e4m3.decode(UInt32(code)).bitPattern, "\(x)") }
        }
    }
}
