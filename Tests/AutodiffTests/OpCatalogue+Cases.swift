// OpCatalogue+Cases.swift — the cases: every op, several shapes, broadcasting included.
import Foundation
import Kernels
@testable import Autodiff
import TestSupport

extension OpCase {
    /// A binary broadcasting case.
    static func binary(_ op: Op, _ a: [Int], _ b: [Int], _ out: [Int], kinds: [InputKind]? = nil,
                       _ function: @escaping @Sendable (Tensor, Tensor) -> Tensor,
                       _ f: @escaping @Sendable (Double, Double) -> Double) -> OpCase {
        OpCase(op, "\(a) ∘ \(b)", [a, b], kinds, { function($0[0], $0[1]) },
               reference: { referenceBroadcast($0[0], a, $0[1], b, out, f) })
    }

    /// A pointwise case.
    static func unary(_ op: Op, _ shape: [Int], kind: InputKind = .normal, _ function: @escaping @Sendable (Tensor) -> Tensor,
                      _ f: @escaping @Sendable (Double) -> Double) -> OpCase {
        OpCase(op, "\(shape)", [shape], [kind], { function($0[0]) }, reference: { $0[0].map(f) })
    }

    static let catalogue: [OpCase] = arithmetic + linearAlgebra + movement + reductions + activations + attention
        + normalisation

    static let arithmetic: [OpCase] = [
        binary(.add, [3, 4], [3, 4], [3, 4], { $0 + $1 }, +),
        binary(.add, [3, 4], [4], [3, 4], { $0 + $1 }, +),
        binary(.add, [2, 1, 4], [3, 1], [2, 3, 4], { $0 + $1 }, +),
        binary(.add, [], [2, 3], [2, 3], { $0 + $1 }, +),
        binary(.sub, [3, 4], [4], [3, 4], { $0 - $1 }, -),
        binary(.sub, [2, 3], [2, 1], [2, 3], { $0 - $1 }, -),
        binary(.mul, [3, 4], [3, 4], [3, 4], { $0 * $1 }, *),
        binary(.mul, [2, 1, 4], [3, 1], [2, 3, 4], { $0 * $1 }, *),
        binary(.div, [3, 4], [4], [3, 4], kinds: [.normal, .positive], { $0 / $1 }, /),
        binary(.div, [2, 1], [2, 3], [2, 3], kinds: [.normal, .awayFromZero], { $0 / $1 }, /),
        unary(.neg, [5], { -$0 }, { -$0 }),
        unary(.addScalar, [2, 3], { $0 + 1.5 }, { $0 + 1.5 }),
        unary(.mulScalar, [2, 3], { $0 * -2 }, { $0 * -2 }),
        unary(.powScalar, [2, 3], kind: .positive, { $0.pow(1.7) }, { Foundation.pow($0, 1.7) }),
        unary(.powScalar, [4], { $0.pow(2) }, { $0 * $0 }),
    ]

    static let linearAlgebra: [OpCase] = [
        OpCase(.matmul, "[3,4]·[4,5]", [[3, 4], [4, 5]], nil, { Tensor.matmul($0[0], $0[1]) },
               reference: { referenceMatmul($0[0][...], 3, 4, transA: false, $0[1][...], 4, 5, transB: false) }),
        OpCase(.matmul, "[2,3,4]·[5,4]ᵀ shared weight", [[2, 3, 4], [5, 4]], nil, { Tensor.matmul($0[0], $0[1], transposeB: true) },
               reference: { referenceMatmul($0[0][...], 6, 4, transA: false, $0[1][...], 5, 4, transB: true) }),
        OpCase(.matmul, "[2,3,4]·[2,4,5] batched", [[2, 3, 4], [2, 4, 5]], nil, { Tensor.matmul($0[0], $0[1]) },
               reference: { (x: [[Double]]) -> [Double] in (0..<2).flatMap { (i: Int) -> [Double] in referenceMatmul(x[0][(i * 12)..<(i * 12 + 12)], 3, 4, transA: false,
                                                                        x[1][(i * 20)..<(i * 20 + 20)], 4, 5, transB: false) } }),
        OpCase(.matmul, "[2,4,3]ᵀ·[2,4,5] batched", [[2, 4, 3], [2, 4, 5]], nil, { Tensor.matmul($0[0], $0[1], transposeA: true) },
               reference: { (x: [[Double]]) -> [Double] in (0..<2).flatMap { (i: Int) -> [Double] in referenceMatmul(x[0][(i * 12)..<(i * 12 + 12)], 4, 3, transA: true,
                                                                        x[1][(i * 20)..<(i * 20 + 20)], 4, 5, transB: false) } }),
        OpCase(.matmul, "[2,3,4]·[2,5,4]ᵀ batched", [[2, 3, 4], [2, 5, 4]], nil, { Tensor.matmul($0[0], $0[1], transposeB: true) },
               reference: { (x: [[Double]]) -> [Double] in (0..<2).flatMap { (i: Int) -> [Double] in referenceMatmul(x[0][(i * 12)..<(i * 12 + 12)], 3, 4, transA: false,
                                                                        x[1][(i * 20)..<(i * 20 + 20)], 5, 4, transB: true) } }),
        OpCase(.matmul, "[4,3]ᵀ·[4,5]", [[4, 3], [4, 5]], nil, { Tensor.matmul($0[0], $0[1], transposeA: true) },
               reference: { referenceMatmul($0[0][...], 4, 3, transA: true, $0[1][...], 4, 5, transB: false) }),
    ]

