// BitsAndBytesParityTests.swift — our dynamic maps, NF4 bytes and double-quantized scales against
// what bitsandbytes 0.50.2 computed (Fixtures/bitsandbytes.safetensors, written by
// scripts/bitsandbytes/make_fixtures.py) on tensors of 33 … 19 207 values.
import Foundation
import Testing
import Checkpoints
@testable import Quantization

enum BitsAndBytesFixture {
    static let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/bitsandbytes.safetensors")
    static let sizes = [33, 64, 1000, 4097, 64 * 300 + 7]
    static func file() throws -> SafeTensors.File { try SafeTensors.File(contentsOf: url) }
    static func bytes(_ file: SafeTensors.File, _ name: String) throws -> [UInt8] { [UInt8](try file.bytes(of: name)) }
}

@Suite struct BitsAndBytesParityTests {
    @Test func dynamicMapsAreBitIdentical() throws {
        let file = try BitsAndBytesFixture.file()
        for (name, map) in [("map.signed", DynamicMap.signed), ("map.unsigned", DynamicMap.unsigned)] {
            let reference = try file.floats(of: name)
            let differing = zip(map.values, reference).filter { $0.bitPattern != $1.bitPattern }.count
            #expect(differing == 0, "\(name): \(differing) of 256 values differ")
        }
    }

    @Test(arguments: BitsAndBytesFixture.sizes)
    func nf4BytesAndScalesAreBitIdentical(_ n: Int) throws {
        let file = try BitsAndBytesFixture.file()
        let input = try file.floats(of: "n\(n).input")
        // bitsandbytes quantizes the flat tensor; a [1, n] matrix has the same flat layout.
        let plain = try NF4Weight(input, rows: 1, columns: n, blockSize: 64, doubleQuantize: false)
        let packed = Array(UnsafeBufferPointer(start: plain.packed.pointer, count: plain.packed.count))
        #expect(packed == (try BitsAndBytesFixture.bytes(file, "n\(n).packed")), "packed nibbles (odd n pads with 7)")
        #expect(plain.blockScales?.map(\.bitPattern) == (try file.floats(of: "n\(n).absmax")).map(\.bitPattern))

        let dq = try #require(try NF4Weight(input, rows: 1, columns: n, blockSize: 64, doubleQuantize: true).doubleQuantized)
        let offset = try file.floats(of: "n\(n).offset")[0]
        // The mean of the block scales: torch sums float32 with its vectorised cascade (not reproduced
        // here), we in order; the two agree to within 4 ulp.
        #expect(abs(dq.offset - offset) <= 4 * offset.ulp, "offset \(dq.offset) vs \(offset)")
        try expectNearestCodes(dq.quantized.codes, reference: BitsAndBytesFixture.bytes(file, "n\(n).absmax_codes"),
                               normalized: dq.quantized.normalizedInputs(input: (plain.blockScales ?? []).map { $0 - dq.offset }))
        let absmax2 = try file.floats(of: "n\(n).absmax2")
        #expect(zip(dq.quantized.absmax, absmax2).allSatisfy { abs($0 - $1) <= 2 * $1.ulp }, "\(dq.quantized.absmax) vs \(absmax2)")
    }

    @Test(arguments: BitsAndBytesFixture.sizes)
    func blockwise8BitIsBitIdentical(_ n: Int) throws {
        let file = try BitsAndBytesFixture.file()
        let input = try file.floats(of: "n\(n).input")
        let q = try BlockwiseQuantized8(input, blockSize: 256, map: .signed)
        try expectNearestCodes(q.codes, reference: BitsAndBytesFixture.bytes(file, "n\(n).blockwise8_codes"),
                               normalized: q.normalizedInputs(input: input))
        #expect(q.absmax.map(\.bitPattern) == (try file.floats(of: "n\(n).blockwise8_absmax")).map(\.bitPattern))
    }

    /// bitsandbytes' CPU kernel finds the code with an approximate binary search that, for about 2 values
    /// in 1000, lands one code away from the nearest. We keep the nearest code; this checks that every
    /// other code is identical and that each differing one is adjacent and really farther from the value.
    func expectNearestCodes(_ ours: [UInt8], reference: [UInt8], normalized: [Float]) throws {
        #expect(ours.count == reference.count)
        let map = DynamicMap.signed.values
        var differing = 0
        // (NaN marks a block whose absmax is 0: bitsandbytes then quantizes 0/0, and the code is
        // multiplied by 0 when dequantized, so it does not matter.)
        for (i, (a, b)) in zip(ours, reference).enumerated() where a != b && !normalized[i].isNaN {
            differing += 1
            let x = normalized[i]
            #expect(abs(Int(a) - Int(b)) == 1 && abs(x - map[Int(a)]) <= abs(x - map[Int(b)]), "value \(x): ours \(a), bitsandbytes \(b)")
        }
        #expect(differing <= 2 + ours.count / 200, "\(differing) of \(ours.count) codes differ")
    }
}

extension BlockwiseQuantized8 {
    /// Each input divided by its block's absmax (what the codes quantize).
    func normalizedInputs(input: [Float]) -> [Float] {
        input.enumerated().map { i, x in absmax[i / blockSize] > 0 ? x / absmax[i / blockSize] : .nan }
    }
}
