// AdapterMerge.swift — combining LoRA adapters: concatenation, and merging through ΔW.
//
// Teaches: adapters combine exactly by concatenation. With updates s₁B₁A₁ and s₂B₂A₂, stacking
//   A = [A₁; A₂] (rank r₁ + r₂)   and   B = [w₁s₁B₁ | w₂s₂B₂]
// gives B·A = w₁s₁B₁A₁ + w₂s₂B₂A₂ — the weighted sum, with no approximation, at the cost of a larger
// rank. To keep the rank small instead, form ΔW = Σ wᵢsᵢBᵢAᵢ (optionally TIES- or DARE-processed, as
// for whole models) and factor it back with a truncated SVD: the best rank-r approximation.
// Leaves out: DoRA magnitudes (concatenation of DoRA adapters is not defined).
import Foundation
import Kernels
import Autodiff
import NN
import PEFT

/// How to combine adapters into one.
public enum AdapterCombination: Sendable, Equatable {
    /// Exact: rank = Σ rᵢ.
    case concatenation
    /// ΔW = Σ wᵢsᵢBᵢAᵢ, refactored at `rank`.
    case svd(rank: Int)
    /// TIES on the per-adapter ΔWᵢ (trim to `density`, elect signs, disjoint mean), refactored at `rank`.
    case ties(rank: Int, density: Double)
    /// DARE on the per-adapter ΔWᵢ (drop `p`, rescale), summed, refactored at `rank`.
    case dare(rank: Int, dropProbability: Float, seed: UInt64)
}

/// How two adapters' updates overlap on one layer (see `AdapterMerge.overlap`).
public struct UpdateOverlap: Sendable, Equatable {
    /// The layer, e.g. "h.0.attn.c_attn".
    public var path: String
    /// ‖ΔW‖ (Frobenius) of the first and the second adapter.
    public var normFirst: Double, normSecond: Double
    /// ⟨ΔW₁, ΔW₂⟩ / (‖ΔW₁‖‖ΔW₂‖), 0 when either update is zero.
    public var cosine: Double
}

/// Combining the LoRA adapters of a model (caseless namespace).
public enum AdapterMerge {
    /// Adds adapter `into` to every layer that carries all of `names`, combining them with `weights`.
    public static func combine(_ names: [String], weights: [Float], using method: AdapterCombination, into newName: String, model: GPT) {
        require(names.count == weights.count && !names.isEmpty, "AdapterMerge: \(names.count) adapters, \(weights.count) weights")
        var rng = RNG(seed: { if case .dare(_, _, let seed) = method { return seed } else { return 0 } }())
        for (_, layer, lora) in LoRA.loraLayers(of: model) {
            let parts = names.compactMap { lora.weights($0) }
            guard parts.count == names.count else { continue }
            let (inFeatures, outFeatures) = (layer.inFeatures, layer.outFeatures)
            switch method {
            case .concatenation:
                let rank = parts.map(\.config.rank).reduce(0, +)
                if let substitute = MergeArithmetic.current.concatenation {
                    // A caller's concatenation (the workbook's task 14.1; see MergeArithmetic.swift).
                    let (a, b) = substitute(parts.map { ($0.a.values, $0.b.values, $0.config.rank, $0.config.scaling) }, weights,
                                            inFeatures, outFeatures)
                    require(a.count == rank * inFeatures && b.count == outFeatures * rank,
                            "MergeArithmetic.concatenation returned A of \(a.count) and B of \(b.count) values for rank \(rank), [\(outFeatures), \(inFeatures)]")
                    lora.install(newName, config: LoRAConfig(rank: rank, alpha: Float(rank)), a: Tensor(a, shape: [rank, inFeatures]),
                                 b: Tensor(b, shape: [outFeatures, rank]))
                    continue
                }
                let a = Tensor(zeros: [rank, inFeatures]), b = Tensor(zeros: [outFeatures, rank])
                var offset = 0
                for (part, weight) in zip(parts, weights) {
                    let r = part.config.rank
                    (a.data + offset * inFeatures).update(from: part.a.data, count: r * inFeatures)
                    let factor = weight * part.config.scaling
                    for o in 0..<outFeatures { for k in 0..<r { b.data[o * rank + offset + k] = factor * part.b.data[o * r + k] } }
                    offset += r
                }
                lora.install(newName, config: LoRAConfig(rank: rank, alpha: Float(rank)), a: a, b: b)
            case .svd(let rank), .ties(let rank, _), .dare(let rank, _, _):
                // Each adapter's full update wᵢsᵢBᵢAᵢ [out, in].
                let deltas = zip(parts, weights).map { delta($0, weight: $1, inFeatures: inFeatures, outFeatures: outFeatures) }
                let combined: [Float]
                switch method {
                case .ties(_, let density): combined = MergeMath.ties(deltas, density: density)
                case .dare(_, let p, _): combined = MergeMath.linear(deltas.map { MergeMath.dare($0, dropProbability: p, rng: &rng) },
                                                                     weights: [Float](repeating: 1, count: deltas.count), normalize: false)
                default: combined = MergeMath.linear(deltas, weights: [Float](repeating: 1, count: deltas.count), normalize: false)
                }
                let (a, b) = factor(combined, rows: outFeatures, columns: inFeatures, rank: rank)
                lora.install(newName, config: LoRAConfig(rank: rank, alpha: Float(rank)), a: a, b: b)
            }
        }
    }

