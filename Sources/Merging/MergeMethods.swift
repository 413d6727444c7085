// MergeMethods.swift — model merging as arithmetic on flat parameter vectors, as mergekit computes it.
//
// Teaches: every merge method in mergekit's family reduces to a few lines over one tensor at a time.
// With a base θ₀ and fine-tuned models θᵢ, a *task vector* is τᵢ = θᵢ − θ₀ (Ilharco et al., 2023).
// - Linear / model soup (Wortsman et al., 2022): Σ wᵢθᵢ (/ Σ wᵢ when normalised).
// - Task arithmetic: θ₀ + λ·Σ wᵢτᵢ; a negative weight removes a skill.
// - SLERP: interpolate along the great circle between two vectors (falls back to lerp when they are
//   nearly colinear, |cos| > 0.9995, where the formula is ill-conditioned); mergekit treats each
//   tensor as one vector, normalises before the dot product and counts a norm below 1e-8 as 1.
// - TIES (Yadav et al., 2023): trim each τᵢ to its top int(n·densityᵢ) magnitudes, weight it, elect
//   a sign per parameter from the sum (≥ 0 counts as +), and divide the sum of the agreeing entries
//   by the sum of *their weights* (the disjoint mean).
// - DARE (Yu et al., 2024): keep each τ entry with probability density (the mask: DAREMasks.swift);
//   mergekit's `rescale` then scales the survivors so the L1 norm of τ is unchanged; combine linearly
//   or TIES-style.
// - Model breadcrumbs (Davari & Belilovsky, 2024): drop each τᵢ's int(n·γ) largest-magnitude outliers
//   and keep the next int(n·density), dropping the smallest.
// - Model stock (Jang et al., 2024): interpolate between θ₀ and the average fine-tune with
//   t = k·cosθ / (1 + (k − 1)·cosθ), cosθ the mean pairwise cosine of the task vectors.
// Leaves out: DELLA, SCE, evolutionary search. The arithmetic follows mergekit's merge_methods/*.py
// and sparsify.py line by line; ModelMerge.swift applies it per tensor with per-layer parameters.
import Foundation
import Kernels
import Autodiff

