// GenerationTests.swift — the KV-cached forward pass against the full one, and the generation loop
// against a naive loop that re-runs the whole context for every token.
import Foundation
import Testing
import Kernels
@testable import Autodiff
@testable import NN
import TestSupport

/// Models with weights large enough (std 0.3) that attention is far from uniform: a cached path that
/// read the wrong positions or heads would change the logits by much more than the tolerance.
func peakyModel(_ config: GPTConfig, seed: UInt64) -> GPT {
    var rng = RNG(seed: seed)
    let model = GPT(config: config, rng: &rng)
    for p in model.parameters { p.assign(Tensor.randomNormal(p.shape, std: 0.3, rng: &rng)) }
    return model
}

@Suite struct GenerationTests {
    // GPT-2 flavour (learned positions, fused QKV) and Llama (RoPE, RMSNorm, SwiGLU, 4 query heads
    // sharing 2 KV heads).
    static let gpt2 = GPTConfig.gpt2(vocabularySize: 13, contextLength: 12, embeddingSize: 12, layers: 2, heads: 3)
    static let llama = GPTConfig.llama(vocabularySize: 13, contextLength: 12, embeddingSize: 16, layers: 2, heads: 4,
                                       kvHeads: 2, mlpSize: 24)
    static let sequence: [Int32] = [3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8]

    /// Logits of `sequence` computed through the cache in chunks of the given sizes ([T, V] rows in order).
    static func cachedLogits(_ model: GPT, chunks: [Int], capacity: Int) -> (rows: [Float], cache: KVCache) {
        let cache = KVCache(config: model.config, capacity: capacity)
        var rows: [Float] = [], start = 0
        for size in chunks {
            rows += model(Array(sequence[start..<start + size]), cache: cache).values
            start += size
        }
        return (rows, cache)
    }

    @Test(arguments: [GenerationTests.gpt2, GenerationTests.llama])
    func cachedLogitsEqualTheFullForwardAtEveryPosition(config: GPTConfig) {
        let model = peakyModel(config, seed: 1)
        let full = model(Self.sequence, batch: 1, steps: Self.sequence.count).values
        // Prefill of 3, then one position per step (decode); and an uneven chunking (3, 4, 1, 4).
        for chunks in [[3] + Array(repeating: 1, count: 9), [3, 4, 1, 4]] {
            let (cached, cache) = Self.cachedLogits(model, chunks: chunks, capacity: 12)
            #expect(cache.count == 12)
            #expect(maxDifference(cached, full) < 1e-4, "chunks \(chunks)")
        }
        // The comparison has teeth: the same tokens one position later give clearly different logits.
        let shifted = model([0] + Self.sequence.prefix(11), batch: 1, steps: 12).values
        #expect(maxDifference(Array(shifted[13...]), Array(full[..<(11 * 13)])) > 0.05)
    }

    /// A model prepacked for inference gives the dense model's logits, full forward and cached decode.
    /// (Bitwise equality holds only where the dense product takes the packed GEMM; these tiny layers
    /// partly go through SmallGEMM, so the bar is rounding. Kernels' PrepackedWeightTests check bits.)
    @Test(arguments: [GenerationTests.gpt2, GenerationTests.llama])
    func prepackedModelGivesTheDenseModelsLogits(config: GPTConfig) {
        let dense = peakyModel(config, seed: 4), packed = peakyModel(config, seed: 4)
        #expect(packed.prepackForInference() == config.layers * (config.flavour == .llama ? 7 : 4))
        let expected = Tensor.withNoGrad { dense(Self.sequence, batch: 1, steps: Self.sequence.count).values }
        let got = Tensor.withNoGrad { packed(Self.sequence, batch: 1, steps: Self.sequence.count).values }
        #expect(maxDifference(got, expected) < 1e-5)
        let (decoded, _) = Self.cachedLogits(packed, chunks: [5] + Array(repeating: 1, count: 7), capacity: 12)
        #expect(maxDifference(decoded, expected) < 1e-4)
    }

    @Test(arguments: [GenerationTests.gpt2, GenerationTests.llama])
    func lastOnlyIsTheLastRow(config: GPTConfig) {
        let model = peakyModel(config, seed: 2)
        let cache = KVCache(config: config, capacity: 12)
        let last = model(Array(Self.sequence.prefix(5)), cache: cache, lastOnly: true)
        let full = model(Array(Self.sequence.prefix(5)), batch: 1, steps: 5).values
        #expect(last.shape == [1, 13])
        #expect(maxDifference(last.values, Array(full[(4 * 13)...])) < 1e-4)
    }

