// FusedKernelTests.swift — fused attention, fused cross-entropy, vectorised row reductions and the
// threaded row kernels, against plain Double math, and bitwise at 1 vs 2 threads (with proof that the
// second thread ran).
import Foundation
import Testing
@testable import Kernels

/// Runs `body` at `threads` threads, counting the kernel calls that really split their work.
func withThreads<R>(_ threads: Int, _ body: () -> R) -> (result: R, splits: Int) {
    let counter = SplitCounter()
    let result = Parallelism.$splitCounter.withValue(counter) { Parallelism.$threads.withValue(threads, operation: body) }
    return (result, counter.count)
}

@Suite struct FusedKernelTests {
    @Test(arguments: [1, 7, 8, 33])
    func rowMathMatchesDouble(count: Int) {
        let x = seededValues(count, seed: 21), y = seededValues(count, seed: 22)
        let (dx, dy) = (x.map(Double.init), y.map(Double.init))
        #expect(abs(Double(RowMath.sum(x, count)) - dx.reduce(0, +)) < 1e-5)
        #expect(RowMath.max(x, count) == x.max()!)
        #expect(abs(Double(RowMath.dot(x, y, count)) - zip(dx, dy).map(*).reduce(0, +)) < 1e-5)
        #expect(abs(Double(RowMath.squaredDeviations(x, count, from: 0.25)) - dx.map { ($0 - 0.25) * ($0 - 0.25) }.reduce(0, +)) < 1e-5)
    }

    /// Attention in Double for one head: returns out [T, D] and, for L = Σ dOut ⊙ out, dq, dk, dv.
    func attentionInDouble(q: [Double], k: [Double], v: [Double], dOut: [Double], t: Int, s: Int, d: Int)
        -> (out: [Double], dq: [Double], dk: [Double], dv: [Double]) {
        let scale = 1 / Double(d).squareRoot()
        var out = [Double](repeating: 0, count: t * d), dq = out
        var dk = [Double](repeating: 0, count: s * d), dv = dk
        for i in 0..<t {
            let seen = s - t + i + 1
            let scores = (0..<seen).map { j in (0..<d).reduce(0.0) { $0 + q[i * d + $1] * k[j * d + $1] } * scale }
            let m = scores.max()!, e = scores.map { Foundation.exp($0 - m) }, z = e.reduce(0, +)
            let p = e.map { $0 / z }
            for c in 0..<d { out[i * d + c] = (0..<seen).reduce(0.0) { $0 + p[$1] * v[$1 * d + c] } }
            // dP_j = dOut_i · v_j; dS_j = p_j (dP_j − Σ p dP); then through the scaled dot products.
            let dP = (0..<seen).map { j in (0..<d).reduce(0.0) { $0 + dOut[i * d + $1] * v[j * d + $1] } }
            let dot = zip(p, dP).map(*).reduce(0, +)
            for j in 0..<seen {
                let dS = p[j] * (dP[j] - dot) * scale
                for c in 0..<d {
                    dv[j * d + c] += p[j] * dOut[i * d + c]
                    dq[i * d + c] += dS * k[j * d + c]
                    dk[j * d + c] += dS * q[i * d + c]
                }
            }
        }
        return (out, dq, dk, dv)
    }

