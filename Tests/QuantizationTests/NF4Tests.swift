// NF4Tests.swift — the dynamic 8-bit map, blockwise 8-bit codes, NF4 packing, double quantization and
// the panel-by-panel dequantizing GEMM, each against independent expectations.
import Foundation
import Testing
import Kernels
import Autodiff
@testable import Quantization

/// Seeded N(0, σ²) values.
func normalValues(_ count: Int, std: Float = 1, seed: UInt64) -> [Float] {
    var rng = RNG(seed: seed)
    return (0..<count).map { _ in rng.normal() * std }
}

@Suite struct DynamicMapTests {
    @Test func signedMapHasTheHandComputedEnds() {
        let map = DynamicMap.signed.values
        #expect(map.count == 256 && Set(map).count == 256 && map == map.sorted())
        #expect(map.last == 1 && map.contains(0))
        // Largest fraction below 1: midpoint of the last of 64 steps of [0.1, 1] = 0.1 + 0.9·63.5/64.
        #expect(abs(map[254] - 0.99296875) < 1e-7)
        #expect(abs(map[0] + 0.99296875) < 1e-7)
        // Smallest magnitude: one fraction value (0.55) at 10⁻⁶.
        #expect(abs(map.filter { $0 > 0 }.min()! - 5.5e-7) < 1e-12)
    }

    @Test func unsignedMapIsNonNegativeWithTwoValuesAtTheSmallestScale() {
        let map = DynamicMap.unsigned.values
        #expect(map.count == 256 && map.allSatisfy { $0 >= 0 } && map.first == 0 && map.last == 1)
        // 2 fraction values at 10⁻⁶: midpoints of [0.1, 0.55] and [0.55, 1].
        #expect(abs(map[1] - 3.25e-7) < 1e-12 && abs(map[2] - 7.75e-7) < 1e-12)
    }

    @Test func nearestIndexAgreesWithBruteForce() {
        let map = DynamicMap.signed
        var rng = RNG(seed: 4)
        for _ in 0..<5000 {
            let x = rng.uniform(-1, 1) * pow(10, -Float(rng.below(6)))
            let best = map.values.indices.min { abs(map.values[$0] - x) < abs(map.values[$1] - x) }!
            #expect(abs(map.values[Int(map.nearestIndex(x))] - x) == abs(map.values[best] - x))
        }
    }

    @Test func blockwiseCodesKeepEachBlocksAbsmaxAndHalfAGapOfError() throws {
        var values = normalValues(1000, seed: 2)
        values[10] = 50   // an outlier only spoils its own block
        let q = try BlockwiseQuantized8(values, blockSize: 256)
        #expect(q.absmax.count == 4 && q.absmax[0] == 50 && q.byteCount == 1000 + 16)
        let back = q.dequantized()
        // bitsandbytes' lookup first rounds value/absmax to a grid of spacing 2/65535, so a value can land up
        // to 1/65535 (of the absmax) past a midpoint: the error bound is half a gap plus that.
        let lookup: Float = 1 / 65_535
        // Values ≥ 0.1·absmax fall in the top decade, 64 codes over [0.1, 1]: error ≤ half a gap, 0.9/128.
        for i in 0..<1000 where abs(values[i]) >= 0.1 * q.absmax[i / 256] {
            #expect(abs(back[i] - values[i]) <= (0.9 / 128 + lookup) * q.absmax[i / 256] * 1.0001, "index \(i): \(values[i]) → \(back[i])")
        }
        // The next decade down has 32 codes over [0.01, 0.1]: error ≤ 0.09/64 of the absmax.
        for i in 0..<1000 where abs(values[i]) < 0.1 * q.absmax[i / 256] && abs(values[i]) >= 0.01 * q.absmax[i / 256] {
            #expect(abs(back[i] - values[i]) <= (0.09 / 64 + lookup) * q.absmax[i / 256] * 1.0001)
        }
        #expect(throws: QuantizationError.self) { try BlockwiseQuantized8(values, blockSize: 0) }
    }
}

@Suite struct NF4Tests {
    @Test func codeIsTheNearestLevel() {
        var rng = RNG(seed: 9)
        for _ in 0..<20000 {
            let x = rng.uniform(-1, 1)
            let nearest = NF4.levels.indices.min { abs(NF4.levels[$0] - x) < abs(NF4.levels[$1] - x) }!
            #expect(abs(NF4.levels[Int(NF4.code(x))] - x) == abs(NF4.levels[nearest] - x))
        }
        #expect(NF4.code(-1) == 0 && NF4.code(0) == 7 && NF4.code(1) == 15)
    }

    @Test func twoCodesPerByteFirstInTheHighNibble() throws {
        // Block absmax 1: −1 → code 0, 1 → code 15, 0 → code 7, 0.5626 → code 13.
        let weight = try NF4Weight([-1, 1, 0, 0.5626170039176941], rows: 2, columns: 2, doubleQuantize: false)
        #expect(weight.packedBytes == [0x0F, 0x7D])
        #expect(weight.dequantized() == [-1, 1, 0, 0.5626170039176941])
    }

