// Writer → reader round trips for every dtype, float encodings checked against hand-computed bit
// patterns, and a byte-for-byte comparison with a file written by Python's `safetensors`.

import Foundation
import Testing
@testable import Checkpoints

/// Little-endian bytes of fixed-width integers.
func littleEndianBytes<T: FixedWidthInteger>(_ values: [T]) -> Data {
    var data = Data()
    for value in values { withUnsafeBytes(of: value.littleEndian) { data.append(contentsOf: $0) } }
    return data
}

/// The committed fixtures folder (copied into the test bundle).
func fixturesURL() throws -> URL {
    try #require(Bundle.module.url(forResource: "Fixtures", withExtension: nil))
}

@Suite struct SafeTensorsRoundTripTests {
    @Test(arguments: SafeTensors.DType.allCases)
    func rawBytesRoundTrip(dtype: SafeTensors.DType) throws {
        // A [2, 3] tensor whose bytes are 0, 1, 2, … and a scalar of the same dtype.
        let bytes = Data((0..<(6 * dtype.size)).map { UInt8($0 % 251) })
        let scalar = Data(repeating: 0xAB, count: dtype.size)
        let encoded = try SafeTensors.encode([
            .init(name: "t", dtype: dtype, shape: [2, 3], bytes: bytes),
            .init(name: "s", dtype: dtype, shape: [], bytes: scalar),
        ], metadata: ["format": "pt", "note": "round trip"])
        let file = try SafeTensors.File(bytes: encoded)
        #expect(file.metadata == ["format": "pt", "note": "round trip"])
        #expect(try file.info("t").dtype == dtype)
        #expect(try file.info("t").shape == [2, 3])
        #expect(try file.info("s").shape == [])
        #expect(try file.bytes(of: "t") == bytes)
        #expect(try file.bytes(of: "s") == scalar)
        // Same dtype: sorted by name, so "s" comes first.
        #expect(file.names == ["s", "t"])
        // The header length is a multiple of 8 and every tensor is aligned to its element size.
        let headerLength = Int(encoded[0]) | Int(encoded[1]) << 8
        #expect(headerLength % 8 == 0)
        for name in ["s", "t"] {
            #expect((8 + headerLength + (try file.info(name).dataOffsets.lowerBound)) % dtype.size == 0)
        }
    }

    @Test func floatEncodingsDecodeToTheSameValues() throws {
        // Values exactly representable in F16 and BF16, so every dtype must give them back exactly.
        let values: [Float] = [0, -0.5, 1.5, -3, 256, 0.125]
        for dtype in [SafeTensors.DType.f32, .f16, .bf16, .f64] {
            let tensor = try SafeTensors.NamedTensor(name: "x", shape: [3, 2], floats: values, as: dtype)
            #expect(tensor.bytes.count == 6 * dtype.size)
            let file = try SafeTensors.File(bytes: try SafeTensors.encode([tensor]))
            #expect(try file.floats(of: "x") == values, "dtype \(dtype)")
        }
    }

    @Test func halfAndBFloat16BitPatterns() throws {
        // 1.5 = 0x3FC0_0000 in float32: F16 0x3E00, BF16 0x3FC0; -2 = F16 0xC000, BF16 0xC000.
        let f16 = try SafeTensors.NamedTensor(name: "h", shape: [2], floats: [1.5, -2], as: .f16)
        #expect(f16.bytes == littleEndianBytes([UInt16(0x3E00), 0xC000]))
        let bf16 = try SafeTensors.NamedTensor(name: "b", shape: [2], floats: [1.5, -2], as: .bf16)
        #expect(bf16.bytes == littleEndianBytes([UInt16(0x3FC0), 0xC000]))
    }

    @Test func bfloat16RoundsToNearestEven() {
        // Exactly halfway with an even kept bit stays; with an odd kept bit rounds up; above half rounds up.
        #expect(SafeTensors.NamedTensor.bfloat16Bits(Float(bitPattern: 0x3F80_8000)) == 0x3F80)
        #expect(SafeTensors.NamedTensor.bfloat16Bits(Float(bitPattern: 0x3F81_8000)) == 0x3F82)
        #expect(SafeTensors.NamedTensor.bfloat16Bits(Float(bitPattern: 0x3F80_8001)) == 0x3F81)
        #expect(SafeTensors.NamedTensor.bfloat16Bits(Float(bitPattern: 0x3F80_7FFF)) == 0x3F80)
        #expect(Float(bitPattern: UInt32(SafeTensors.NamedTensor.bfloat16Bits(.nan)) << 16).isNaN)
    }

