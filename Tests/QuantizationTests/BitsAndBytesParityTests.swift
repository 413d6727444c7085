// BitsAndBytesParityTests.swift — our dynamic maps, NF4 bytes, double-quantized scales, 8-bit blockwise
// codes and dequantized values against what bitsandbytes 0.50.2 / torch 2.15 computed on an AVX2 CPU
// (Fixtures/bitsandbytes.safetensors and bitsandbytes-large.safetensors, written by
// scripts/bitsandbytes/make_fixtures.py) on tensors of 33 … 1 048 576 values. Everything is compared
// bit for bit: bitPattern equality, no tolerance.
import Foundation
import Testing
import Checkpoints
@testable import Quantization

enum BitsAndBytesFixture {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
    /// Flat sizes: 4096 is a 64×64 matrix, 7000 a 1000×7 one; 33, 4097 and 19 207 are not multiples of 64.
    static let sizes = [33, 64, 1000, 4096, 4097, 7000, 64 * 300 + 7]
    static let dequantizedSizes = [1000, 4097]
    static func file() throws -> SafeTensors.File { try SafeTensors.File(contentsOf: directory.appendingPathComponent("bitsandbytes.safetensors")) }
    static func large() throws -> SafeTensors.File { try SafeTensors.File(contentsOf: directory.appendingPathComponent("bitsandbytes-large.safetensors")) }
    static func bytes(_ file: SafeTensors.File, _ name: String) throws -> [UInt8] { [UInt8](try file.bytes(of: name)) }

    /// The script's `hashed_uniform`: a 32-bit hash of (i + 1, salt), top 24 bits · 2⁻²⁴ (exact in float32).
    static func hashedUniform(_ n: Int, salt: UInt32) -> [Float] {
        (0..<n).map { i in
            var h = UInt32(truncatingIfNeeded: i + 1) &* 2_654_435_761 &+ salt
            h ^= h >> 13
            h = h &* 0x5BD1_E995
            h ^= h >> 15
            return Float(h >> 8) * 0x1p-24
        }
    }

    /// The script's `fixture_input`: ((u1 + u2) + u3 − 1.5) · 0.04 in float32, every 487th value · 20.
    static func input(_ n: Int) -> [Float] {
        let (u1, u2, u3) = (hashedUniform(n, salt: 1), hashedUniform(n, salt: 2), hashedUniform(n, salt: 3))
        return (0..<n).map { i in
            let x = ((u1[i] + u2[i]) + u3[i] - 1.5) * 0.04
            return i % 487 == 0 ? x * 20 : x
        }
    }
}

/// Bitwise equality of two Float arrays, with the first difference in the message.
func expectBitIdentical(_ ours: [Float], _ reference: [Float], _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(ours.count == reference.count, "\(what): \(ours.count) vs \(reference.count) values", sourceLocation: sourceLocation)
    let differing = zip(ours, reference).enumerated().filter { $1.0.bitPattern != $1.1.bitPattern }
    #expect(differing.isEmpty, "\(what): \(differing.count) values differ, first at \(differing.first.map { "\($0.offset): \($0.element.0) vs \($0.element.1)" } ?? "")",
            sourceLocation: sourceLocation)
}

/// Byte equality of two code arrays, with the count and first difference in the message.
func expectSameCodes(_ ours: [UInt8], _ reference: [UInt8], _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(ours.count == reference.count, "\(what): \(ours.count) vs \(reference.count) codes", sourceLocation: sourceLocation)
    let differing = zip(ours, reference).enumerated().filter { $1.0 != $1.1 }
    #expect(differing.isEmpty, "\(what): \(differing.count) of \(ours.count) codes differ, first at \(differing.first.map { "\($0.offset): \($0.element.0) vs \($0.element.1)" } ?? "")",
            sourceLocation: sourceLocation)
}

@Suite struct BitsAndBytesParityTests {
    @Test func dynamicMapsAreBitIdentical() throws {
        let file = try BitsAndBytesFixture.file()
        for (name, map) in [("map.signed", DynamicMap.signed), ("map.unsigned", DynamicMap.unsigned)] {
            expectBitIdentical(map.values, try file.floats(of: name), name)
        }
    }

    @Test func fixtureInputsAreTheScriptsBits() throws {
        let file = try BitsAndBytesFixture.file()
        for n in BitsAndBytesFixture.sizes {
            let head = try file.floats(of: "n\(n).input_head")
            expectBitIdentical(Array(BitsAndBytesFixture.input(n).prefix(head.count)), head, "n\(n) input")
        }
    }

    /// Packed nibbles, plain block scales and all three parts of the double-quantized scales.
    func expectNF4Parity(_ file: SafeTensors.File, _ input: [Float], packed: Bool, plainScales: Bool) throws {
        let n = input.count
        let dq = try NF4Weight(input, rows: 1, columns: n, blockSize: 64, doubleQuantize: true)
        let scales = try #require(dq.doubleQuantized)
        if packed { expectSameCodes(dq.packedBytes, try BitsAndBytesFixture.bytes(file, "n\(n).packed"), "n\(n) packed nibbles (odd n pads with 7)") }
        if plainScales {
            let plain = try NF4Weight(input, rows: 1, columns: n, blockSize: 64, doubleQuantize: false)
            expectBitIdentical(plain.blockScales ?? [], try file.floats(of: "n\(n).absmax"), "n\(n) block absmax")
        }
        expectBitIdentical([scales.offset], try file.floats(of: "n\(n).offset"), "n\(n) double-quantization offset (absmax mean)")
        expectSameCodes(scales.quantized.codes, try BitsAndBytesFixture.bytes(file, "n\(n).absmax_codes"), "n\(n) absmax codes")
        expectBitIdentical(scales.quantized.absmax, try file.floats(of: "n\(n).absmax2"), "n\(n) second-level absmax")
    }

