// MergeMethods.swift — model merging as arithmetic on flat parameter vectors.
//
// Teaches: every merge method in mergekit's family reduces to a few lines over one tensor at a time.
// With a base θ₀ and fine-tuned models θᵢ, a *task vector* is τᵢ = θᵢ − θ₀ (Ilharco et al., 2023).
// - Linear / model soup (Wortsman et al., 2022): Σ wᵢθᵢ (/ Σ wᵢ when normalised).
// - Task arithmetic: θ₀ + Σ λᵢτᵢ; a negative λ removes a skill.
// - SLERP: interpolate along the great circle between two vectors (falls back to lerp when they are
//   nearly colinear, |cos| > 0.9995, where the formula is ill-conditioned).
// - TIES (Yadav et al., 2023): trim each τᵢ to its top-k% magnitudes, elect a sign per parameter from the
//   sum of the trimmed vectors, average only the values that agree with it (disjoint mean).
// - DARE (Yu et al., 2024): drop each τ entry with probability p, rescale survivors by 1/(1−p) — the
//   expectation is unchanged — then combine linearly or TIES-style.
// - Model breadcrumbs (Davari & Belilovsky, 2024): drop each τᵢ's largest-magnitude outliers and its
//   smallest entries, keep the middle.
// - Model stock (Jang et al., 2024): interpolate between θ₀ and the average fine-tune with
//   t = k·cosθ / (1 + (k − 1)·cosθ), θ the mean angle between task vectors.
// Leaves out: per-layer parameter gradients (mergekit's gradient lists), DELLA, evolutionary search.
import Foundation
import Kernels
import Autodiff

/// Merging arithmetic on one tensor, given as flat arrays of equal length (caseless namespace).
public enum MergeMath {
    /// Σ wᵢ·xᵢ, divided by Σ wᵢ when `normalize`.
    public static func linear(_ xs: [[Float]], weights: [Float], normalize: Bool = true) -> [Float] {
        require(xs.count == weights.count && !xs.isEmpty, "linear merge: \(xs.count) tensors, \(weights.count) weights")
        let total = normalize ? weights.reduce(0, +) : 1
        var out = [Float](repeating: 0, count: xs[0].count)
        for (x, w) in zip(xs, weights) { for i in out.indices { out[i] += w * x[i] / total } }
        return out
    }

    /// θᵢ − θ₀.
    public static func taskVector(_ tuned: [Float], base: [Float]) -> [Float] { zip(tuned, base).map { $0 - $1 } }

    /// θ₀ + Σ λᵢ·τᵢ.
    public static func taskArithmetic(base: [Float], taskVectors: [[Float]], lambdas: [Float]) -> [Float] {
        var out = base
        for (tau, lambda) in zip(taskVectors, lambdas) { for i in out.indices { out[i] += lambda * tau[i] } }
        return out
    }

    /// Spherical interpolation from `a` (t = 0) to `b` (t = 1); linear when |cos∠(a, b)| > `threshold`.
    public static func slerp(_ a: [Float], _ b: [Float], t: Float, threshold: Double = 0.9995) -> [Float] {
        let normA = a.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
        let normB = b.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
        let dot = normA == 0 || normB == 0 ? 1 : zip(a, b).reduce(0.0) { $0 + Double($1.0) * Double($1.1) } / (normA * normB)
        if abs(dot) > threshold {
            return zip(a, b).map { (1 - t) * $0 + t * $1 }
        }
        // θ₀ = angle between the vectors; weights sin((1−t)θ₀)/sin θ₀ and sin(tθ₀)/sin θ₀.
        let theta = acos(dot), sinTheta = sin(theta)
        let s0 = Float(sin((1 - Double(t)) * theta) / sinTheta), s1 = Float(sin(Double(t) * theta) / sinTheta)
        return zip(a, b).map { s0 * $0 + s1 * $1 }
    }

