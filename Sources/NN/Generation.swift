// Generation.swift — the generation loop: prefill once, then decode one token at a time.
//
// Teaches: how a chat model produces a reply. The prompt is run through the model once (prefill,
// T positions in one batched pass, filling the KV cache); then each step feeds only the newest token
// (decode, one position against the cache), picks the next token from the last logits (Sampling.swift)
// and hands it to a streaming callback, until a stop token (end of turn, end of text) or the token
// budget. Prefill is compute-bound (big matrix products), decode is memory-bound (every weight is
// read once per token) — which is why the two are timed, and reported in tokens/s, separately.
// A session keeps its cache between calls: a chat that grows turn by turn only prefills what is new.
// Leaves out: batching several requests, beam search, speculative decoding.
import Foundation
import Kernels
import Autodiff

/// What to generate: how many tokens at most, how to pick them, which tokens end the reply.
public struct GenerationRequest: Sendable, Equatable {
    /// The token budget (≥ 1).
    public var maxNewTokens: Int
    /// The decoding rule.
    public var sampling: SamplingOptions
    /// Ids that end the reply when produced (e.g. `<|im_end|>`, end of text). The stop token is
    /// returned in `tokens` but not streamed.
    public var stopTokens: Set<Int>

    /// A request; greedy and without stop tokens unless given.
    public init(maxNewTokens: Int, sampling: SamplingOptions = .greedy, stopTokens: Set<Int> = []) {
        self.maxNewTokens = maxNewTokens
        self.sampling = sampling
        self.stopTokens = stopTokens
    }
}

/// What a generation produced, and how fast.
public struct Generation: Sendable, Equatable {
    /// Why the loop ended.
    public enum StopReason: String, Sendable {
        /// A stop token was produced (it is the last of `tokens`).
        case stopToken
        /// `maxNewTokens` were produced.
        case maxTokens
    }
    /// The new tokens (a final stop token included).
    public var tokens: [Int]
    /// Why generation ended.
    public var stopReason: StopReason
    /// Positions run in the prefill (the uncached part of the context).
    public var prefillTokens: Int
    /// Positions reused from the cache of an earlier call (a conversation's earlier turns).
    public var reusedTokens: Int
    /// Wall-clock seconds of the prefill (up to the first new token's logits).
    public var prefillSeconds: Double
    /// Wall-clock seconds of the decode steps (after the first new token).
    public var decodeSeconds: Double
    /// Decode steps run (each feeds one token).
    public var decodeSteps: Int
    /// Times the context filled up and was cut to its most recent tokens.
    public var contextShifts: Int

    /// Prefill throughput in tokens per second (0 when nothing was timed).
    public var prefillTokensPerSecond: Double { prefillSeconds > 0 ? Double(prefillTokens) / prefillSeconds : 0 }
    /// Decode throughput in tokens per second (0 when nothing was timed).
    public var decodeTokensPerSecond: Double { decodeSeconds > 0 ? Double(decodeSteps) / decodeSeconds : 0 }
}

/// A model with a KV cache that lives across calls (one conversation, batch 1).
///
/// `generate(context:)` takes the whole token sequence each time; the longest prefix it shares with
/// what the cache holds is reused, the rest is prefilled. Not safe for concurrent use.
public final class GenerationSession {
    /// The model (its adapters, prompt or prefix tuning included).
    public let model: GPT
    /// The cache (grows as needed, up to the context length).
    public let cache: KVCache
    /// The real tokens whose positions the cache holds (after any virtual tokens).
    public private(set) var cachedTokens: [Int] = []

    /// A session whose cache starts with room for `capacity` positions (default 256; it grows by doubling).
    public init(model: GPT, capacity: Int = 256) {
        self.model = model
        cache = KVCache(config: model.config, capacity: capacity + model.virtualTokenCount)
    }

    /// Most real tokens the context can hold (the context length minus prompt tuning's virtual tokens).
    public var room: Int { model.config.contextLength - model.virtualTokenCount }

    /// Forgets the cached conversation.
    public func reset() {
        cache.reset()
        cachedTokens = []
    }

    /// Generates after `context` (non-empty). A context longer than `room` is cut to its last `room`
    /// tokens (counted in `contextShifts`); so is the running text whenever the context fills up.
    /// `onToken` receives each new token as it is picked, except a final stop token.
    public func generate(context: [Int], request: GenerationRequest, rng: inout RNG,
                         onToken: (Int) -> Void = { _ in }) -> Generation {
        require(!context.isEmpty, "GenerationSession: empty context")
        var result = Generation(tokens: [], stopReason: .maxTokens, prefillTokens: 0, reusedTokens: 0,
                                prefillSeconds: 0, decodeSeconds: 0, decodeSteps: 0, contextShifts: 0)
        var text = context
        if text.count > room {
            text = Array(text.suffix(room))
            result.contextShifts += 1
        }
        // Prefill: reuse the shared prefix (at least one token must run, to get logits), run the rest.
        let started = DispatchTime.now().uptimeNanoseconds
        var logits = prefill(text, result: &result)
        result.prefillSeconds = seconds(since: started)
        let decodeStarted = DispatchTime.now().uptimeNanoseconds
        for step in 0..<request.maxNewTokens {
            let next = GPT.pick(from: logits, options: request.sampling, rng: &rng)
            result.tokens.append(next)
            text.append(next)
            if request.stopTokens.contains(next) {
                result.stopReason = .stopToken
                break
            }
            onToken(next)
            if step == request.maxNewTokens - 1 { break }   // the budget is spent: no need to run it
            // Decode: one position — or, when the context is full, a fresh window of its last tokens.
            if text.count > room {
                text = Array(text.suffix(room))
                result.contextShifts += 1
                logits = prefill(text, result: &result)
            } else {
                logits = run([next])
            }
            result.decodeSteps += 1
        }
        if result.decodeSteps > 0 { result.decodeSeconds = seconds(since: decodeStarted) }
        return result
    }

    /// Brings the cache to hold `text` (reusing the common prefix) and returns the next-token logits [V].
    private func prefill(_ text: [Int], result: inout Generation) -> [Float] {
        var shared = 0
        while shared < min(text.count - 1, cachedTokens.count) && cachedTokens[shared] == text[shared] { shared += 1 }
        // Keep the virtual tokens' positions (if any) and the shared real tokens.
        if shared == 0 { reset() } else {
            cache.truncate(to: model.virtualTokenCount + shared)
            cachedTokens.removeLast(cachedTokens.count - shared)
        }
        result.reusedTokens += shared
        result.prefillTokens += text.count - shared
        return run(Array(text[shared...]))
    }

    /// Runs `tokens` after the cached ones; returns the logits after the last [V].
    private func run(_ tokens: [Int]) -> [Float] {
        let logits = model(tokens.map(Int32.init), cache: cache, lastOnly: true)
        cachedTokens += tokens
        return logits.values
    }

    private func seconds(since start: UInt64) -> Double {
        Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }
}

extension GPT {
    /// Generates after `prompt` with a fresh KV cache sized to the request; see `GenerationSession`.
    public func generate(prompt: [Int], request: GenerationRequest, rng: inout RNG,
                         onToken: (Int) -> Void = { _ in }) -> Generation {
        let session = GenerationSession(model: self, capacity: min(prompt.count + request.maxNewTokens, config.contextLength))
        return session.generate(context: prompt, request: request, rng: &rng, onToken: onToken)
    }
}