    /// A prompt long enough that the cached attention shares its heads out over two threads (8 heads ×
    /// 96² positions × 16 dims, above the split threshold): the logits equal the full forward's and are
    /// bitwise the same on one thread.
    @Test func aLongPrefillSplitsItsHeadsAndStillEqualsTheFullForward() {
        let config = GPTConfig.llama(vocabularySize: 13, contextLength: 96, embeddingSize: 128, layers: 1, heads: 8,
                                     kvHeads: 4, mlpSize: 32)
        var rng = RNG(seed: 6)
        let model = GPT(config: config, rng: &rng)
        for p in model.parameters { p.assign(Tensor.randomNormal(p.shape, std: 0.1, rng: &rng)) }
        let ids = (0..<96).map { Int32(($0 * 7 + 3) % 13) }
        let full = model(ids, batch: 1, steps: 96).values
        func prefill(threads: Int) -> (logits: [Float], splits: Int) {
            let counter = SplitCounter()
            let logits = Parallelism.$splitCounter.withValue(counter) {
                Parallelism.$threads.withValue(threads) { model(ids, cache: KVCache(config: config, capacity: 96)).values }
            }
            return (logits, counter.count)
        }
        let (one, two) = (prefill(threads: 1), prefill(threads: 2))
        #expect(two.splits > one.splits)
        #expect(one.logits == two.logits)
        #expect(maxDifference(two.logits, full) < 1e-4)
    }

    @Test func theCacheGrowsByDoublingAndDecodeDoesNotReallocate() {
        let model = peakyModel(Self.llama, seed: 3)
        let full = model(Self.sequence, batch: 1, steps: 12).values
        // Room for 2: grows 2 → 4 → 8 → 12 (clamped to the context); the logits are unaffected.
        let (grown, small) = Self.cachedLogits(model, chunks: Array(repeating: 1, count: 12), capacity: 2)
        #expect(small.growths == 3 && small.capacity == 12)
        #expect(maxDifference(grown, full) < 1e-4)
        // Reserved up front: twelve decode steps, no reallocation.
        let (_, sized) = Self.cachedLogits(model, chunks: [4] + Array(repeating: 1, count: 8), capacity: 12)
        #expect(sized.growths == 0)
    }

    @Test func theCachedPathRecordsNoTape() {
        let model = peakyModel(Self.gpt2, seed: 4)
        #expect(model.parameters.allSatisfy { $0.requiresGrad })
        let logits = model([1, 2, 3], cache: KVCache(config: Self.gpt2, capacity: 4))
        #expect(!logits.requiresGrad)
    }

    /// The reference: greedy decoding by re-running the full forward on the last contextLength tokens.
    static func naiveGreedy(_ model: GPT, prompt: [Int], count: Int) -> [Int] {
        var tokens = prompt, produced: [Int] = []
        for _ in 0..<count {
            let window = Array(tokens.suffix(model.config.contextLength))
            let logits = model(window.map(Int32.init), batch: 1, steps: window.count).values
            let last = Array(logits.suffix(model.config.vocabularySize))
            let next = last.indices.max { last[$0] < last[$1] || (last[$0] == last[$1] && $0 > $1) }!
            tokens.append(next)
            produced.append(next)
        }
        return produced
    }

    @Test(arguments: [GenerationTests.gpt2, GenerationTests.llama])
    func greedyGenerationEqualsTheNaiveLoopEvenPastTheContext(config: GPTConfig) {
        let model = peakyModel(config, seed: 5)
        let prompt = [3, 1, 4, 1, 5]
        // 5 + 15 tokens > context 12: the window slides, as the naive loop's does.
        var rng = RNG(seed: 0)
        let result = model.generate(prompt: prompt, request: GenerationRequest(maxNewTokens: 15), rng: &rng)
        #expect(result.tokens == Self.naiveGreedy(model, prompt: prompt, count: 15))
        #expect(result.stopReason == .maxTokens)
        #expect(result.contextShifts == 7)   // steps 8…14 each made the text 13 > 12 tokens long (the 15th is never run)
    }