    @Test func bitsPerParameterAre4Point5Or4Point127WithDoubleQuantization() throws {
        let values = normalValues(64 * 256 * 4, std: 0.02, seed: 3)
        let plain = try NF4Weight(values, rows: 256, columns: 256, doubleQuantize: false)
        let dq = try NF4Weight(values, rows: 256, columns: 256)
        #expect(plain.bitsPerParameter == 4.5)
        // 4 + 8/64 + 32/(64·256) + 32 bits of mean over 65536 values.
        #expect(abs(dq.bitsPerParameter - (4 + 8.0 / 64 + 32.0 / (64 * 256) + 32.0 / 65536)) < 1e-9)
        #expect(abs(dq.bitsPerParameter - 4.127) < 0.001)
    }

    @Test func dequantizationErrorIsBoundedByHalfTheWidestGap() throws {
        let values = normalValues(4096, std: 0.02, seed: 5)
        let weight = try NF4Weight(values, rows: 64, columns: 64, doubleQuantize: false)
        let back = weight.dequantized()
        let widestGap = zip(NF4.levels.dropFirst(), NF4.levels).map { $0 - $1 }.max()!
        for block in 0..<64 {
            let absmax = values[block * 64 ..< block * 64 + 64].map(abs).max()!
            for i in block * 64 ..< block * 64 + 64 {
                #expect(abs(back[i] - values[i]) <= widestGap / 2 * absmax * 1.0001)
            }
        }
    }

    @Test func doubleQuantizedScalesStayWithinOnePercent() throws {
        let values = normalValues(64 * 600, std: 0.02, seed: 6)
        let plain = try NF4Weight(values, rows: 600, columns: 64, doubleQuantize: false)
        let dq = try NF4Weight(values, rows: 600, columns: 64)
        for block in 0..<600 {
            #expect(abs(dq.scale(block) - plain.scale(block)) <= 0.01 * plain.scale(block))
        }
        #expect(dq.doubleQuantized!.quantized.absmax.count == 3)   // ⌈600 / 256⌉ second-level scales
    }

    @Test func badInputThrowsNamingTheValue() {
        var values = normalValues(12, seed: 1)
        values[7] = .nan
        #expect(throws: QuantizationError("NF4: value nan at row 1, column 3 is not finite")) {
            try NF4Weight(values, rows: 3, columns: 4)
        }
        #expect(throws: QuantizationError.self) { try NF4Weight([1, 2, 3], rows: 2, columns: 2) }
    }

    @Test func theMeterSeesThePackedBytesAsWeights() throws {
        let values = normalValues(128 * 96, seed: 8)
        let (weight, meter) = try MemoryMeter.measure { try NF4Weight(values, rows: 128, columns: 96) }
        #expect(meter.liveBytes(.weights) == weight.byteCount)
        #expect(weight.byteCount == 128 * 96 / 2 + 192 + 4 + 4)   // codes, 192 DQ codes, one absmax₂, the mean
    }
}

@Suite struct DequantizedGEMMTests {
    /// Naive X·Wᵀ in Double.
    func reference(_ x: [Float], _ w: [Float], m: Int, n: Int, k: Int) -> [Float] {
        (0..<m * n).map { index in
            let (i, j) = (index / n, index % n)
            return Float((0..<k).reduce(0.0) { $0 + Double(x[i * k + $1]) * Double(w[j * k + $1]) })
        }
    }

    @Test(arguments: [(1, 1, 1), (7, 17, 65), (33, 130, 7), (5, 64, 128), (70, 200, 96)])
    func forwardAndBackwardMatchTheNaiveProducts(_ sizes: (Int, Int, Int)) {
        let (m, n, k) = sizes
        let x = normalValues(m * k, seed: 1), w = normalValues(n * k, seed: 2), g = normalValues(m * n, seed: 3)
        let weight = DenseWeight(w, rows: n, columns: k)
        for threads in [1, 2] {
            var y = [Float](repeating: .nan, count: m * n)
            DequantizedGEMM.multiplyTransposed(x: x, m: m, weight: weight, y: &y, ldy: n, threads: threads)
            let expected = reference(x, w, m: m, n: n, k: k)
            #expect(zip(y, expected).allSatisfy { abs($0 - $1) <= 1e-4 * max(1, abs($1)) })
            // dX = G·W: the same as X·Wᵀ with W's transpose, checked in Double.
            var dx = [Float](repeating: 1, count: m * k)
            DequantizedGEMM.accumulateProduct(g: g, ldg: n, m: m, weight: weight, dx: &dx, threads: threads)
            for i in 0..<m {
                for c in 0..<k {
                    let exact = 1 + (0..<n).reduce(0.0) { $0 + Double(g[i * n + $1]) * Double(w[$1 * k + c]) }
                    #expect(abs(Double(dx[i * k + c]) - exact) <= 1e-4 * max(1, abs(exact)))
                }
            }
        }
    }

    @Test func nf4ProductEqualsTheProductWithTheDecodedMatrixAtAnyThreadCount() throws {
        let (m, n, k) = (40, 192, 160)
        let x = normalValues(m * k, seed: 4)
        let weight = try NF4Weight(normalValues(n * k, std: 0.05, seed: 5), rows: n, columns: k)
        let expected = reference(x, weight.dequantized(), m: m, n: n, k: k)
        var one = [Float](repeating: 0, count: m * n), two = one
        DequantizedGEMM.multiplyTransposed(x: x, m: m, weight: weight, y: &one, ldy: n, threads: 1)
        DequantizedGEMM.multiplyTransposed(x: x, m: m, weight: weight, y: &two, ldy: n, threads: 2)
        #expect(one == two)
        #expect(zip(one, expected).allSatisfy { abs($0 - $1) <= 1e-4 * max(1, abs($1)) })
    }
}
