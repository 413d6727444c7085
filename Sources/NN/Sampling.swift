// Sampling.swift — turning next-token logits into a token: greedy, temperature, top-k and top-p.
//
// Teaches: the decoding rule decides between the most likely token (greedy, deterministic — what our
// exact-match evaluators use) and a draw from the softened, truncated distribution:
//   temperature τ: p ∝ exp(logit / τ) (τ < 1 sharpens, τ > 1 flattens);
//   top-k: keep the k most likely tokens;
//   top-p (nucleus, Holtzman et al. 2019): keep the smallest set of most likely tokens whose
//   probability sums to at least p — a cut that adapts to how confident the model is.
// Applied in that order (as Hugging Face's generate does), then one uniform draw from the seeded RNG
// inverts the CDF, so a seed reproduces the text exactly.
// The generation loop itself (KV cache, stop tokens, streaming) is in Generation.swift.
// Leaves out: beam search, repetition penalties, min-p, typical sampling.
import Foundation
import Kernels
import Autodiff

/// How to pick the next token.
public struct SamplingOptions: Sendable, Equatable {
    /// 0 means greedy (argmax); otherwise logits are divided by it before the softmax.
    public var temperature: Float
    /// Keep only the k most likely tokens (nil = all).
    public var topK: Int?
    /// Keep only the most likely tokens whose probabilities sum to at least p, 0 < p ≤ 1 (nil = all).
    public var topP: Float?
    /// Greedy decoding.
    public static let greedy = SamplingOptions(temperature: 0)

    /// Options with a temperature and optional top-k and top-p.
    public init(temperature: Float, topK: Int? = nil, topP: Float? = nil) {
        self.temperature = temperature
        self.topK = topK
        self.topP = topP
    }
}

extension GPT {
    /// Continues `prompt` by up to `maxNewTokens` tokens, stopping early after `stop` (included).
    /// Uses the KV cache; when the context fills up, keeps its last `contextLength` tokens (minus
    /// virtual tokens) and goes on. Returns the new tokens only.
    public func generate(prompt: [Int], maxNewTokens: Int, options: SamplingOptions = .greedy,
                         stop: Int? = nil, rng: inout RNG) -> [Int] {
        guard !prompt.isEmpty, maxNewTokens > 0 else { return [] }
        let request = GenerationRequest(maxNewTokens: maxNewTokens, sampling: options, stopTokens: Set(stop.map { [$0] } ?? []))
        return generate(prompt: prompt, request: request, rng: &rng).tokens
    }

    /// One decoding decision over a row of logits.
    public static func pick(from logits: [Float], options: SamplingOptions, rng: inout RNG) -> Int {
        logits.withUnsafeBufferPointer { pick(from: $0, options: options, rng: &rng) }
    }

    /// One decoding decision over a row of logits [V] (greedy draws nothing from `rng`).
    public static func pick(from logits: UnsafeBufferPointer<Float>, options: SamplingOptions, rng: inout RNG) -> Int {
        if options.temperature == 0 {
            // Greedy: the first index of the maximum.
            var best = 0
            for i in 1..<logits.count where logits[i] > logits[best] { best = i }
            return best
        }
        // Candidates: all tokens in id order, or — when a cut is asked for — sorted by logit
        // (ties: lower id first) and cut to the top k.
        var candidates = Array(logits.indices)
        let cuts = (options.topK.map { $0 < logits.count } ?? false) || (options.topP.map { $0 < 1 } ?? false)
        if cuts {
            candidates.sort { logits[$0] > logits[$1] || (logits[$0] == logits[$1] && $0 < $1) }
            if let k = options.topK, k < candidates.count { candidates = Array(candidates.prefix(max(k, 1))) }
        }
        // Softmax at the temperature over the candidates.
        let scaled = candidates.map { Double(logits[$0] / options.temperature) }
        let top = scaled.max() ?? 0
        var weights = scaled.map { Foundation.exp($0 - top) }
        // Nucleus: the shortest prefix (most likely first) holding at least p of the probability.
        if let p = options.topP, p < 1 {
            let total = weights.reduce(0, +)
            var kept = 0, mass = 0.0
            while kept < weights.count && (kept == 0 || mass < Double(p) * total) {
                mass += weights[kept]
                kept += 1
            }
            candidates = Array(candidates.prefix(kept))
            weights = Array(weights.prefix(kept))
        }
        // Invert the CDF at one uniform draw.
        var threshold = Double(rng.uniform()) * weights.reduce(0, +)
        for (candidate, weight) in zip(candidates, weights) {
            threshold -= weight
            if threshold < 0 { return candidate }
        }
        return candidates[candidates.count - 1]
    }
}
