// OpCatalogue.swift — one catalogue of op cases drives both the forward tests and the gradient checks
// (minitorch style). Every `Op` must appear here: a coverage test fails otherwise.
import Foundation
import Kernels
@testable import Autodiff

/// How to draw an input's values.
enum InputKind { case normal, positive, awayFromZero, distinct }

/// One test case of one op.
struct OpCase: CustomStringConvertible, Sendable {
    let op: Op
    let name: String
    let shapes: [[Int]]
    let kinds: [InputKind]
    /// The op under test, on tensors.
    let function: @Sendable ([Tensor]) -> Tensor
    /// An independent Double implementation: flat inputs → flat output.
    let reference: @Sendable ([[Double]]) -> [Double]

    init(_ op: Op, _ name: String, _ shapes: [[Int]], _ kinds: [InputKind]? = nil,
         _ function: @escaping @Sendable ([Tensor]) -> Tensor, reference: @escaping @Sendable ([[Double]]) -> [Double]) {
        self.op = op
        self.name = name
        self.shapes = shapes
        self.kinds = kinds ?? shapes.map { _ in .normal }
        self.function = function
        self.reference = reference
    }

    var description: String { "\(op.rawValue): \(name)" }

    /// Seeded inputs of the case's shapes, as leaves that require gradients.
    func inputs(seed: UInt64 = 1) -> [Tensor] {
        var rng = RNG(seed: seed)
        return zip(shapes, kinds).map { shape, kind in
            let count = shape.reduce(1, *)
            var values: [Float] = (0..<count).map { index in
                switch kind {
                case .normal: return rng.normal()
                case .positive: return rng.uniform(0.5, 2)
                case .awayFromZero: let v = rng.uniform(0.2, 1.5); return rng.bernoulli(0.5) ? v : -v
                case .distinct: return Float(index) * 0.37 - Float(count) * 0.2   // gaps ≫ the check's step
                }
            }
            if kind == .distinct { values = rng.permutation(count).map { values[$0] } }
            return Tensor(values, shape: shape, requiresGrad: true)
        }
    }
}

// MARK: - Independent Double helpers

/// Row-major index of `index` in `shape`, reading a broadcast operand of shape `operand`.
func broadcastOffset(_ index: [Int], in shape: [Int], operand: [Int]) -> Int {
    let offset = shape.count - operand.count
    var flat = 0
    for axis in 0..<operand.count {
        let i = operand[axis] == 1 ? 0 : index[axis + offset]
        flat = flat * operand[axis] + i
    }
    return flat
}

/// All multi-indices of `shape` in row-major order.
func multiIndices(_ shape: [Int]) -> [[Int]] {
    var result: [[Int]] = [[]]
    for extent in shape { result = result.flatMap { prefix in (0..<extent).map { prefix + [$0] } } }
    return result
}

/// f applied over the broadcast of two operands (shapes given), in Double.
func referenceBroadcast(_ a: [Double], _ aShape: [Int], _ b: [Double], _ bShape: [Int], _ outShape: [Int],
                        _ f: (Double, Double) -> Double) -> [Double] {
    multiIndices(outShape).map { index in
        f(a[broadcastOffset(index, in: outShape, operand: aShape)], b[broadcastOffset(index, in: outShape, operand: bShape)])
    }
}

/// C = op(A)·op(B) for one matrix pair in Double.
func referenceMatmul(_ a: ArraySlice<Double>, _ aRows: Int, _ aCols: Int, transA: Bool,
                     _ b: ArraySlice<Double>, _ bRows: Int, _ bCols: Int, transB: Bool) -> [Double] {
    let (a, b) = (Array(a), Array(b))
    let m = transA ? aCols : aRows, k = transA ? aRows : aCols, n = transB ? bRows : bCols
    var c = [Double](repeating: 0, count: m * n)
    for i in 0..<m { for j in 0..<n { for p in 0..<k {
        c[i * n + j] += (transA ? a[p * aCols + i] : a[i * aCols + p]) * (transB ? b[j * bCols + p] : b[p * bCols + j])
    } } }
    return c
}

/// Per-row map over the last axis.
func rows(_ x: [Double], width: Int, _ f: ([Double]) -> [Double]) -> [Double] {
    stride(from: 0, to: x.count, by: width).flatMap { f(Array(x[$0..<($0 + width)])) }
}

func softmaxRow(_ r: [Double]) -> [Double] {
    let m = r.max()!
    let e = r.map { Foundation.exp($0 - m) }
    let s = e.reduce(0, +)
    return e.map { $0 / s }
}

func geluErf(_ x: Double) -> Double { 0.5 * x * (1 + erf(x / 2.0.squareRoot())) }
func geluTanh(_ x: Double) -> Double { 0.5 * x * (1 + Foundation.tanh((2 / Double.pi).squareRoot() * (x + 0.044715 * x * x * x))) }

/// Causal attention per head in Double: query i of T sees keys 0 ..< (S − T) + i + 1.
/// x = [q [heads·T·D], k [heads·S·D], v [heads·S·D]] → [heads·T·D].
func attentionReference(_ x: [[Double]], heads: Int, t: Int, s: Int, d: Int) -> [Double] {
    let (q, k, v) = (x[0], x[1], x[2])
    var out = [Double](repeating: 0, count: heads * t * d)
    for h in 0..<heads {
        for i in 0..<t {
            let seen = s - t + i + 1
            let scores = (0..<seen).map { j in
                (0..<d).reduce(0.0) { $0 + q[(h * t + i) * d + $1] * k[(h * s + j) * d + $1] } / Double(d).squareRoot()
            }
            let p = softmaxRow(scores)
            for c in 0..<d { out[(h * t + i) * d + c] = (0..<seen).reduce(0.0) { $0 + p[$1] * v[(h * s + $1) * d + c] } }
        }
    }
    return out
}
