// PackingKernelTests.swift — the register transposes that pack a transposed B, grouped-KV attention
// with keys in a larger buffer (a KV cache), and the elementwise fast path for tensors with unit axes —
// each against a plain loop written here.
import Foundation
import Testing
@testable import Kernels

/// C = A·Bᵀ by a plain loop in Double (A [m, k], B [n, k]).
func naiveNT(_ a: [Float], _ b: [Float], m: Int, n: Int, k: Int) -> [Double] {
    (0..<(m * n)).map { index in
        let (i, j) = (index / n, index % n)
        return (0..<k).reduce(0.0) { $0 + Double(a[i * k + $1]) * Double(b[j * k + $1]) }
    }
}

@Suite struct PackingKernelTests {
    @Test(arguments: [8, 16])
    func blockTransposeIsATranspose(lanes: Int) {
        // Rows of the source 37 floats apart, rows of the target 53 apart: strides unlike the block size.
        let (sourceStride, targetStride) = (37, 53)
        let source = seededValues(lanes * sourceStride, seed: 61)
        var target = [Float](repeating: .nan, count: lanes * targetStride)
        source.withUnsafeBufferPointer { s in
            target.withUnsafeMutableBufferPointer { t in
                BlockTranspose.transpose(lanes: lanes, s.baseAddress!, sourceStride: sourceStride,
                                         t.baseAddress!, targetStride: targetStride)
            }
        }
        for q in 0..<lanes {
            for r in 0..<lanes { #expect(target[q * targetStride + r] == source[r * sourceStride + q], "(\(q), \(r))") }
            // Nothing written past the block's width in each target row.
            #expect(target[(q * targetStride + lanes)..<((q + 1) * targetStride)].allSatisfy { $0.isNaN })
        }
    }


    /// x·Wᵀ shapes whose B packing takes the register-transpose path (full NR-wide slivers), with a depth
    /// that is and is not a multiple of 16, few rows (the column-split schedule) and many, 1 and 2 threads.
    @Test(arguments: [(64, 96, 576), (64, 96, 37), (9, 144, 130), (300, 96, 200)])
    func transposedWeightProductsMatchAPlainLoop(shape: (Int, Int, Int)) {
        let (m, n, k) = shape
        let a = seededValues(m * k, seed: 62), w = seededValues(n * k, seed: 63)
        func run() -> [Float] {
            var c = [Float](repeating: .nan, count: m * n)
            GEMM.multiply(transA: .none, transB: .transposed, m: m, n: n, k: k, a: a, lda: k, b: w, ldb: k, c: &c, ldc: n)
            return c
        }
        let one = withThreads(1, run).result, two = withThreads(2, run).result
        #expect(one == two)
        let worst = zip(one, naiveNT(a, w, m: m, n: n, k: k)).map { abs(Double($0) - $1) }.max()!
        #expect(worst < 1e-3, "\(shape): \(worst)")
    }

    /// Grouped KV with the keys in a buffer that has room for more positions (a KV cache): the same
    /// numbers as the ungrouped kernel on explicitly repeated, tightly packed heads.
    @Test func groupedAttentionOverACacheBufferEqualsRepeatedHeads() {
        let (heads, groups, t, s, d, capacity) = (4, 2, 6, 9, 8, 12)
        let kvHeads = heads / groups
        let q = seededValues(heads * t * d, seed: 64)
        let cacheK = seededValues(kvHeads * capacity * d, seed: 65), cacheV = seededValues(kvHeads * capacity * d, seed: 66)
        // The ungrouped layout: head h gets KV head h / groups's first s rows.
        var k = [Float](), v = [Float]()
        for h in 0..<heads {
            let base = (h / groups) * capacity * d
            k += cacheK[base..<(base + s * d)]
            v += cacheV[base..<(base + s * d)]
        }
        var expected = [Float](repeating: 0, count: heads * t * d), got = expected
        var p1 = [Float](repeating: 0, count: heads * t * s), p2 = p1
        CausalAttention.forward(q: q, k: k, v: v, out: &expected, probabilities: &p1, heads: heads, queries: t, keys: s,
                                width: d, scale: 0.35)
        CausalAttention.forward(q: q, k: cacheK, v: cacheV, out: &got, probabilities: &p2, heads: heads, queries: t, keys: s,
                                width: d, scale: 0.35, groups: groups, keyHeadStride: capacity * d)
        #expect(got == expected)
        #expect(p2 == p1)
    }

    /// [1, T, C]-style shapes (unit axes, as in generation's batch of one) take the contiguous fast path;
    /// broadcasting along a unit axis must still broadcast.
    @Test func binaryOpsOnShapesWithUnitAxesMatchAPlainLoop() {
        let shape = [1, 5, 1, 7], count = 35
        let a = seededValues(count, seed: 67), b = seededValues(count, seed: 68), row = seededValues(7, seed: 69)
        var out = [Float](repeating: .nan, count: count)
        Elementwise.binary(.mul, a: a, aStrides: [0, 7, 0, 1], b: b, bStrides: [0, 7, 0, 1], out: &out, shape: shape)
        #expect(out == zip(a, b).map(*))
        // b = one row of 7 broadcast over the 5 positions: strides [0, 0, 0, 1].
        Elementwise.binary(.add, a: a, aStrides: [0, 7, 0, 1], b: row, bStrides: [0, 0, 0, 1], out: &out, shape: shape)
        #expect(out == (0..<count).map { a[$0] + row[$0 % 7] })
    }
}

/// A weight packed once for inference gives the unpacked product: bit for bit for more than
/// `SkinnyGEMM.maxRows` rows (same micro-kernel, same depth order), to rounding for decode's few rows.
@Suite struct PrepackedWeightTests {
    @Test(arguments: [(64, 100, 576), (9, 1600, 130), (300, 96, 37), (1, 100, 576), (4, 49, 70)])
    func prepackedProductsEqualTheUnpackedOnes(shape: (Int, Int, Int)) {
        let (m, n, k) = shape
        let x = seededValues(m * k, seed: 71), w = seededValues(n * k, seed: 72)
        let packed = w.withUnsafeBufferPointer { PrepackedWeight($0.baseAddress!, rows: n, columns: k) }
        func prepacked() -> [Float] {
            var c = [Float](repeating: .nan, count: m * n)
            GEMM.multiplyPrepacked(x: x, lda: k, m: m, weight: packed, c: &c, ldc: n)
            return c
        }
        var dense = [Float](repeating: .nan, count: m * n)
        GEMM.multiply(transA: .none, transB: .transposed, m: m, n: n, k: k, a: x, lda: k, b: w, ldb: k, c: &dense, ldc: n)
        let one = withThreads(1, prepacked).result, two = withThreads(2, prepacked).result
        #expect(one == two, "thread count changed the result")
        if m > SkinnyGEMM.maxRows {
            #expect(one == dense, "\(shape): not bitwise the unpacked product")
        } else {
            let worst = zip(one, naiveNT(x, w, m: m, n: n, k: k)).map { abs(Double($0) - $1) }.max()!
            #expect(worst < 1e-3, "\(shape): \(worst)")
        }
    }

}
