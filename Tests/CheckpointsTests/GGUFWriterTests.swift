// GGUFWriterTests.swift — our GGUF writer reproduces gguf-py's GGUFWriter byte for byte (metadata of
// every type, nested arrays, custom alignment; F32/F16/BF16/Q8_0/Q4_0/Q4_1 tensors quantized by
// gguf.quants.quantize, which follows ggml's reference quantizers), and exporting our GPT to GGUF
// and reading it back gives the same tensors and logits.
import Foundation
import Testing
import Autodiff
import NN
@testable import Checkpoints

@Suite struct GGUFWriterTests {
    /// The values make_fixtures.py writes: sin(0.37·i + 0.1)·scale·(1 + i mod 5), computed in double.
    static func formula(_ count: Int, scale: Double) -> [Float] {
        (0..<count).map { i -> Float in
            let x: Double = 0.37 * Double(i) + 0.1
            let factor = Double(1 + i % 5)
            return Float(sin(x) * scale * factor)
        }
    }

    @Test func writerReproducesGGUFPyBytes() throws {
        let metadata: [(key: String, value: GGUF.Value)] = [
            ("general.architecture", .string("llama")), ("general.alignment", .uint32(64)),
            ("test.u8", .uint8(200)), ("test.i8", .int8(-100)), ("test.u16", .uint16(60000)), ("test.i16", .int16(-30000)),
            ("test.u32", .uint32(4_000_000_000)), ("test.i32", .int32(-2_000_000_000)),
            ("test.u64", .uint64(18_000_000_000_000_000_000)), ("test.i64", .int64(-9_000_000_000_000_000_000)),
            ("test.f32", .float32(0.15625)), ("test.f64", .float64(-2.5e-300)), ("test.bool", .bool(true)),
            ("test.string", .string("héllo, 世界 🙂")),
            ("test.ints", .array(elementType: .int32, [.int32(1), .int32(-2), .int32(3)])),
            ("test.strings", .array(elementType: .string, [.string("a"), .string(""), .string("ccc")])),
            ("test.nested", .array(elementType: .array, [.array(elementType: .int32, [.int32(1), .int32(2)]),
                                                          .array(elementType: .int32, [.int32(3)])])),
        ]
        let specs: [(String, [Int], GGUF.TensorType, Double)] = [
            ("f32", [2, 3], .f32, 1.0), ("f16", [4, 32], .f16, 0.5), ("bf16", [64], .bf16, 3.0),
            ("q8_0", [3, 64], .q8_0, 0.2), ("q4_0", [2, 64], .q4_0, 1.5), ("q4_1", [2, 32], .q4_1, 0.7),
        ]
        let tensors = try specs.map { name, shape, type, scale in
            try GGUF.TensorToWrite(name: name, shape: shape, floats: Self.formula(shape.reduce(1, *), scale: scale), as: type)
        }
        let ours = try GGUF.encode(metadata: metadata, tensors: tensors, alignment: 64)
        let reference = try Data(contentsOf: try ggufFixture("writer-reference.gguf"))
        #expect(ours.count == reference.count)
        let firstDifference = zip(ours, reference).enumerated().first { $0.element.0 != $0.element.1 }?.offset
        #expect(firstDifference == nil, "first differing byte at \(firstDifference ?? -1)")
        // And the atomic file writer leaves exactly those bytes (no temporary behind).
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tinytune-gguf-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("out.gguf")
        try GGUF.write(metadata: metadata, tensors: tensors, alignment: 64, to: url)
        #expect(try Data(contentsOf: url) == reference)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["out.gguf"])
    }