    @Test(arguments: [(70, 70), (70, 75), (5, 5)])
    func attentionMatchesDoubleAndIsThreadIndependent(size: (Int, Int)) {
        let (heads, t, s, d) = (3, size.0, size.1, 16)
        let q = seededValues(heads * t * d, seed: 31), k = seededValues(heads * s * d, seed: 32)
        let v = seededValues(heads * s * d, seed: 33), dOut = seededValues(heads * t * d, seed: 34)
        func run() -> [[Float]] {
            var out = [Float](repeating: 0, count: heads * t * d), p = [Float](repeating: .nan, count: heads * t * s)
            var dq = [Float](repeating: 0, count: heads * t * d), dk = [Float](repeating: 0, count: heads * s * d), dv = dk
            CausalAttention.forward(q: q, k: k, v: v, out: &out, probabilities: &p, heads: heads, queries: t, keys: s, width: d,
                                    scale: 1 / Float(d).squareRoot())
            CausalAttention.backward(q: q, k: k, v: v, probabilities: p, dOut: dOut, dq: &dq, dk: &dk, dv: &dv,
                                     heads: heads, queries: t, keys: s, width: d, scale: 1 / Float(d).squareRoot())
            return [out, dq, dk, dv]
        }
        let one = withThreads(1, run), two = withThreads(2, run)
        #expect(one.result == two.result)
        if t == 70 { #expect(two.splits > 0, "the two-thread run must really split the heads") }
        for h in 0..<heads {
            func slice(_ x: [Float], _ n: Int) -> [Double] { x[(h * n)..<((h + 1) * n)].map(Double.init) }
            let expected = attentionInDouble(q: slice(q, t * d), k: slice(k, s * d), v: slice(v, s * d), dOut: slice(dOut, t * d),
                                             t: t, s: s, d: d)
            for (got, want) in zip(one.result, [expected.out, expected.dq, expected.dk, expected.dv]) {
                let n = want.count
                let worst = zip(got[(h * n)..<((h + 1) * n)], want).map { abs(Double($0) - $1) }.max()!
                #expect(worst < 1e-5, "head \(h): \(worst)")
            }
        }
    }

    @Test func crossEntropyAtALargeVocabularyMatchesDouble() {
        // 49,152 columns (the real model's vocabulary), 3 rows, one of them ignored (weight 0).
        let (rows, cols) = (3, 49_152)
        let logits = seededValues(rows * cols, seed: 41).map { $0 * 8 }
        let targets: [Int32] = [7, 49_151, 123], weights: [Float] = [1, 0, 2]
        var lse = [Float](repeating: 0, count: rows), losses = lse
        var grad = [Float](repeating: 0, count: rows * cols)
        let splits = withThreads(2) {
            CrossEntropy.forward(logits: logits, targets: targets, weights: weights, logSumExp: &lse, losses: &losses, rows: rows, cols: cols)
            CrossEntropy.backward(logits: logits, targets: targets, factors: weights, logSumExp: lse, dlogits: &grad, rows: rows, cols: cols)
        }.splits
        #expect(splits == 0, "3 rows are one block: a single thread")
        for r in 0..<rows {
            let row = logits[(r * cols)..<((r + 1) * cols)].map(Double.init)
            let m = row.max()!, z = row.map { Foundation.exp($0 - m) }.reduce(0, +)
            let expectedLSE = m + Foundation.log(z)
            if weights[r] == 0 {
                #expect(losses[r] == 0 && grad[(r * cols)..<((r + 1) * cols)].allSatisfy { $0 == 0 })
                continue
            }
            #expect(abs(Double(losses[r]) - (expectedLSE - row[Int(targets[r])])) < 1e-4)
            var worst = 0.0
            for c in 0..<cols {
                let expected = Double(weights[r]) * (Foundation.exp(row[c] - expectedLSE) - (c == Int(targets[r]) ? 1 : 0))
                worst = max(worst, abs(Double(grad[r * cols + c]) - expected))
            }
            #expect(worst < 1e-6, "row \(r): \(worst)")
        }
    }

    @Test func threadedNormsAndSoftmaxAreBitwiseIdenticalAndMatchSerialSums() {
        let (rows, cols) = (600, 128)
        let x = seededValues(rows * cols, seed: 51), dy = seededValues(rows * cols, seed: 52), gamma = seededValues(cols, seed: 53)
        func run() -> [[Float]] {
            var y = [Float](repeating: 0, count: rows * cols), mean = [Float](repeating: 0, count: rows), rstd = mean
            Norms.layerNormForward(x, gamma: gamma, beta: gamma, &y, mean: &mean, rstd: &rstd, rows: rows, cols: cols, eps: 1e-5)
            var dx = [Float](repeating: 0, count: rows * cols), dgamma = [Float](repeating: 0, count: cols), dbeta = dgamma
            Norms.layerNormBackward(dy: dy, x: x, mean: mean, rstd: rstd, gamma: gamma, dx: &dx, dgamma: &dgamma, dbeta: &dbeta,
                                    rows: rows, cols: cols)
            var s = [Float](repeating: 0, count: rows * cols)
            Softmax.forward(x, &s, rows: rows, cols: cols)
            return [y, dx, dgamma, dbeta, s, mean]
        }
        let one = withThreads(1, run), two = withThreads(2, run)
        #expect(two.splits >= 3, "layer norm forward, backward and softmax must each use the second thread")
        #expect(one.splits == 0)
        #expect(one.result == two.result)
        // dβ = Σ_rows dy and dγ = Σ_rows dy ⊙ x̂, in Double.
        let mean = one.result[5]
        for c in [0, 63, 127] {
            let dbeta = (0..<rows).reduce(0.0) { $0 + Double(dy[$1 * cols + c]) }
            #expect(abs(Double(one.result[3][c]) - dbeta) < 1e-3)
            let dgamma = (0..<rows).reduce(0.0) { total, r in
                let row = x[(r * cols)..<((r + 1) * cols)].map(Double.init)
                let variance = row.map { ($0 - Double(mean[r])) * ($0 - Double(mean[r])) }.reduce(0, +) / Double(cols)
                return total + Double(dy[r * cols + c]) * (row[c] - Double(mean[r])) / (variance + 1e-5).squareRoot()
            }
            #expect(abs(Double(one.result[2][c]) - dgamma) < 1e-3)
        }
    }
}
