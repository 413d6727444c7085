// RowKernelTests.swift — softmax, norms, reductions and elementwise kernels against plain Double math.
import Foundation
import Testing
@testable import Kernels

@Suite struct RowKernelTests {
    @Test(arguments: [1, 7, 17, 65])
    func softmaxRowsMatchDouble(cols: Int) {
        let rows = 3
        let x = seededValues(rows * cols, seed: UInt64(cols)).map { $0 * 10 }
        var y = [Float](repeating: 0, count: rows * cols), logY = y
        Softmax.forward(x, &y, rows: rows, cols: cols)
        Softmax.logForward(x, &logY, rows: rows, cols: cols)
        for r in 0..<rows {
            let row = x[(r * cols)..<(r * cols + cols)].map(Double.init)
            let m = row.max()!
            let z = row.map { Foundation.exp($0 - m) }.reduce(0, +)
            for c in 0..<cols {
                let expected = Foundation.exp(row[c] - m) / z
                #expect(abs(Double(y[r * cols + c]) - expected) < 1e-6)
                #expect(abs(Double(logY[r * cols + c]) - Foundation.log(expected)) < 1e-5)
            }
        }
    }

    @Test func layerNormBackwardMatchesCentralDifferencesInDouble() {
        let (rows, cols) = (2, 7)
        let x = seededValues(rows * cols, seed: 3), gamma = seededValues(cols, seed: 4), dy = seededValues(rows * cols, seed: 5)
        var y = [Float](repeating: 0, count: rows * cols), mean = [Float](repeating: 0, count: rows), rstd = mean
        Norms.layerNormForward(x, gamma: gamma, beta: nil, &y, mean: &mean, rstd: &rstd, rows: rows, cols: cols, eps: 1e-5)
        var dx = [Float](repeating: 0, count: rows * cols)
        Norms.layerNormBackward(dy: dy, x: x, mean: mean, rstd: rstd, gamma: gamma, dx: &dx, dgamma: nil, dbeta: nil, rows: rows, cols: cols)
        // L(x) = Σ dy ⊙ layerNorm(x), in Double; dL/dx by central differences.
        func loss(_ v: [Double]) -> Double {
            var total = 0.0
            for r in 0..<rows {
                let row = Array(v[(r * cols)..<(r * cols + cols)])
                let mu = row.reduce(0, +) / Double(cols)
                let variance = row.map { ($0 - mu) * ($0 - mu) }.reduce(0, +) / Double(cols)
                for c in 0..<cols { total += Double(dy[r * cols + c]) * (row[c] - mu) / (variance + 1e-5).squareRoot() * Double(gamma[c]) }
            }
            return total
        }
        let base = x.map(Double.init)
        for i in 0..<base.count {
            var plus = base, minus = base
            plus[i] += 1e-6
            minus[i] -= 1e-6
            let numeric = (loss(plus) - loss(minus)) / 2e-6
            #expect(abs(Double(dx[i]) - numeric) < 1e-4, "dx[\(i)]: \(dx[i]) vs \(numeric)")
        }
    }

    @Test func rmsNormForwardByHand() {
        // Row [3, 4]: rms = √((9 + 16)/2) = √12.5; γ = [1, 2].
        var y: [Float] = [0, 0], rstd: [Float] = [0]
        Norms.rmsNormForward([3, 4], gamma: [1, 2], &y, rstd: &rstd, rows: 1, cols: 2, eps: 0)
        #expect(abs(y[0] - 3 / Float(12.5).squareRoot()) < 1e-6)
        #expect(abs(y[1] - 8 / Float(12.5).squareRoot()) < 1e-6)
    }

    @Test func reductionsByHand() {
        let x: [Float] = [1, 5, 2, 8, 3, 0]          // [outer 1, n 3, inner 2]
        var sum: [Float] = [0, 0], maxima: [Float] = [0, 0], argmax: [Int32] = [0, 0]
        Reduce.sum(x, outer: 1, n: 3, inner: 2, out: &sum)
        Reduce.max(x, outer: 1, n: 3, inner: 2, out: &maxima, argmax: &argmax)
        #expect(sum == [6, 13])
        #expect(maxima == [3, 8] && argmax == [2, 1])
    }

    @Test func broadcastingBinaryByHand() {
        let a: [Float] = [1, 2, 3, 4, 5, 6]      // [2, 3]
        let b: [Float] = [10, 20, 30]            // [3], broadcast over rows
        var out = [Float](repeating: 0, count: 6)
        Elementwise.binary(.add, a: a, aStrides: [3, 1], b: b, bStrides: [0, 1], out: &out, shape: [2, 3])
        #expect(out == [11, 22, 33, 14, 25, 36])
        Elementwise.binary(.mul, a: a, aStrides: [3, 1], b: [2, 3], bStrides: [1, 0], out: &out, shape: [2, 3])
        #expect(out == [2, 4, 6, 12, 15, 18])
        // A transposed read (strides [1, 3]) of a [3, 2] view.
        Elementwise.binary(.sub, a: a, aStrides: [1, 2], b: [0], bStrides: [0, 0], out: &out, shape: [2, 3])
        #expect(out == [1, 3, 5, 2, 4, 6])
    }

    @Test func fastExpAndTanhAreAccurate() {
        for x in stride(from: Float(-80), through: 80, by: 0.173) {
            let exact = Foundation.exp(Double(x))
            #expect(abs(Double(FastMath.exp(x)) - exact) / exact < 3e-7, "exp(\(x))")
            #expect(abs(Double(FastMath.tanh(x / 8)) - Foundation.tanh(Double(x / 8))) < 2e-7, "tanh(\(x / 8))")
        }
        #expect(FastMath.exp(-.infinity) == 0)
        #expect(FastMath.exp(100) == .infinity)
    }
}