    @Test func quantizersFollowTheReferenceOnHandValues() throws {
        // Q8_0: absmax 127 → d = 1, codes are the values rounded half away from zero.
        var block = [Float](repeating: 0, count: 32)
        block[0] = 127; block[1] = -2.5; block[2] = 2.5; block[3] = 0.49
        let q8 = [UInt8](try GGUF.quantize(block, as: .q8_0))
        #expect(q8[0...1] == [0x00, 0x3C])                    // fp16 1.0
        #expect(q8[2...5].map { Int8(bitPattern: $0) } == [127, -3, 3, 0])
        // Q4_0: the largest magnitude is −8 → d = 1 and it gets code 0; +7 → code 15; 0 → code 8.
        block = [Float](repeating: 0, count: 32)
        block[0] = -8; block[16] = 7
        let q4 = [UInt8](try GGUF.quantize(block, as: .q4_0))
        #expect(q4[0...1] == [0x00, 0x3C])
        #expect(q4[2] == 0xF0 && q4[3] == 0x88)               // value 0 low nibble 0, value 16 high nibble 15
        // Q4_1: min 0, max 15 → d = 1, m = 0, codes are the values.
        block = (0..<32).map { Float($0 % 16) }
        let q41 = [UInt8](try GGUF.quantize(block, as: .q4_1))
        #expect(q41[0...3] == [0x00, 0x3C, 0x00, 0x00] && q41[4] == 0x00 && q41[5] == 0x11)
        #expect(throws: GGUF.Error.self) { try GGUF.quantize([Float](repeating: .nan, count: 32), as: .q8_0) }
        #expect(throws: GGUF.Error.self) { try GGUF.quantize([1, 2], as: .q4_0) }
        #expect(throws: GGUF.Error.self) { try GGUF.quantize([Float](repeating: 1, count: 256), as: .q4_K) }
    }

    @Test func exportedTensorsEqualTheConvertersBytes() throws {
        // Loading undoes the Q/K permutation, exporting re-applies it: F32 tensors come back byte-identical.
        let original = try GGUF.File(contentsOf: try ggufFixture("tiny-llama-F32.gguf"))
        let model = try ModelCheckpoint.model(from: original)
        let exported = try ModelCheckpoint.ggufTensors(of: model, type: .f32)
        #expect(Set(exported.map(\.name)) == Set(original.tensors.map(\.name)))
        for tensor in exported {
            #expect(tensor.bytes == (try original.bytes(of: tensor.name)), "\(tensor.name)")
            #expect(tensor.shape == (try original.info(tensor.name)).shape)
        }
    }

    @Test(arguments: [GGUF.TensorType.f32, .f16, .q8_0, .q4_0])
    func exportReadsBackWithTheSameConfigAndLogits(type: GGUF.TensorType) throws {
        let model = try ModelCheckpoint.model(from: GGUF.File(contentsOf: try ggufFixture("tiny-llama-Q8_0.gguf")))
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tinytune-gguf-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("model.gguf")
        try ModelCheckpoint.saveGGUF(model, to: url, type: type, extraMetadata: [("tokenizer.ggml.model", .string("gpt2"))])
        let file = try GGUF.File(contentsOf: url)
        #expect(!file.contains("output.weight"))        // tied stays tied
        #expect(try file.string("tokenizer.ggml.model") == "gpt2")
        #expect(try file.info("blk.0.attn_norm.weight").type == .f32)
        #expect(try file.info("blk.0.ffn_down.weight").type == type)
        let loaded = try ModelCheckpoint.model(from: file)
        #expect(loaded.config == model.config)
        let tokens: [Int32] = [1, 17, 42, 5, 63, 0, 8, 29]
        let a = model(tokens, batch: 1, steps: tokens.count).values, b = loaded(tokens, batch: 1, steps: tokens.count).values
        let worst = zip(a, b).map { abs($0 - $1) }.max() ?? .infinity
        // F32 is exact; each format's rounding shows up at its own scale (the weights are ~0.3).
        let tolerance: Float = [GGUF.TensorType.f32: 1e-5, .f16: 0.05, .q8_0: 0.5, .q4_0: 6][type] ?? 0
        #expect(worst <= tolerance, "\(type.name): max |Δlogit| = \(worst)")
        if type == .f32 { #expect(worst == 0) }
    }
}
