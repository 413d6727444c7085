// FoundationsTests.swift — broadcasting rules, RNG, memory meter, thread-count independence.
import Foundation
import Testing
import Kernels
@testable import Autodiff

@Suite struct ShapeTests {
    @Test func broadcastRules() {
        #expect(Shapes.broadcast([3, 4], [4]) == [3, 4])
        #expect(Shapes.broadcast([2, 1, 4], [3, 1]) == [2, 3, 4])
        #expect(Shapes.broadcast([], [2, 3]) == [2, 3])
        #expect(Shapes.broadcast([3, 4], [3]) == nil)
        #expect(Shapes.broadcast([2, 3], [3, 2]) == nil)
    }

    @Test func unbroadcastSumsByHand() {
        // [[1,2,3],[4,5,6]] reduced to [3] = column sums, to [2,1] = row sums.
        let values: [Float] = [1, 2, 3, 4, 5, 6]
        values.withUnsafeBufferPointer { p in
            #expect(Shapes.unbroadcast(p.baseAddress!, from: [2, 3], to: [3]) == [5, 7, 9])
            #expect(Shapes.unbroadcast(p.baseAddress!, from: [2, 3], to: [2, 1]) == [6, 15])
            #expect(Shapes.unbroadcast(p.baseAddress!, from: [2, 3], to: []) == [21])
        }
    }
}

@Suite struct RNGTests {
    @Test func sameSeedSameStreamDifferentSeedDifferentStream() {
        var a = RNG(seed: 42), b = RNG(seed: 42), c = RNG(seed: 43)
        let x = (0..<100).map { _ in a.next() }
        #expect(x == (0..<100).map { _ in b.next() })
        #expect(x != (0..<100).map { _ in c.next() })
    }

    @Test func distributionsHaveTheRightMoments() {
        var rng = RNG(seed: 1)
        let n = 100_000
        let uniform = (0..<n).map { _ in Double(rng.uniform()) }
        let normal = (0..<n).map { _ in Double(rng.normal()) }
        let mean = normal.reduce(0, +) / Double(n)
        let variance = normal.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(n)
        // Standard errors: uniform mean 0.0009, normal mean 0.003, variance ≈ 0.0045.
        #expect(abs(uniform.reduce(0, +) / Double(n) - 0.5) < 0.005)
        #expect(uniform.allSatisfy { $0 >= 0 && $0 < 1 })
        #expect(abs(mean) < 0.015)
        #expect(abs(variance - 1) < 0.02)
        let heads = (0..<n).filter { _ in rng.bernoulli(0.3) }.count
        #expect(abs(Double(heads) / Double(n) - 0.3) < 0.005)
    }

    @Test func permutationAndBelow() {
        var rng = RNG(seed: 5)
        let p = rng.permutation(50)
        #expect(p.sorted() == Array(0..<50))
        #expect(p != Array(0..<50))
        var counts = [Int](repeating: 0, count: 3)
        for _ in 0..<30_000 { counts[rng.below(3)] += 1 }
        #expect(counts.allSatisfy { abs($0 - 10_000) < 400 })
    }
}

@Suite struct MemoryMeterTests {
    @Test func countsBytesByRoleAndReleasesThem() {
        let meter = MemoryMeter()
        meter.install {
            let weights = Tensor(zeros: [10, 10], role: .weights)          // 400 B
            do {
                let activation = Tensor(zeros: [25])                     // 100 B (task default role)
                _ = MemoryRole.$current.withValue(.optimizerState) { Tensor(zeros: [50]) }  // 200 B, freed at once
                #expect(meter.liveBytes(.activations) == 100)
                #expect(meter.liveTotalBytes == 500)
                activation.storage.role = .gradients                     // retag moves the bytes
                #expect(meter.liveBytes(.gradients) == 100 && meter.liveBytes(.activations) == 0)
            }
            #expect(meter.liveTotalBytes == 400)
            _ = weights
        }
        #expect(meter.liveTotalBytes == 0)
        #expect(meter.peakTotal == 700)
        #expect(meter.peakBytes(.optimizerState) == 200)
        #expect(meter.peakBreakdown == [.weights: 400, .activations: 100, .optimizerState: 200])
    }

    @Test func checkpointingKeepsFewerActivations() {
        // A chain of 8 tanh layers on [64, 64]: plain keeps every layer's matmul and tanh outputs;
        // checkpointed keeps only the segment outputs.
        var rng = RNG(seed: 3)
        let weights = (0..<8).map { _ in Tensor.randomNormal([64, 64], std: 0.1, rng: &rng, requiresGrad: true, role: .weights) }
        let input = Tensor.randomNormal([64, 64], rng: &rng, requiresGrad: true, role: .weights)
        func run(checkpointed: Bool) -> Int {
            let meter = MemoryMeter()
            meter.install {
                var x = input
                for w in weights {
                    x = checkpointed ? Tensor.checkpoint([x], parameters: [w]) { Tensor.matmul($0[0], w).tanh() }
                                     : Tensor.matmul(x, w).tanh()
                }
                #expect(meter.liveBytes(.activations) == (checkpointed ? 8 : 16) * 64 * 64 * 4)
                x.sum().backward()
            }
            return meter.peakBytes(.activations)
        }
        #expect(run(checkpointed: true) < run(checkpointed: false))
    }
}

// 1-vs-2-thread determinism of a real training step (shapes large enough that the second thread is
// used) lives in Tests/NNTests/ThreadDeterminismTests.swift; kernel-level checks in KernelsTests.