    @Test func stopTokensEndTheReplyAndAreNotStreamed() {
        let model = peakyModel(Self.llama, seed: 6)
        var rng = RNG(seed: 0)
        let free = model.generate(prompt: [2, 7], request: GenerationRequest(maxNewTokens: 8), rng: &rng).tokens
        // Stop at the first token not produced before it.
        guard let index = free.indices.first(where: { $0 > 0 && !free[..<$0].contains(free[$0]) }) else {
            Issue.record("the reference run repeats one token: \(free)"); return
        }
        var streamed: [Int] = []
        let stopped = model.generate(prompt: [2, 7], request: GenerationRequest(maxNewTokens: 8, stopTokens: [free[index], 99]),
                                     rng: &rng) { streamed.append($0) }
        #expect(stopped.tokens == Array(free[...index]))
        #expect(stopped.stopReason == .stopToken)
        #expect(streamed == Array(free[..<index]))
    }

    @Test func seededSamplingIsReproducible() {
        let model = peakyModel(Self.gpt2, seed: 7)
        let request = GenerationRequest(maxNewTokens: 20, sampling: SamplingOptions(temperature: 1.5, topK: 8, topP: 0.95))
        func sample(_ seed: UInt64) -> [Int] {
            var rng = RNG(seed: seed)
            return model.generate(prompt: [1, 2], request: request, rng: &rng).tokens
        }
        #expect(sample(11) == sample(11))
        #expect(sample(11) != sample(12))
    }

    @Test func aSessionReusesTheSharedPrefixAndGivesTheSameAnswer() {
        let model = peakyModel(Self.llama, seed: 8)
        let session = GenerationSession(model: model, capacity: 4)
        var rng = RNG(seed: 0)
        let first = session.generate(context: [1, 2, 3], request: GenerationRequest(maxNewTokens: 3), rng: &rng)
        // The next turn: everything so far, plus two new tokens.
        let next = [1, 2, 3] + first.tokens + [4, 5]
        let continued = session.generate(context: next, request: GenerationRequest(maxNewTokens: 3), rng: &rng)
        // Cached: the 3 prompt tokens and the 2 fed-back replies (the last reply token was never run).
        #expect(continued.reusedTokens == 5 && continued.prefillTokens == 3)
        let fresh = model.generate(prompt: next, request: GenerationRequest(maxNewTokens: 3), rng: &rng)
        #expect(continued.tokens == fresh.tokens)
        #expect(fresh.reusedTokens == 0 && fresh.prefillTokens == 8)
    }
}

@Suite struct SamplingTests {
    @Test func topKOneIsGreedyAtAnyTemperature() {
        var rng = RNG(seed: 1)
        #expect(GPT.pick(from: [0.1, 3, 2], options: SamplingOptions(temperature: 5, topK: 1), rng: &rng) == 1)
        #expect(GPT.pick(from: [0.1, 3, 2], options: SamplingOptions(temperature: 5, topP: 1e-6), rng: &rng) == 1)
    }

    @Test func topPKeepsTheSmallestNucleusAndDrawsFromItByHand() {
        // p = [0.5, 0.3, 0.15, 0.05] at temperature 1; top-p 0.75 keeps {0, 1} (0.5 < 0.75 ≤ 0.8),
        // renormalised to [0.625, 0.375]: token 0 iff u · 0.8 < 0.5 for the draw u.
        let logits: [Float] = [0.5, 0.3, 0.15, 0.05].map { Float(log(Double($0))) }
        var counts = [0, 0, 0, 0]
        for seed in UInt64(0)..<300 {
            var rng = RNG(seed: seed), copy = rng
            let choice = GPT.pick(from: logits, options: SamplingOptions(temperature: 1, topP: 0.75), rng: &rng)
            let u = Double(copy.uniform())
            #expect(choice == (u * 0.8 < 0.5 ? 0 : 1), "seed \(seed)")
            counts[choice] += 1
        }
        #expect(counts[2] == 0 && counts[3] == 0 && counts[0] > counts[1])
    }

    @Test func topKThenTopPAtATemperature() {
        // Temperature 0.5 squares the probabilities: [0.5, 0.3, 0.15, 0.05]² ∝ [0.25, 0.09, 0.0225, 0.0025];
        // top-k 3 drops the last; top-p 0.7 of the remaining mass 0.3625 → 0.25 alone is 69% < 70%, so {0, 1}.
        let logits: [Float] = [0.5, 0.3, 0.15, 0.05].map { Float(log(Double($0))) }
        for seed in UInt64(0)..<200 {
            var rng = RNG(seed: seed), copy = rng
            let choice = GPT.pick(from: logits, options: SamplingOptions(temperature: 0.5, topK: 3, topP: 0.7), rng: &rng)
            #expect(choice == (Double(copy.uniform()) * 0.34 < 0.25 ? 0 : 1), "seed \(seed)")
        }
    }
}
