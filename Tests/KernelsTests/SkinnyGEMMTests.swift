// SkinnyGEMMTests.swift — the few-rows path of GEMM (generation's decode step) against the reference.
import Testing
@testable import Kernels

@Suite struct SkinnyGEMMTests {
    // m ≤ 4 with B transposed takes the skinny path once m·n·k ≥ 4096 (smaller goes to SmallGEMM).
    @Test(arguments: [(1, 576, 576), (1, 1537, 70), (2, 300, 33), (3, 129, 257), (4, 64, 1000)])
    func matchesTheReference(size: (Int, Int, Int)) {
        for threads in [1, 2] {
            for (alpha, beta) in [(Float(1), Float(0)), (0.5, 2)] {
                let error = gemmDifference(.none, .transposed, m: size.0, n: size.1, k: size.2, alpha: alpha, beta: beta,
                                           extraLead: 3, threads: threads)
                #expect(error < 1e-5, "\(size) threads \(threads) α \(alpha) β \(beta): \(error)")
            }
        }
    }

    @Test func splitsColumnsEvenlyWhenTheyDoNotDivide() {
        // 1537 columns over 2 threads: chunks of 769 and 768; every column written exactly once.
        let error = gemmDifference(.none, .transposed, m: 1, n: 1537, k: 4096, threads: 2)
        #expect(error < 1e-5)
    }

    /// A decode step's projection (1 × 576 · 576²ᵀ, 1.3 MB of W: enough for GEMM to hand the skinny path
    /// two threads) gives the same bits on 1 and 2 threads: each column is one thread's dot product.
    @Test func aDecodeProjectionIsBitwiseIdenticalOnOneAndTwoThreads() {
        let (n, k) = (576, 576)
        let a = seededValues(k, seed: 31), b = seededValues(n * k, seed: 32)
        var one = [Float](repeating: 0, count: n), two = one
        GEMM.multiply(transA: .none, transB: .transposed, m: 1, n: n, k: k, a: a, lda: k, b: b, ldb: k, c: &one, ldc: n, threads: 1)
        GEMM.multiply(transA: .none, transB: .transposed, m: 1, n: n, k: k, a: a, lda: k, b: b, ldb: k, c: &two, ldc: n, threads: 2)
        #expect(one == two)
        #expect(gemmDifference(.none, .transposed, m: 1, n: n, k: k, threads: 2) < 1e-5)
    }
}
