// Sampling.swift — turning next-token logits into text: greedy, temperature and top-k sampling.
//
// Teaches: generation is a loop of forward passes; the decoding rule decides between the most likely
// token (greedy, deterministic — what our exact-match evaluators use) and a draw from the softened,
// truncated distribution (temperature, top-k), seeded for reproducibility.
// Leaves out: nucleus (top-p) sampling, beam search, KV caching (contexts here are short).
import Foundation
import Kernels
import Autodiff

/// How to pick the next token.
public struct SamplingOptions: Sendable {
    /// 0 means greedy (argmax); otherwise logits are divided by it before the softmax.
    public var temperature: Float
    /// Keep only the k most likely tokens (nil = all).
    public var topK: Int?
    /// Greedy decoding.
    public static let greedy = SamplingOptions(temperature: 0, topK: nil)

    /// Options with a temperature and optional top-k.
    public init(temperature: Float, topK: Int? = nil) {
        self.temperature = temperature
        self.topK = topK
    }
}

extension GPT {
    /// Continues `prompt` by up to `maxNewTokens` tokens, stopping early after `stop` (included).
    /// Only the last `contextLength` tokens are fed to the model. Returns the new tokens only.
    public func generate(prompt: [Int], maxNewTokens: Int, options: SamplingOptions = .greedy,
                         stop: Int? = nil, rng: inout RNG) -> [Int] {
        var tokens = prompt
        var generated: [Int] = []
        Tensor.withNoGrad {
            for _ in 0..<maxNewTokens {
                let window = Array(tokens.suffix(config.contextLength))
                let logits = self(window.map(Int32.init), batch: 1, steps: window.count)
                // The last row predicts the token after the window.
                let last = Array(UnsafeBufferPointer(start: logits.data + (window.count - 1) * config.vocabularySize,
                                                     count: config.vocabularySize))
                let next = GPT.pick(from: last, options: options, rng: &rng)
                tokens.append(next)
                generated.append(next)
                if next == stop { break }
            }
        }
        return generated
    }

    /// One decoding decision over a row of logits.
    public static func pick(from logits: [Float], options: SamplingOptions, rng: inout RNG) -> Int {
        if options.temperature == 0 {
            // Greedy: the first index of the maximum.
            var best = 0
            for i in 1..<logits.count where logits[i] > logits[best] { best = i }
            return best
        }
        // Candidates: all tokens, or the top k by logit.
        var candidates = Array(logits.indices)
        if let k = options.topK, k < logits.count {
            candidates = Array(candidates.sorted { logits[$0] > logits[$1] || (logits[$0] == logits[$1] && $0 < $1) }.prefix(max(k, 1)))
        }
        // Softmax at the temperature over the candidates, then invert the CDF at a uniform draw.
        let scaled = candidates.map { Double(logits[$0] / options.temperature) }
        let top = scaled.max()!
        let weights = scaled.map { Foundation.exp($0 - top) }
        var threshold = Double(rng.uniform()) * weights.reduce(0, +)
        for (candidate, weight) in zip(candidates, weights) {
            threshold -= weight
            if threshold < 0 { return candidate }
        }
        return candidates.last!
    }
}