    static let movement: [OpCase] = [
        OpCase(.reshape, "[2,3,4] → [6,4]", [[2, 3, 4]], nil, { $0[0].reshaped([6, -1]) }, reference: { $0[0] }),
        OpCase(.transpose, "[2,3,4] axes 0↔2", [[2, 3, 4]], nil, { $0[0].transposed(0, 2) },
               reference: { (x: [[Double]]) -> [Double] in multiIndices([4, 3, 2]).map { (i: [Int]) -> Double in x[0][i[2] * 12 + i[1] * 4 + i[0]] } }),
        OpCase(.permute, "[2,3,4] → (1,2,0)", [[2, 3, 4]], nil, { $0[0].permuted([1, 2, 0]) },
               reference: { (x: [[Double]]) -> [Double] in multiIndices([3, 4, 2]).map { (i: [Int]) -> Double in x[0][i[2] * 12 + i[0] * 4 + i[1]] } }),
        OpCase(.slice, "[3,5] axis 1, 1..<4", [[3, 5]], nil, { $0[0].slice(axis: 1, 1..<4) },
               reference: { (x: [[Double]]) -> [Double] in multiIndices([3, 3]).map { (i: [Int]) -> Double in x[0][i[0] * 5 + i[1] + 1] } }),
        OpCase(.slice, "[2,3,4] axis 0, 1..<2", [[2, 3, 4]], nil, { $0[0].slice(axis: 0, 1..<2) },
               reference: { Array($0[0][12..<24]) }),
        OpCase(.concat, "[2,3] ‖ [2,2] axis 1", [[2, 3], [2, 2]], nil, { Tensor.concat($0, axis: 1) },
               reference: { (x: [[Double]]) -> [Double] in (0..<2).flatMap { (r: Int) -> [Double] in Array(x[0][(r * 3)..<(r * 3 + 3)]) + Array(x[1][(r * 2)..<(r * 2 + 2)]) } }),
        OpCase(.concat, "[1,3] ‖ [2,3] axis 0", [[1, 3], [2, 3]], nil, { Tensor.concat($0, axis: 0) }, reference: { $0[0] + $0[1] }),
        OpCase(.stack, "[2,3], [2,3] axis 1", [[2, 3], [2, 3]], nil, { Tensor.stack($0, axis: 1) },
               reference: { (x: [[Double]]) -> [Double] in (0..<2).flatMap { (r: Int) -> [Double] in Array(x[0][(r * 3)..<(r * 3 + 3)]) + Array(x[1][(r * 3)..<(r * 3 + 3)]) } }),
        OpCase(.indexSelect, "[4,3] rows 2,0,2", [[4, 3]], nil, { $0[0].indexSelect([2, 0, 2]) },
               reference: { (x: [[Double]]) -> [Double] in [2, 0, 2].flatMap { (r: Int) -> [Double] in Array(x[0][(r * 3)..<(r * 3 + 3)]) } }),
        OpCase(.embedding, "[5,3] at ids [[1,4],[1,0]]", [[5, 3]], nil, { Tensor.embedding($0[0], ids: [1, 4, 1, 0], idsShape: [2, 2]) },
               reference: { (x: [[Double]]) -> [Double] in [1, 4, 1, 0].flatMap { (r: Int) -> [Double] in Array(x[0][(r * 3)..<(r * 3 + 3)]) } }),
    ]

