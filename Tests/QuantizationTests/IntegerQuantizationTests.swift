// IntegerQuantizationTests.swift — absmax and zero-point codes worked by hand, granularity, and the
// LLM.int8 outlier decomposition.
import Foundation
import Testing
import Kernels
import Autodiff
@testable import Quantization

@Suite struct IntegerQuantizationTests {
    @Test func absmaxInt8CodesWorkedByHand() throws {
        // s = 4/127; x/s = 31.75, −63.5, 15.875, 127 → 32, −64 (half to even), 16, 127.
        let q = try PostTrainingQuantization.quantize([1, -2, 0.5, 4], rows: 1, columns: 4, bits: 8)
        #expect(q.codes == [32, -64, 16, 127])
        #expect(q.scales == [Float(4) / 127])
        #expect(q.dequantized() == [32 * (Float(4) / 127), -64 * (Float(4) / 127), 16 * (Float(4) / 127), 4])
    }

    @Test func absmaxInt4UsesSevenLevelsEachSide() throws {
        // s = 3.5/7 = 0.5; codes round(x/0.5): 1.2/0.5 = 2.4 → 2, −0.75/0.5 = −1.5 → −2 (even), 3.5 → 7.
        let q = try PostTrainingQuantization.quantize([1.2, -0.75, 3.5, 0], rows: 2, columns: 2, bits: 4)
        #expect(q.codes == [2, -2, 7, 0])
        #expect(q.storageBytes == 2 + 4)      // four 4-bit codes, one fp32 scale
    }

    @Test func zeroPointUint8WorkedByHand() throws {
        // low −1, high 3: s = 4/255, z = round(63.75) = 64; −1 → −64 + 64 = 0, 0 → 64, 3 → 191 + 64 = 255.
        let q = try PostTrainingQuantization.quantize([-1, 0, 3], rows: 1, columns: 3, bits: 8, scheme: .zeroPoint)
        #expect(q.codes == [0, 64, 255] && q.zeroPoints == [64])
        #expect(q.dequantized()[1] == 0)      // zero is exact
    }

    @Test func finerGroupsFollowRowsOfDifferentScale() throws {
        // Row r has scale 10^(−r): one tensor-wide scale wastes the small rows' codes.
        var rng = RNG(seed: 3)
        let values: [Float] = (0..<4 * 64).map { i in rng.normal() * pow(10, -Float(i / 64)) }
        // The relative error of the smallest row (scale 10⁻³).
        func error(_ g: Granularity) throws -> Double {
            let q = try PostTrainingQuantization.quantize(values, rows: 4, columns: 64, bits: 4, granularity: g)
            return QuantizationErrorMetrics(original: Array(values[192...]), approximation: Array(q.dequantized()[192...])).relativeRMSError
        }
        #expect(try error(.tensor) == 1)        // every value of the small row rounds to 0
        #expect(try error(.channel) < 0.3)
    }

    @Test func invalidRequestsThrowNamingTheProblem() {
        #expect(throws: QuantizationError("integer quantization: 1 bits is outside 2…16")) {
            try PostTrainingQuantization.quantize([1], rows: 1, columns: 1, bits: 1)
        }
        #expect(throws: QuantizationError("integer quantization: blocks of 5 does not divide 8 values")) {
            try PostTrainingQuantization.quantize([Float](repeating: 1, count: 8), rows: 2, columns: 4, bits: 8, granularity: .block(5))
        }
    }

    @Test func metricsAreComputedFromTheDefinitions() {
        let m = QuantizationErrorMetrics(original: [1, -2, 2], approximation: [1.5, -2, 1])
        #expect(abs(m.meanSquaredError - (0.25 + 0 + 1) / 3) < 1e-12)
        #expect(m.maxError == 1)
        #expect(abs(m.relativeRMSError - (1.25 / 9).squareRoot()) < 1e-12)
    }
}

@Suite struct Int8OutlierTests {
    /// X [m, k] with normal values and two outlier feature columns of magnitude ~40; W [n, k] normal.
    func operands() -> (x: [Float], w: [Float], m: Int, n: Int, k: Int) {
        let (m, n, k) = (16, 24, 64)
        var rng = RNG(seed: 11)
        var x = (0..<m * k).map { _ in rng.normal() }
        for i in 0..<m { x[i * k + 5] = 40 + rng.normal(); x[i * k + 40] = -35 + rng.normal() }
        let w = (0..<n * k).map { _ in rng.normal() * 0.1 }
        return (x, w, m, n, k)
    }

    @Test func decompositionFindsTheOutlierColumnsAndCutsTheError() {
        let (x, w, m, n, k) = operands()
        let exact: [Float] = (0..<m * n).map { index in
            let (i, j) = (index / n, index % n)
            return Float((0..<k).reduce(0.0) { $0 + Double(x[i * k + $1]) * Double(w[j * k + $1]) })
        }
        let plain = Int8Matmul.multiply(x, rows: m, w, outputs: n, inner: k, threshold: nil)
        let mixed = Int8Matmul.multiply(x, rows: m, w, outputs: n, inner: k, threshold: 6)
        #expect(plain.outlierColumns.isEmpty && mixed.outlierColumns == [5, 40])
        let plainError = QuantizationErrorMetrics(original: exact, approximation: plain.y).meanSquaredError
        let mixedError = QuantizationErrorMetrics(original: exact, approximation: mixed.y).meanSquaredError
        #expect(mixedError * 10 < plainError, "MSE int8 \(plainError), with outliers in fp16 \(mixedError)")
    }
}