/// Merging arithmetic on one tensor, given as flat arrays of equal length (caseless namespace).
public enum MergeMath {
    /// Σ wᵢ·xᵢ, divided by Σ wᵢ when `normalize`.
    public static func linear(_ xs: [[Float]], weights: [Float], normalize: Bool = true) -> [Float] {
        require(xs.count == weights.count && !xs.isEmpty, "linear merge: \(xs.count) tensors, \(weights.count) weights")
        var out = [Float](repeating: 0, count: xs[0].count)
        for (x, w) in zip(xs, weights) { for i in out.indices { out[i] += w * x[i] } }
        if normalize {
            let total = weights.reduce(0, +)
            for i in out.indices { out[i] /= total }
        }
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

    /// Spherical interpolation of the whole vectors from `a` (t = 0) to `b` (t = 1); linear when
    /// |cos∠(a, b)| > `threshold`. (The textbook form; `slerpRows` is mergekit's.)
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

    /// mergekit's SLERP, on each of `rows` equal rows of the flat vectors on its own (mergekit merges a
    /// tensor as one row). A norm below 1e-8 counts as 1 (so a zero vector has cos 0 with anything);
    /// cos is clamped to [−1, 1]; Float32 arithmetic as mergekit's.
    public static func slerpRows(_ a: [Float], _ b: [Float], rows: Int, t: Float, threshold: Float = 0.9995) -> [Float] {
        let width = rows == 0 ? 0 : a.count / rows
        var out = [Float](repeating: 0, count: a.count)
        for row in 0..<rows {
            let range = (row * width)..<((row + 1) * width)
            func norm(_ x: [Float]) -> Float {
                let n = Float(range.reduce(0.0) { $0 + Double(x[$1]) * Double(x[$1]) }.squareRoot())
                return n > 1e-8 ? n : 1
            }
            let (normA, normB) = (norm(a), norm(b))
            let dot = max(-1, min(1, range.reduce(Float(0)) { $0 + (a[$1] / normA) * (b[$1] / normB) }))
            let coefA: Float, coefB: Float
            if abs(dot) > threshold {
                (coefA, coefB) = (1 - t, t)
            } else {
                let theta = acos(dot), sinTheta = sin(theta)
                (coefA, coefB) = (sin((1 - t) * theta) / sinTheta, sin(t * theta) / sinTheta)
            }
            for i in range { out[i] = coefA * a[i] + coefB * b[i] }
        }
        return out
    }

    /// Indices of `x` by decreasing magnitude (ties by index).
    static func byMagnitude(_ x: [Float]) -> [Int] {
        x.indices.sorted { abs(x[$0]) > abs(x[$1]) || (abs(x[$0]) == abs(x[$1]) && $0 < $1) }
    }

    /// Keeps the max(1, int(n·density)) largest-magnitude entries, zeroes the rest (mergekit's
    /// `magnitude`); density ≥ 1 keeps everything, density ≤ 0 nothing.
    public static func trim(_ x: [Float], density: Double) -> [Float] {
        if density >= 1 { return x }
        if density <= 0 || x.isEmpty { return [Float](repeating: 0, count: x.count) }
        let keep = max(1, Int(density * Double(x.count)))
        var out = [Float](repeating: 0, count: x.count)
        for i in byMagnitude(x).prefix(keep) { out[i] = x[i] }
        return out
    }

    /// TIES with one density for all: trim, weight, elect, disjoint mean (divided by the agreeing weights).
    /// Returns the merged task vector (add it to the base, scaled by λ).
    public static func ties(_ taskVectors: [[Float]], density: Double, weights: [Float]? = nil) -> [Float] {
        let w = weights ?? [Float](repeating: 1, count: taskVectors.count)
        let trimmed = zip(taskVectors, w).map { tau, weight in trim(tau, density: density).map { $0 * weight } }
        return disjointMean(trimmed, weights: weights)   // nil weights: each agreeing entry counts 1
    }

    /// Sign election (sign of Σᵢ xᵢ, ≥ 0 counting as +) and the sum of the entries that agree with it
    /// (zeros never agree), divided — when `normalize` — by the sum of their weights (1 each when
    /// `weights` is nil; a zero divisor counts as 1).
    /// A caller may substitute its own election for the unweighted, normalised case (the workbook's
    /// task 13.2; see MergeArithmetic.swift).
    public static func disjointMean(_ xs: [[Float]], weights: [Float]? = nil, normalize: Bool = true) -> [Float] {
        if weights == nil, normalize, let substitute = MergeArithmetic.current.signElection {
            let elected = substitute(xs)
            require(elected.count == (xs.first?.count ?? 0), "MergeArithmetic.signElection returned \(elected.count) values for \(xs.first?.count ?? 0)")
            return elected
        }
        return (0..<(xs.first?.count ?? 0)).map { i in
            let positive = xs.reduce(Float(0)) { $0 + $1[i] } >= 0
            var total: Float = 0, divisor: Float = 0
            for (index, x) in xs.enumerated() where x[i] != 0 && (x[i] > 0) == positive {
                total += x[i]
                divisor += weights?[index] ?? 1
            }
            return normalize ? total / (divisor == 0 ? 1 : divisor) : total
        }
    }

    /// DARE as PEFT applies it to adapters: each entry dropped with probability p (seeded), survivors
    /// scaled by 1/(1 − p).
    public static func dare(_ tau: [Float], dropProbability p: Float, rng: inout RNG) -> [Float] {
        require(p >= 0 && p < 1, "DARE: drop probability \(p) must be in [0, 1)")
        return tau.map { rng.bernoulli(p) ? 0 : $0 / (1 - p) }
    }

    /// Breadcrumbs (mergekit's `magnitude_outliers`): sorted by magnitude, skip the int(n·γ) largest and
    /// keep the next int(n·density) (fewer outliers are skipped when both do not fit).
    public static func breadcrumbs(_ tau: [Float], density: Double, gamma: Double) -> [Float] {
        if density >= 1 { return tau }
        let n = tau.count
        let keep = Int(density * Double(n)), top = Int(gamma * Double(n))
        let bottom = max(0, n - keep - top)                  // dropped from the small end
        let ascending = Array(byMagnitude(tau).reversed())
        var out = [Float](repeating: 0, count: n)
        for i in ascending[bottom..<min(n, bottom + keep)] { out[i] = tau[i] }
        return out
    }

    /// mergekit's L1 rescale: `masked` scaled so that Σ|masked| = Σ|original| (unchanged if either is < 1e-7).
    public static func rescaleL1(_ masked: [Float], original: [Float]) -> [Float] {
        let before = original.reduce(Float(0)) { $0 + abs($1) }, after = masked.reduce(Float(0)) { $0 + abs($1) }
        if before < 1e-7 || after < 1e-7 { return masked }
        return masked.map { $0 * (before / after) }
    }

    /// Model stock's interpolation ratio t = k·cosθ / (1 + (k − 1)·cosθ) from k ≥ 2 task vectors
    /// (cosθ: the mean pairwise cosine, each clamped to [−1, 1] with the norm product clamped at 1e-6;
    /// t = 0 where the denominator vanishes).
    public static func modelStockRatio(_ taskVectors: [[Float]]) -> Float {
        let k = taskVectors.count
        require(k >= 2, "model stock needs at least two fine-tuned models, got \(k)")
        var total = 0.0, pairs = 0.0
        for i in 0..<k {
            for j in (i + 1)..<k {
                let (a, b) = (taskVectors[i], taskVectors[j])
                let dot = zip(a, b).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
                let na = a.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot(), nb = b.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
                total += max(-1, min(1, dot / max(na * nb, 1e-6)))
                pairs += 1
            }
        }
        let cosine = total / pairs
        let denominator = 1 + Double(k - 1) * cosine
        return abs(denominator) < 1e-6 ? 0 : Float(Double(k) * cosine / denominator)
    }
}