    static let reductions: [OpCase] = [
        OpCase(.sum, "[2,3,4] axis 1", [[2, 3, 4]], nil, { $0[0].sum(axes: [1]) },
               reference: { (x: [[Double]]) -> [Double] in multiIndices([2, 4]).map { (i: [Int]) -> Double in (0..<3).map { (j: Int) -> Double in x[0][i[0] * 12 + j * 4 + i[1]] }.reduce(0, +) } }),
        OpCase(.sum, "[2,3] all", [[2, 3]], nil, { $0[0].sum() }, reference: { [$0[0].reduce(0, +)] }),
        OpCase(.sum, "[2,3,4] axes 0,2 keepDims", [[2, 3, 4]], nil, { $0[0].sum(axes: [0, 2], keepDims: true) },
               reference: { (x: [[Double]]) -> [Double] in (0..<3).map { (j: Int) -> Double in multiIndices([2, 4]).map { (i: [Int]) -> Double in x[0][i[0] * 12 + j * 4 + i[1]] }.reduce(0, +) } }),
        OpCase(.mean, "[2,3,4] axis −1", [[2, 3, 4]], nil, { $0[0].mean(axes: [-1]) },
               reference: { (x: [[Double]]) -> [Double] in mapRows(x[0], width: 4) { (r: [Double]) -> [Double] in [r.reduce(0, +) / 4] } }),
        OpCase(.mean, "[3,2] all", [[3, 2]], nil, { $0[0].mean() }, reference: { [$0[0].reduce(0, +) / 6] }),
        OpCase(.max, "[3,4] axis 1", [[3, 4]], [.distinct], { $0[0].max(axis: 1) },
               reference: { (x: [[Double]]) -> [Double] in mapRows(x[0], width: 4) { (r: [Double]) -> [Double] in [r.max()!] } }),
        OpCase(.max, "[3,4] axis 0 keepDims", [[3, 4]], [.distinct], { $0[0].max(axis: 0, keepDims: true) },
               reference: { (x: [[Double]]) -> [Double] in (0..<4).map { (j: Int) -> Double in (0..<3).map { (r: Int) -> Double in x[0][r * 4 + j] }.max()! } }),
    ]

    static let activations: [OpCase] = [
        unary(.exp, [2, 3], { $0.exp() }, Foundation.exp),
        unary(.log, [2, 3], kind: .positive, { $0.log() }, Foundation.log),
        unary(.sqrt, [2, 3], kind: .positive, { $0.sqrt() }, { $0.squareRoot() }),
        unary(.relu, [3, 3], kind: .awayFromZero, { $0.relu() }, { max($0, 0) }),
        unary(.geluTanh, [2, 4], { $0.gelu(.tanh) }, geluTanh),
        unary(.geluErf, [2, 4], { $0.gelu(.erf) }, geluErf),
        unary(.silu, [2, 4], { $0.silu() }, { $0 / (1 + Foundation.exp(-$0)) }),
        unary(.sigmoid, [2, 4], { $0.sigmoid() }, { 1 / (1 + Foundation.exp(-$0)) }),
        unary(.tanh, [2, 4], { $0.tanh() }, Foundation.tanh),
        OpCase(.softmax, "[3,5]", [[3, 5]], nil, { $0[0].softmax() }, reference: { mapRows($0[0], width: 5, softmaxRow) }),
        OpCase(.softmax, "[2,2,4]", [[2, 2, 4]], nil, { $0[0].softmax() }, reference: { mapRows($0[0], width: 4, softmaxRow) }),
        OpCase(.logSoftmax, "[3,5]", [[3, 5]], nil, { $0[0].logSoftmax() },
               reference: { mapRows($0[0], width: 5) { softmaxRow($0).map { Foundation.log($0) } } }),
        OpCase(.crossEntropy, "[4,5] ignore + weights", [[4, 5]], nil,
               { Tensor.crossEntropy($0[0], targets: [1, -1, 3, 0], weights: [1, 0.5, 1, 2]) },
               reference: { (x: [[Double]]) -> [Double] in
                   let p = mapRows(x[0], width: 5, softmaxRow)
                   let loss = -(1 * Foundation.log(p[1]) + 1 * Foundation.log(p[10 + 3]) + 2 * Foundation.log(p[15 + 0]))
                   return [loss / 4]   // weights of counted rows: 1 + 1 + 2
               }),
        OpCase(.crossEntropy, "[3,4] explicit normalizer", [[3, 4]], nil,
               { Tensor.crossEntropy($0[0], targets: [2, 0, 1], normalizer: 10) },
               reference: { (x: [[Double]]) -> [Double] in
                   let p = mapRows(x[0], width: 4, softmaxRow)
                   return [-(Foundation.log(p[2]) + Foundation.log(p[4]) + Foundation.log(p[9])) / 10]
               }),
    ]