    /// Keeps the `density` fraction of largest-magnitude entries (ties broken by index), zeroes the rest.
    public static func trim(_ x: [Float], density: Double) -> [Float] {
        let keep = Int((Double(x.count) * density).rounded())
        if keep >= x.count { return x }
        let order = x.indices.sorted { abs(x[$0]) > abs(x[$1]) || (abs(x[$0]) == abs(x[$1]) && $0 < $1) }
        var out = [Float](repeating: 0, count: x.count)
        for i in order.prefix(keep) { out[i] = x[i] }
        return out
    }

    /// TIES: trim each task vector to `density`, elect signs by the summed values, disjoint mean.
    /// Returns the merged task vector (add it to the base, scaled by λ).
    public static func ties(_ taskVectors: [[Float]], density: Double, weights: [Float]? = nil) -> [Float] {
        let trimmed = taskVectors.enumerated().map { index, tau in trim(tau, density: density).map { $0 * (weights?[index] ?? 1) } }
        return disjointMean(trimmed)
    }

    /// Sign election (sign of Σᵢ xᵢ) and the mean of the entries that agree with it (zeros don't count).
    /// A caller may substitute its own election (the workbook's task 13.2; see MergeArithmetic.swift).
    public static func disjointMean(_ xs: [[Float]]) -> [Float] {
        if let substitute = MergeArithmetic.current.signElection {
            let elected = substitute(xs)
            require(elected.count == (xs.first?.count ?? 0), "MergeArithmetic.signElection returned \(elected.count) values for \(xs.first?.count ?? 0)")
            return elected
        }
        return (0..<(xs.first?.count ?? 0)).map { i in
            let total = xs.reduce(Float(0)) { $0 + $1[i] }
            if total == 0 { return 0 }
            let agreeing = xs.map { $0[i] }.filter { $0 != 0 && ($0 > 0) == (total > 0) }
            return agreeing.isEmpty ? 0 : agreeing.reduce(0, +) / Float(agreeing.count)
        }
    }

    /// DARE: each entry dropped with probability p (seeded), survivors scaled by 1/(1 − p).
    public static func dare(_ tau: [Float], dropProbability p: Float, rng: inout RNG) -> [Float] {
        require(p >= 0 && p < 1, "DARE: drop probability \(p) must be in [0, 1)")
        return tau.map { rng.bernoulli(p) ? 0 : $0 / (1 - p) }
    }

    /// Breadcrumbs: zero the largest `gamma` fraction (outliers) and keep the next `density` fraction
    /// by magnitude; everything smaller is dropped too.
    public static func breadcrumbs(_ tau: [Float], density: Double, gamma: Double) -> [Float] {
        let order = tau.indices.sorted { abs(tau[$0]) > abs(tau[$1]) || (abs(tau[$0]) == abs(tau[$1]) && $0 < $1) }
        let skip = Int((Double(tau.count) * gamma).rounded()), keep = Int((Double(tau.count) * density).rounded())
        var out = [Float](repeating: 0, count: tau.count)
        for i in order.dropFirst(skip).prefix(keep) { out[i] = tau[i] }
        return out
    }

    /// Model stock's interpolation ratio t = k·cosθ / (1 + (k − 1)·cosθ) from k ≥ 2 task vectors
    /// (cosθ: the mean pairwise cosine similarity, clamped at 0).
    public static func modelStockRatio(_ taskVectors: [[Float]]) -> Float {
        let k = taskVectors.count
        require(k >= 2, "model stock needs at least two fine-tuned models, got \(k)")
        var total = 0.0, pairs = 0.0
        for i in 0..<k {
            for j in (i + 1)..<k {
                let (a, b) = (taskVectors[i], taskVectors[j])
                let dot = zip(a, b).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
                let na = a.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot(), nb = b.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
                total += na == 0 || nb == 0 ? 0 : dot / (na * nb)
                pairs += 1
            }
        }
        let cosine = max(total / pairs, 0)
        return Float(Double(k) * cosine / (1 + Double(k - 1) * cosine))
    }
}
