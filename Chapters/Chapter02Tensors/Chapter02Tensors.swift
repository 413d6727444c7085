// Chapter02Tensors.swift — Chapter 2: tensors, broadcasting, the tape, and a fast GEMM.
//
// The claim: the same chain rule as Chapter 1 becomes practical once values are arrays and the one
// expensive operation, matrix multiplication, runs near the machine's peak. We time a textbook
// triple loop against our packed SIMD GEMM on one and two threads, show broadcasting and the
// gradient that undoes it, print the tape of a small expression, and gradient-check it.
// Leaves out: the model (Chapter 3).
import Foundation
import Kernels
import Autodiff

/// Chapter 2 — from scalars to tensors.
public enum Chapter02Tensors {
    /// The experiment's knobs.
    public struct Config: Sendable {
        /// Square GEMM sizes to time.
        public var sizes: [Int]
        /// Timed repetitions per measurement (the median is reported).
        public var repetitions: Int

        /// The chapter as printed in the book.
        public static let standard = Config(sizes: [64, 128, 256, 512], repetitions: 5)
        /// A fast version for the smoke test.
        public static let tiny = Config(sizes: [17, 48], repetitions: 1)
    }

    /// One row of the GEMM table.
    public struct GEMMTiming: Sendable {
        public var size: Int
        /// GFLOP/s of the naive loop, the packed kernel on 1 thread, and on all threads.
        public var naive: Double, oneThread: Double, allThreads: Double
        /// Largest |packed − naive| element difference.
        public var maxDifference: Float
    }

    /// The chapter's numbers.
    public struct Report: Sendable {
        public var timings: [GEMMTiming]
        /// The ops recorded on the tape for the example, in backward order.
        public var tape: [String]
        /// Worst ratio of the gradient check (≤ 1 passes).
        public var gradientCheckRatio: Double
        /// The gradient of the broadcast operand in the broadcasting example.
        public var broadcastGradient: [Float]
    }

    /// Runs the chapter, printing through `output`.
    @discardableResult
    public static func run(_ config: Config, output: (String) -> Void = { print($0) }) -> Report {
        output("Chapter 2 — Tensors and kernels\n")

        // 1. GEMM: same arithmetic, very different speed.
        output("C = A·B for n×n matrices (GFLOP/s, median of \(config.repetitions)):")
        output("    n   naive loop   packed 1 thread   packed \(Parallelism.threads) threads")
        var timings: [GEMMTiming] = []
        for n in config.sizes {
            var rng = RNG(seed: UInt64(n))
            let a = (0..<(n * n)).map { _ in rng.normal() }, b = (0..<(n * n)).map { _ in rng.normal() }
            var slow = [Float](repeating: 0, count: n * n), fast = slow
            let flops = 2 * Double(n * n * n)
            let naive = flops / seconds(config.repetitions) {
                Reference.gemm(transA: .none, transB: .none, m: n, n: n, k: n, alpha: 1, a: a, lda: n, b: b, ldb: n,
                               beta: 0, c: &slow, ldc: n)
            } / 1e9
            let single = flops / seconds(config.repetitions) {
                GEMM.multiply(transA: .none, transB: .none, m: n, n: n, k: n, a: a, lda: n, b: b, ldb: n, c: &fast, ldc: n, threads: 1)
            } / 1e9
            let threaded = flops / seconds(config.repetitions) {
                GEMM.multiply(transA: .none, transB: .none, m: n, n: n, k: n, a: a, lda: n, b: b, ldb: n, c: &fast, ldc: n)
            } / 1e9
            let difference = zip(slow, fast).map { abs($0 - $1) }.max() ?? 0
            timings.append(GEMMTiming(size: n, naive: naive, oneThread: single, allThreads: threaded, maxDifference: difference))
            output(String(format: "%5d   %10.2f   %15.1f   %15.1f     (max |Δ| %.1e)", n, naive, single, threaded, difference))
        }
        output("The packed kernel keeps a 6×16 tile of C in registers and streams packed panels of A and B (Kernels/GEMM+Packed.swift).\n")

        // 2. Broadcasting and its gradient.
        let x = Tensor([1, 2, 3, 4, 5, 6], shape: [2, 3])
        let bias = Tensor([10, 20, 30], shape: [3], requiresGrad: true)
        let shifted = x + bias
        output("Broadcasting: x [2, 3] + bias [3] → \(shifted.values) (bias reused for each row)")
        shifted.sum().backward()
        output("so ∂sum/∂bias = \(bias.grad!.values): the gradient is summed over the rows it was copied to.\n")

        // 3. The tape of a small expression.
        var rng = RNG(seed: 1)
        let w = Tensor.randomNormal([3, 4], std: 0.5, rng: &rng, requiresGrad: true)
        let input = Tensor.randomNormal([2, 3], rng: &rng, requiresGrad: true)
        func expression(_ t: [Tensor]) -> Tensor { Tensor.matmul(t[0], t[1]).tanh().softmax() }
        let y = expression([input, w])
        let tape = y.recordedOps.map(\.rawValue)
        output("The tape for softmax(tanh(x·W)), in the order backward runs: \(tape.joined(separator: " → "))")
        let check = GradientCheck.check([input, w], expression)
        output("Gradient check of it: \(check)")
        return Report(timings: timings, tape: tape, gradientCheckRatio: check.worstRatio, broadcastGradient: bias.grad!.values)
    }

    /// Median seconds of `repetitions` runs.
    static func seconds(_ repetitions: Int, _ body: () -> Void) -> Double {
        var times: [Double] = []
        for _ in 0..<max(repetitions, 1) {
            let start = DispatchTime.now().uptimeNanoseconds
            body()
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        return times.sorted()[times.count / 2]
    }
}