    @Test func integerDTypesConvertToFloat() throws {
        let file = try SafeTensors.File(bytes: try SafeTensors.encode([
            .init(name: "i16", dtype: .i16, shape: [3], bytes: littleEndianBytes([Int16(-300), 0, 300])),
            .init(name: "u32", dtype: .u32, shape: [2], bytes: littleEndianBytes([UInt32(7), 4_000_000])),
            .init(name: "i8", dtype: .i8, shape: [2], bytes: littleEndianBytes([Int8(-128), 127])),
        ]))
        #expect(try file.floats(of: "i16") == [-300, 0, 300])
        #expect(try file.floats(of: "u32") == [7, 4_000_000])
        #expect(try file.floats(of: "i8") == [-128, 127])
    }

    @Test func writerRejectsInconsistentTensors() {
        #expect(throws: SafeTensors.Error.writerByteCountMismatch(tensor: "w", expected: 8, actual: 4)) {
            try SafeTensors.encode([.init(name: "w", dtype: .f32, shape: [2], bytes: Data(count: 4))])
        }
        #expect(throws: SafeTensors.Error.writerDuplicateName("w")) {
            try SafeTensors.encode([.init(name: "w", dtype: .u8, shape: [1], bytes: Data([1])),
                                    .init(name: "w", dtype: .u8, shape: [1], bytes: Data([2]))])
        }
        #expect(throws: SafeTensors.Error.writerUnsupportedDType(tensor: "w", dtype: .i32)) {
            try SafeTensors.NamedTensor(name: "w", shape: [1], floats: [1], as: .i32)
        }
        #expect(throws: SafeTensors.Error.writerByteCountMismatch(tensor: "w", expected: 12, actual: 8)) {
            try SafeTensors.NamedTensor(name: "w", shape: [3], floats: [1, 2], as: .f32)
        }
    }

    @Test func namesNeedingJSONEscapesRoundTrip() throws {
        let names = ["quote\"d", "back\\slash", "new\nline", "tab\t", "bell\u{07}", "café", "日本"]
        let encoded = try SafeTensors.encode(names.map { .init(name: $0, dtype: .u8, shape: [1], bytes: Data([1])) })
        let file = try SafeTensors.File(bytes: encoded)
        #expect(Set(file.tensors.keys) == Set(names))
        // serde_json writes control characters other than \b\f\n\r\t as lowercase \u00xx.
        #expect(String(decoding: encoded, as: UTF8.self).contains(#""bell\u0007""#))
    }

    @Test func atomicWriteReplacesTheFileAndLeavesNoTemporaries() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("checkpoints-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("model.safetensors")
        try SafeTensors.write([.init(name: "a", shape: [1], floats: [1])], to: url)
        try SafeTensors.write([.init(name: "b", shape: [2], floats: [2, 3])], to: url)
        let file = try SafeTensors.File(contentsOf: url)
        #expect(Array(file.tensors.keys) == ["b"])
        #expect(try file.floats(of: "b") == [2, 3])
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["model.safetensors"])
    }

    /// The tensors of Fixtures/mixed-dtypes.safetensors, rebuilt from the formulas in
    /// scripts/checkpoints/make_fixtures.py with n = 0..<6.
    static func mixedDTypeTensors() throws -> [SafeTensors.NamedTensor] {
        let n = (0..<6).map { $0 }
        let bytes = { (dtype: SafeTensors.DType, shape: [Int], name: String, data: Data) in
            SafeTensors.NamedTensor(name: name, dtype: dtype, shape: shape, bytes: data)
        }
        return [
            bytes(.f64, [2, 3], "f64", littleEndianBytes(n.map { (Double($0) * 0.5 - 1).bitPattern })),
            try .init(name: "f32", shape: [3, 2], floats: n.map { Float($0) * 0.25 - 0.5 }),
            try .init(name: "f16", shape: [6], floats: n.map { Float($0) * 0.5 - 1 }, as: .f16),
            try .init(name: "bf16", shape: [2, 3], floats: n.map { Float($0) * 2 - 3 }, as: .bf16),
            bytes(.i64, [6], "i64", littleEndianBytes(n.map { Int64($0) * 1_000_000_007 - 3 })),
            bytes(.i32, [2, 3], "i32", littleEndianBytes(n.map { Int32($0) * -70_000 })),
            bytes(.i16, [3, 2], "i16", littleEndianBytes(n.map { Int16($0) * -300 })),
            bytes(.i8, [6], "i8", littleEndianBytes(n.map { Int8($0) * -20 })),
            bytes(.u8, [2, 3], "u8", littleEndianBytes(n.map { UInt8($0) * 40 })),
            bytes(.bool, [6], "bool", Data(n.map { $0 % 2 == 0 ? 1 : 0 })),
            try .init(name: "scalar", shape: [], floats: [7]),
            try .init(name: "empty", shape: [0, 4], floats: []),
            // 0, 0.5, 1, 1.5, 2, 2.5 by hand: E4M3 bias 7, 3 mantissa bits; E5M2 bias 15, 2 bits.
            bytes(.f8E4M3, [6], "f8e4m3", Data([0x00, 0x30, 0x38, 0x3C, 0x40, 0x42])),
            bytes(.f8E5M2, [6], "f8e5m2", Data([0x00, 0x38, 0x3C, 0x3E, 0x40, 0x41])),
        ]
    }

    @Test func encodeMatchesPythonSafetensorsByteForByte() throws {
        let python = try Data(contentsOf: fixturesURL().appendingPathComponent("mixed-dtypes.safetensors"))
        let ours = try SafeTensors.encode(Self.mixedDTypeTensors(), metadata: ["format": "pt"])
        #expect(ours.count == python.count)
        #expect(ours == python)
    }

    @Test func rewritingAReadFileReproducesItsBytes() throws {
        let python = try Data(contentsOf: fixturesURL().appendingPathComponent("mixed-dtypes.safetensors"))
        let file = try SafeTensors.File(bytes: python)
        #expect(try SafeTensors.encode(file.namedTensors, metadata: file.metadata) == python)
    }

    @Test func readsThePythonFileValues() throws {
        let file = try SafeTensors.File(contentsOf: fixturesURL().appendingPathComponent("mixed-dtypes.safetensors"))
        #expect(file.metadata == ["format": "pt"])
        #expect(file.tensors.count == 14)
        #expect(try file.floats(of: "f64") == [-1, -0.5, 0, 0.5, 1, 1.5])
        #expect(try file.floats(of: "f32") == [-0.5, -0.25, 0, 0.25, 0.5, 0.75])
        #expect(try file.floats(of: "f16") == [-1, -0.5, 0, 0.5, 1, 1.5])
        #expect(try file.floats(of: "bf16") == [-3, -1, 1, 3, 5, 7])
        #expect(try file.floats(of: "i32") == [0, -70_000, -140_000, -210_000, -280_000, -350_000])
        #expect(try file.floats(of: "i8") == [0, -20, -40, -60, -80, -100])
        #expect(try file.floats(of: "u8") == [0, 40, 80, 120, 160, 200])
        #expect(try file.floats(of: "scalar") == [7])
        #expect(try file.floats(of: "empty") == [])
        #expect(try file.info("empty").shape == [0, 4])
        #expect(try file.floats(of: "f8e4m3") == [0, 0.5, 1, 1.5, 2, 2.5])
        #expect(try file.floats(of: "f8e5m2") == [0, 0.5, 1, 1.5, 2, 2.5])
        #expect(try file.bytes(of: "bool") == Data([1, 0, 1, 0, 1, 0]))
        #expect(try file.bytes(of: "i64") == littleEndianBytes((0..<6).map { Int64($0) * 1_000_000_007 - 3 }))
    }

    @Test func float8E5M2IsTheTopByteOfAHalf() {
        // E5M2 has F16's sign and exponent layout with the low 8 mantissa bits dropped.
        for byte in UInt8.min...UInt8.max {
            let viaHalf = Float(Float16(bitPattern: UInt16(byte) << 8))
            let decoded = SafeTensors.float8E5M2(byte)
            #expect(decoded == viaHalf || (decoded.isNaN && viaHalf.isNaN), "byte \(byte)")
        }
    }

    @Test func float8E4M3SpecialValues() {
        #expect(SafeTensors.float8E4M3(0x7E) == 448)            // largest finite: 1.75 · 2^8
        #expect(SafeTensors.float8E4M3(0x7F).isNaN)             // no infinities in the fn variant
        #expect(SafeTensors.float8E4M3(0xFF).isNaN)
        #expect(SafeTensors.float8E4M3(0x01) == 0x1p-9)         // smallest subnormal: 1/8 · 2^-6
        #expect(SafeTensors.float8E4M3(0x08) == 0x1p-6)         // smallest normal
        #expect(SafeTensors.float8E4M3(0xB8) == -1)
        #expect(SafeTensors.float8E4M3(0x80) == 0 && SafeTensors.float8E4M3(0x80).sign == .minus)
    }
}