    /// One adapter's full update w·s·B·A as a row-major [out, in] matrix.
    public static func delta(_ part: LoRAWeights, weight: Float = 1, inFeatures: Int, outFeatures: Int) -> [Float] {
        let r = part.config.rank, factor = weight * part.config.scaling
        return (0..<(outFeatures * inFeatures)).map { index in
            let (o, i) = (index / inFeatures, index % inFeatures)
            return factor * (0..<r).reduce(Float(0)) { $0 + part.b.data[o * r + $1] * part.a.data[$1 * inFeatures + i] }
        }
    }

    /// Per layer carrying both adapters: the Frobenius norms of their updates ΔW₁ = s₁B₁A₁, ΔW₂ = s₂B₂A₂
    /// and the cosine ⟨ΔW₁, ΔW₂⟩ / (‖ΔW₁‖‖ΔW₂‖) — how much summing the two adapters makes them act on
    /// the same directions (cos ≈ 0: orthogonal updates; |cos| near 1: the sum doubles or cancels them).
    public static func overlap(_ first: String, _ second: String, in model: GPT) -> [UpdateOverlap] {
        LoRA.loraLayers(of: model).compactMap { path, layer, lora in
            guard let one = lora.weights(first), let two = lora.weights(second) else { return nil }
            let d1 = delta(one, inFeatures: layer.inFeatures, outFeatures: layer.outFeatures)
            let d2 = delta(two, inFeatures: layer.inFeatures, outFeatures: layer.outFeatures)
            let dot = zip(d1, d2).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
            let n1 = d1.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
            let n2 = d2.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
            return UpdateOverlap(path: path, normFirst: n1, normSecond: n2, cosine: n1 == 0 || n2 == 0 ? 0 : dot / (n1 * n2))
        }
    }

    /// ΔW ≈ B·A at `rank` from the truncated SVD: B = U_r·√S_r, A = √S_r·V_rᵀ.
    static func factor(_ delta: [Float], rows: Int, columns: Int, rank: Int) -> (a: Tensor, b: Tensor) {
        let svd = SVD.decompose(delta.map(Double.init), rows: rows, columns: columns)
        let a = Tensor(zeros: [rank, columns]), b = Tensor(zeros: [rows, rank])
        for k in 0..<min(rank, svd.rank) {
            let root = svd.singularValues[k].squareRoot()
            for c in 0..<columns { a.data[k * columns + c] = Float(root * svd.v[c * svd.rank + k]) }
            for r in 0..<rows { b.data[r * rank + k] = Float(root * svd.u[r * svd.rank + k]) }
        }
        return (a, b)
    }
}