    @Test(arguments: BitsAndBytesFixture.sizes)
    func nf4BytesAndScalesAreBitIdentical(_ n: Int) throws {
        // bitsandbytes quantizes the flat tensor; a [1, n] matrix has the same flat layout.
        try expectNF4Parity(BitsAndBytesFixture.file(), BitsAndBytesFixture.input(n), packed: true, plainScales: true)
    }

    /// 256×384 (1536 block scales, 6 second-level blocks) and 1024×1024 (16 384 block scales: the mean
    /// sums 2048 vectors of 8 lanes through the cascade; below torch's 32 768-value threading grain).
    @Test(arguments: [256 * 384, 1024 * 1024])
    func largeNF4ScalesAreBitIdentical(_ n: Int) throws {
        try expectNF4Parity(BitsAndBytesFixture.large(), BitsAndBytesFixture.input(n), packed: n < 200_000, plainScales: false)
    }

    @Test(arguments: BitsAndBytesFixture.sizes)
    func blockwise8BitIsBitIdentical(_ n: Int) throws {
        let file = try BitsAndBytesFixture.file()
        let q = try BlockwiseQuantized8(BitsAndBytesFixture.input(n), blockSize: 256, map: .signed)
        expectSameCodes(q.codes, try BitsAndBytesFixture.bytes(file, "n\(n).blockwise8_codes"), "n\(n) 8-bit codes")
        expectBitIdentical(q.absmax, try file.floats(of: "n\(n).blockwise8_absmax"), "n\(n) 8-bit absmax")
    }

    @Test(arguments: BitsAndBytesFixture.dequantizedSizes)
    func dequantizedValuesAreBitIdentical(_ n: Int) throws {
        let file = try BitsAndBytesFixture.file()
        let input = BitsAndBytesFixture.input(n)
        expectBitIdentical(try BlockwiseQuantized8(input, blockSize: 256).dequantized(),
                           try file.floats(of: "n\(n).blockwise8_dequantized"), "n\(n) dequantize_blockwise")
        expectBitIdentical(try NF4Weight(input, rows: 1, columns: n, blockSize: 64, doubleQuantize: true).dequantized(),
                           try file.floats(of: "n\(n).nf4_dequantized"), "n\(n) dequantize_4bit (double-quantized)")
    }

    /// The 8-bit codes are bitsandbytes' 65 536-point lookup, not the exact nearest code: on the
    /// fixtures' largest input the two differ for a few values, each one code apart and right next to a
    /// midpoint (so "nearest" would not be bit-exact, and this checks the lookup is not it by accident).
    @Test func lookupCodesDifferFromNearestOnlyNextToMidpoints() throws {
        let map = DynamicMap.signed
        let values = BitsAndBytesFixture.input(64 * 300 + 7)
        let q = try BlockwiseQuantized8(values, blockSize: 256)
        var differing = 0
        for (i, x) in values.enumerated() {
            let v = x * (1 / q.absmax[i / 256])
            let nearest = map.nearestIndex(v)
            guard nearest != q.codes[i] else { continue }
            differing += 1
            let midpoint = 0.5 * (map.values[Int(min(nearest, q.codes[i]))] + map.values[Int(max(nearest, q.codes[i]))])
            #expect(abs(Int(nearest) - Int(q.codes[i])) == 1 && abs(v - midpoint) < 2.0 / 65_535, "value \(v): nearest \(nearest), lookup \(q.codes[i])")
        }
        #expect(differing > 0 && differing < values.count / 100, "\(differing) of \(values.count) codes differ from the nearest")
    }
}

/// `PyTorchSum` against torch.sum on hashed uniforms, one thread and (from 32 768 values) 2 and 3.
@Suite struct PyTorchSumTests {
    @Test func sumsAreTorchsBitForBit() throws {
        let file = try BitsAndBytesFixture.large()
        let names = file.tensors.keys.filter { $0.hasPrefix("sum.") }
        #expect(names.count > 40, "\(names.count) sums in the fixture")
        var orderMattered = false
        for name in names.sorted() {
            // sum.<n>.t<threads>
            let parts = name.split(separator: ".")
            let n = try #require(Int(parts[1])), threads = try #require(Int(parts[2].dropFirst()))
            let values = BitsAndBytesFixture.hashedUniform(n, salt: 7)
            let reference = try file.floats(of: name)[0]
            let ours = try PyTorchSum.sum(values, vectorWidth: 8, threads: threads)
            #expect(ours.bitPattern == reference.bitPattern, "\(name): \(ours) vs torch \(reference) (\(Int(ours.bitPattern) - Int(reference.bitPattern)) ulp)")
            if values.reduce(0, +).bitPattern != reference.bitPattern { orderMattered = true }
        }
        // A left-to-right sum would not pass: the order is what is being tested.
        #expect(orderMattered)
    }

    @Test func meanIsSumOverCountAndWidthIsChecked() throws {
        let values: [Float] = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]
        // 9 values, 8 lanes: lanes 0…7 hold 0.1…0.8, the tail 0.9 is added first, then the lanes in order.
        var expected: Float = 0.9
        for x in values.prefix(8) { expected += x }
        #expect(try PyTorchSum.sum(values) == expected)
        #expect(try PyTorchSum.mean(values) == expected / 9)
        #expect(throws: QuantizationError.self) { try PyTorchSum.sum(values, vectorWidth: 32) }
    }
}