    static let attention: [OpCase] = [
        OpCase(.attention, "[1,2,3,4] causal", [[1, 2, 3, 4], [1, 2, 3, 4], [1, 2, 3, 4]], nil,
               { Tensor.causalAttention($0[0], $0[1], $0[2]) },
               reference: { attentionReference($0, heads: 2, t: 3, s: 3, d: 4) }),
        OpCase(.attention, "[2,1,2,3] with 2 prefix keys", [[2, 1, 2, 3], [2, 1, 4, 3], [2, 1, 4, 3]], nil,
               { Tensor.causalAttention($0[0], $0[1], $0[2]) },
               reference: { attentionReference($0, heads: 2, t: 2, s: 4, d: 3) }),
    ]

    static let normalisation: [OpCase] = [
        OpCase(.layerNorm, "[3,6] with β", [[3, 6], [6], [6]], nil, { $0[0].layerNorm(gamma: $0[1], beta: $0[2]) },
               reference: { (x: [[Double]]) -> [Double] in layerNormReference(x[0], x[1], x[2]) }),
        OpCase(.layerNorm, "[2,2,5] without β", [[2, 2, 5], [5]], nil, { $0[0].layerNorm(gamma: $0[1], beta: nil) },
               reference: { (x: [[Double]]) -> [Double] in layerNormReference(x[0], x[1], nil) }),
        OpCase(.rmsNorm, "[3,6]", [[3, 6], [6]], nil, { $0[0].rmsNorm(gamma: $0[1]) },
               reference: { (x: [[Double]]) -> [Double] in mapRows(x[0], width: 6) { (r: [Double]) -> [Double] in
                   let inv = 1 / (r.map { $0 * $0 }.reduce(0, +) / 6 + 1e-5).squareRoot()
                   return r.enumerated().map { (e: (offset: Int, element: Double)) -> Double in e.element * inv * x[1][e.offset] } } }),
        OpCase(.dropout, "[4,5] p = 0.3", [[4, 5]], nil, { var r = RNG(seed: 7); return $0[0].dropout(0.3, rng: &r) },
               reference: { (x: [[Double]]) -> [Double] in
                   var r = RNG(seed: 7)
                   return x[0].map { (v: Double) -> Double in r.bernoulli(0.3) ? 0 : v / 0.7 } }),
        OpCase(.rope, "[2,3,4]", [[2, 3, 4]], nil, { $0[0].rope(theta: 10_000) },
               reference: { ropeReference($0[0], steps: 3, width: 4, offset: 0) }),
        OpCase(.rope, "[1,2,3,6] offset 2", [[1, 2, 3, 6]], nil, { $0[0].rope(theta: 100, positionOffset: 2) },
               reference: { ropeReference($0[0], steps: 3, width: 6, offset: 2, theta: 100) }),
        // A shared table covering more positions than the call uses (positions 1..<9, the call reads 2..<5).
        OpCase(.rope, "[1,2,3,6] offset 2, shared table", [[1, 2, 3, 6]], nil,
               { $0[0].rope(RoPETable(theta: 100, width: 6, positions: 1..<9), positionOffset: 2) },
               reference: { ropeReference($0[0], steps: 3, width: 6, offset: 2, theta: 100) }),
        OpCase(.linear, "[2,3,5]: W [4,5], b [4]", [[2, 3, 5], [4, 5], [4]], nil,
               { Tensor.linear($0[0], weight: $0[1], bias: $0[2]) },
               reference: { (x: [[Double]]) -> [Double] in
                   let product = referenceMatmul(x[0][...], 6, 5, transA: false, x[1][...], 4, 5, transB: true)
                   return (0..<24).map { (i: Int) -> Double in product[i] + x[2][i % 4] }
               }),
        OpCase(.lowRankLinear, "[2,3,5]: W [4,5], b, A [2,5], B [4,2]", [[2, 3, 5], [4, 5], [4], [2, 5], [4, 2]], nil,
               { Tensor.lowRankLinear($0[0], weight: $0[1], bias: $0[2], a: $0[3], b: $0[4], scaling: 1.5) },
               reference: { (x: [[Double]]) -> [Double] in
                   let base = referenceMatmul(x[0][...], 6, 5, transA: false, x[1][...], 4, 5, transB: true)
                   let u = referenceMatmul(x[0][...], 6, 5, transA: false, x[3][...], 2, 5, transB: true)
                   let delta = referenceMatmul(u[...], 6, 2, transA: false, x[4][...], 4, 2, transB: true)
                   return (0..<24).map { (i: Int) -> Double in base[i] + 1.5 * delta[i] + x[2][i % 4] }
               }),
        OpCase(.quantizedLinear, "[2,3,5]: Ŵ [4,5] frozen, b, A [2,5], B [4,2]", [[2, 3, 5], [4], [2, 5], [4, 2]], nil,
               { Tensor.quantizedLinear($0[0], weight: DenseWeight(frozenWeight.map(Float.init), rows: 4, columns: 5), bias: $0[1],
                                        a: $0[2], b: $0[3], scaling: 1.5) },
               reference: { (x: [[Double]]) -> [Double] in
                   let base = referenceMatmul(x[0][...], 6, 5, transA: false, frozenWeight[...], 4, 5, transB: true)
                   let u = referenceMatmul(x[0][...], 6, 5, transA: false, x[2][...], 2, 5, transB: true)
                   let delta = referenceMatmul(u[...], 6, 2, transA: false, x[3][...], 4, 2, transB: true)
                   return (0..<24).map { (i: Int) -> Double in base[i] + 1.5 * delta[i] + x[1][i % 4] }
               }),
        OpCase(.quantizedLinear, "[7,3]: Ŵ [2,3] frozen, no bias, no branch", [[7, 3]], nil,
               { Tensor.quantizedLinear($0[0], weight: DenseWeight(frozenWeight.prefix(6).map(Float.init), rows: 2, columns: 3), bias: nil) },
               reference: { (x: [[Double]]) -> [Double] in
                   referenceMatmul(x[0][...], 7, 3, transA: false, frozenWeight[0..<6], 2, 3, transB: true)
               }),
        // A grid of 2⁻¹⁵ is far finer than the check's step, so the staircase looks like its slope: 1 inside
        // the clamp range [−1, 1), 0 outside — exactly what the straight-through estimator claims.
        OpCase(.fakeQuantize, "[3,4], groups of 4, grid 2⁻¹⁵, clamp ±1", [[3, 4]], [.distinct],
               { Tensor.fakeQuantize($0[0], scales: [Float](repeating: 0x1p-15, count: 3), groupSize: 4, qmin: -32768, qmax: 32767) },
               reference: { (x: [[Double]]) -> [Double] in
                   x[0].map { min(max(($0 * 32768).rounded(.toNearestOrEven), -32768), 32767) / 32768 }
               }),
        OpCase(.checkpoint, "tanh(x·w) segment", [[3, 4], [4, 2]], nil,
               { x in Tensor.checkpoint([x[0]], parameters: [x[1]]) { Tensor.matmul($0[0], x[1]).tanh() } },
               reference: { (x: [[Double]]) -> [Double] in referenceMatmul(x[0][...], 3, 4, transA: false, x[1][...], 4, 2, transB: false).map { Foundation.tanh($0) } }),
    ]
}

/// The frozen "quantized" weight of the quantizedLinear cases (fixed values, no gradient).
let frozenWeight: [Double] = (0..<20).map { Double(Float(sin(Double($0) * 1.7) * 0.8)) }
