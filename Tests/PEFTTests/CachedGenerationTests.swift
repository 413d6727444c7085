// CachedGenerationTests.swift — PEFT methods through NN's hooks under KV-cached generation: the
// cached logits equal the full forward's with prompt tuning (virtual tokens take the first cache
// positions), prefix tuning (learned keys/values per query head, also with grouped KV heads) and LoRA.
import Testing
import Kernels
@testable import Autodiff
import NN
@testable import PEFT
import TestSupport

@Suite struct CachedGenerationTests {
    static let gpt2 = GPTConfig.gpt2(vocabularySize: 23, contextLength: 12, embeddingSize: 16, layers: 2, heads: 2)
    static let llama = GPTConfig.llama(vocabularySize: 23, contextLength: 12, embeddingSize: 16, layers: 2, heads: 4,
                                       kvHeads: 2, mlpSize: 24)
    static let ids: [Int32] = [1, 5, 7, 2, 9, 3, 4, 8, 11]

    /// Full-forward logits of `ids` and the same rows through the cache (prefill 3, then one by one).
    static func fullAndCached(_ model: GPT) -> (full: Tensor, cached: Tensor) {
        let full = model(ids, batch: 1, steps: ids.count)
        let cache = KVCache(config: model.config, capacity: 4)
        var rows = model(Array(ids.prefix(3)), cache: cache).values
        for id in ids.dropFirst(3) { rows += model([id], cache: cache).values }
        return (full, Tensor(rows, shape: full.shape))
    }

    @Test(arguments: [(GPTConfig, PEFTMethod)]([
        (gpt2, .promptTuning(tokens: 3)), (llama, .promptTuning(tokens: 3)),
        (gpt2, .prefixTuning(tokens: 2)), (llama, .prefixTuning(tokens: 2)),
        (llama, .ia3), (gpt2, .houlsby(bottleneck: 4)),
    ]))
    func cachedLogitsEqualTheFullForward(config: GPTConfig, method: PEFTMethod) {
        var rng = RNG(seed: 1)
        let model = GPT(config: config, rng: &rng)
        PEFTZoo.apply(method, to: model, seed: 3)
        // Move the method's parameters away from their identity start (IA3 ones, zero adapter ups).
        for (_, p) in model.namedParameters() where p.requiresGrad { p.assign(Tensor.randomNormal(p.shape, std: 0.5, rng: &rng)) }
        let (full, cached) = Self.fullAndCached(model)
        #expect(maxDifference(full, cached) < 1e-4, "\(method)")
        // And the method matters: without it the logits differ.
        let plain = GPT(config: config, rng: &rng)
        for ((_, a), (_, b)) in zip(plain.namedParameters(), model.namedParameters().filter { !$0.tensor.requiresGrad }) { a.assign(b) }
        #expect(maxDifference(plain(Self.ids, batch: 1, steps: Self.ids.count), full) > 1e-3, "\(method)")
    }

    @Test func promptTuningCountsItsVirtualTokensAgainstTheContext() {
        var rng = RNG(seed: 2)
        let model = GPT(config: Self.llama, rng: &rng)
        PEFTZoo.apply(.promptTuning(tokens: 3), to: model, seed: 3)
        let session = GenerationSession(model: model)
        #expect(session.room == 9)
        // The first call places the 3 virtual tokens, then the 2 real ones.
        _ = model([1, 2], cache: session.cache)
        #expect(session.cache.count == 5)
    }

    @Test func loraAdaptersAreUsedByTheCachedPath() {
        var rng = RNG(seed: 4)
        let model = GPT(config: Self.llama, rng: &rng)
        LoRA.add("default", to: model, config: LoRAConfig(rank: 2), seed: 5)
        randomizeB(model, "default", seed: 6)
        let (full, cached) = Self.fullAndCached(model)
        #expect(maxDifference(full, cached) < 1e-4)
    }
}
