// GEMMTests.swift — the fast GEMM against the reference triple loop, on awkward sizes.
import Testing
import Foundation
@testable import Kernels
import TestSupport

/// Deterministic pseudo-random buffers (SplitMix64), so the kernel tests need no other module.
func seededValues(_ count: Int, seed: UInt64) -> [Float] {
    var x = seed
    return (0..<count).map { _ in
        x &+= 0x9E37_79B9_7F4A_7C15
        var z = x
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return Float((z ^ (z >> 31)) >> 40) / Float(1 << 24) * 2 - 1
    }
}

/// Runs fast and reference GEMM on the same inputs; returns the worst |difference| relative to √k.
func gemmDifference(_ ta: Transpose, _ tb: Transpose, m: Int, n: Int, k: Int, alpha: Float = 1, beta: Float = 0,
                    extraLead: Int = 0, threads: Int? = nil) -> Float {
    let (aRows, aCols) = ta == .none ? (m, k) : (k, m)
    let (bRows, bCols) = tb == .none ? (k, n) : (n, k)
    let (lda, ldb, ldc) = (aCols + extraLead, bCols + extraLead, n + extraLead)
    let a = seededValues(aRows * lda, seed: 1), b = seededValues(bRows * ldb, seed: 2)
    var fast = seededValues(m * ldc, seed: 3), slow = fast
    GEMM.multiply(transA: ta, transB: tb, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb,
                  beta: beta, c: &fast, ldc: ldc, threads: threads)
    Reference.gemm(transA: ta, transB: tb, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb,
                   beta: beta, c: &slow, ldc: ldc)
    return maxDifference(fast, slow) / Float(max(k, 1)).squareRoot()
}

@Suite struct GEMMTests {
    static let transposes: [(Transpose, Transpose)] = [(.none, .none), (.none, .transposed), (.transposed, .none), (.transposed, .transposed)]

    @Test(arguments: [(1, 1, 1), (7, 17, 65), (17, 7, 1), (65, 65, 65), (13, 33, 70), (6, 16, 256), (100, 200, 300), (73, 1537, 257)])
    func matchesReferenceOnOddSizes(size: (Int, Int, Int)) {
        for (ta, tb) in Self.transposes {
            let error = gemmDifference(ta, tb, m: size.0, n: size.1, k: size.2)
            #expect(error < 1e-5, "\(ta)\(tb) \(size): \(error)")
        }
    }

    @Test func alphaBetaAndLeadingDimensions() {
        for (ta, tb) in Self.transposes {
            #expect(gemmDifference(ta, tb, m: 31, n: 47, k: 90, alpha: 0.5, beta: 2, extraLead: 3) < 1e-5)
            #expect(gemmDifference(ta, tb, m: 3, n: 5, k: 9, alpha: -1, beta: 1, extraLead: 1) < 1e-5)
        }
    }

    @Test func betaZeroIgnoresNaNsInC() {
        var c = [Float](repeating: .nan, count: 64 * 64)
        let a = seededValues(64 * 64, seed: 5)
        GEMM.multiply(transA: .none, transB: .none, m: 64, n: 64, k: 64, a: a, lda: 64, b: a, ldb: 64, c: &c, ldc: 64)
        #expect(!c.contains { $0.isNaN })
    }

    /// Row split (150 rows), and the column split of few rows (64 rows × 1600 columns: two NC panels, three
    /// depth blocks; 10 rows: one tile-and-a-bit), each with β ≠ 0 so every depth block's accumulation counts.
    @Test(arguments: [(150, 333, 260), (64, 1600, 576), (10, 333, 600)])
    func bitwiseIdenticalAcrossThreadCounts(size: (Int, Int, Int)) {
        let (m, n, k) = size
        let a = seededValues(m * k, seed: 7), b = seededValues(k * n, seed: 8)
        let start = seededValues(m * n, seed: 9)
        var one = start, two = start, expected = start
        GEMM.multiply(transA: .none, transB: .transposed, m: m, n: n, k: k, a: a, lda: k, b: b, ldb: k, beta: 0.5, c: &one, ldc: n, threads: 1)
        GEMM.multiply(transA: .none, transB: .transposed, m: m, n: n, k: k, a: a, lda: k, b: b, ldb: k, beta: 0.5, c: &two, ldc: n, threads: 2)
        #expect(one == two)
        Reference.gemm(transA: .none, transB: .transposed, m: m, n: n, k: k, alpha: 1, a: a, lda: k, b: b, ldb: k,
                       beta: 0.5, c: &expected, ldc: n)
        #expect(zip(two, expected).allSatisfy { abs($0 - $1) < 1e-5 * Float(k).squareRoot() }, "\(size)")
    }

    @Test func batchedWithBroadcastWeight() {
        let (batch, m, n, k) = (3, 5, 7, 9)
        let a = seededValues(batch * m * k, seed: 9), w = seededValues(k * n, seed: 10)
        var c = [Float](repeating: 0, count: batch * m * n)
        GEMM.multiplyBatched(batch: batch, transA: .none, transB: .none, m: m, n: n, k: k,
                             a: a, lda: k, strideA: m * k, b: w, ldb: n, strideB: 0, c: &c, ldc: n, strideC: m * n)
        for i in 0..<batch {
            var expected = [Float](repeating: 0, count: m * n)
            a.withUnsafeBufferPointer { ap in
                Reference.gemm(transA: .none, transB: .none, m: m, n: n, k: k, alpha: 1, a: ap.baseAddress! + i * m * k,
                               lda: k, b: w, ldb: n, beta: 0, c: &expected, ldc: n)
            }
            #expect(zip(c[(i * m * n)..<((i + 1) * m * n)], expected).allSatisfy { abs($0 - $1) < 1e-5 })
        }
    }

    /// Both register tiles run on any x86-64 or arm64 machine (a SIMD16 vector is two ymm registers
    /// without AVX-512), so the tile this machine does not pick is checked against the reference too.
    @Test(arguments: [(7, 17, 65), (13, 33, 70), (73, 97, 300), (12, 64, 256)])
    func bothTilesMatchReference(size: (Int, Int, Int)) {
        let (m, n, k) = size
        for (ta, tb) in Self.transposes {
            let (aRows, aCols) = ta == .none ? (m, k) : (k, m)
            let (bRows, bCols) = tb == .none ? (k, n) : (n, k)
            let a = seededValues(aRows * aCols, seed: 11), b = seededValues(bRows * bCols, seed: 12)
            let start = seededValues(m * n, seed: 13)
            var expected = start, tile8 = start, tile16 = start
            Reference.gemm(transA: ta, transB: tb, m: m, n: n, k: k, alpha: 0.5, a: a, lda: aCols, b: b, ldb: bCols,
                           beta: 2, c: &expected, ldc: n)
            PackedGEMM<SIMD8<Float>>.multiply(transA: ta, transB: tb, m: m, n: n, k: k, alpha: 0.5, a: a, lda: aCols,
                                              b: b, ldb: bCols, beta: 2, c: &tile8, ldc: n, threads: 2)
            PackedGEMM<SIMD16<Float>>.multiply(transA: ta, transB: tb, m: m, n: n, k: k, alpha: 0.5, a: a, lda: aCols,
                                               b: b, ldb: bCols, beta: 2, c: &tile16, ldc: n, threads: 2)
            let scale = Float(k).squareRoot()
            #expect(zip(tile8, expected).allSatisfy { abs($0 - $1) < 1e-5 * scale }, "SIMD8 \(ta)\(tb) \(size)")
            #expect(zip(tile16, expected).allSatisfy { abs($0 - $1) < 1e-5 * scale }, "SIMD16 \(ta)\(tb) \(size)")
        }
    }

    /// Results depend on the depth block KC only, never on the tile shape, the schedule or the thread
    /// count: each element must equal, bit for bit, a scalar loop that fuses a[i,p]·b[p,j] into its sum
    /// in p order within each depth block and then applies α and β (β once, on the first block). The
    /// sizes cover edge tiles of both tiles, several depth blocks, the few-rows column schedule, and
    /// last slivers of one and two whole vectors (160 = 3·48 + 16, 128 = 2·48 + 32: the wide tile's strips).
    @Test(arguments: [(37, 101, 300), (10, 333, 600), (64, 150, 129), (40, 160, 300), (64, 128, 129)])
    func eachElementIsSummedInDepthBlockOrder(size: (Int, Int, Int)) {
        let (m, n, k) = size
        let a = seededValues(m * k, seed: 21), b = seededValues(n * k, seed: 22), start = seededValues(m * n, seed: 23)
        let (alpha, beta): (Float, Float) = (0.5, 2)
        func spec(depthBlock: Int) -> [Float] {
            var c = start
            for i in 0..<m {
                for j in 0..<n {
                    for pc in stride(from: 0, to: k, by: depthBlock) {
                        var sum: Float = 0
                        for p in pc..<min(k, pc + depthBlock) { sum = sum.addingProduct(a[i * k + p], b[j * k + p]) }
                        c[i * n + j] = (sum * alpha).addingProduct(c[i * n + j], pc == 0 ? beta : 1)
                    }
                }
            }
            return c
        }
        for threads in [1, 2] {
            var tile8 = start, tile16 = start
            PackedGEMM<SIMD8<Float>>.multiply(transA: .none, transB: .transposed, m: m, n: n, k: k, alpha: alpha, a: a,
                                              lda: k, b: b, ldb: k, beta: beta, c: &tile8, ldc: n, threads: threads)
            PackedGEMM<SIMD16<Float>>.multiply(transA: .none, transB: .transposed, m: m, n: n, k: k, alpha: alpha, a: a,
                                               lda: k, b: b, ldb: k, beta: beta, c: &tile16, ldc: n, threads: threads)
            #expect(tile8 == spec(depthBlock: PackedGEMM<SIMD8<Float>>.sumDepth), "SIMD8 \(size), \(threads) threads")
            #expect(tile16 == spec(depthBlock: PackedGEMM<SIMD16<Float>>.sumDepth), "SIMD16 \(size), \(threads) threads")
            // The same A stored transposed ([k, m], a weight gradient's xᵀ): packed by its own path, same bits.
            var aT = [Float](repeating: 0, count: m * k)
            for i in 0..<m { for p in 0..<k { aT[p * m + i] = a[i * k + p] } }
            var tile16T = start
            PackedGEMM<SIMD16<Float>>.multiply(transA: .transposed, transB: .transposed, m: m, n: n, k: k, alpha: alpha, a: aT,
                                               lda: m, b: b, ldb: k, beta: beta, c: &tile16T, ldc: n, threads: threads)
            #expect(tile16T == spec(depthBlock: PackedGEMM<SIMD16<Float>>.sumDepth), "SIMD16 Aᵀ \(size), \(threads) threads")
        }
    }

    /// The build uses `-march=native`, so on Linux x86-64 the tile must follow the CPU's flags:
    /// 16 floats exactly when the kernel reports AVX-512F, else 8 (AVX2).
    @Test func tileFollowsTheHostCPU() throws {
        #if os(Linux) && arch(x86_64)
        let cpuinfo = try String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)
        let flags = cpuinfo.split(separator: "\n").first { $0.hasPrefix("flags") }.map { $0.split(separator: " ") } ?? []
        #expect(GEMMTile.simdFloats == (flags.contains("avx512f") ? 16 : 8))
        #endif
        #expect(GEMMTile.usesSIMD16 == (GEMMTile.simdFloats == 16))
    }
}
