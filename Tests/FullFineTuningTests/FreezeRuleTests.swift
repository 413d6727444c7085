// FreezeRuleTests.swift — partial fine-tuning's freeze rules count and mark the right parameters.
import Testing
import Kernels
import NN
import FullFineTuning

@Suite struct FreezeRuleTests {
    @Test func freezeRuleCountsParameters() {
        var rng = RNG(seed: 1)
        let config = GPTConfig.gpt2(vocabularySize: 20, contextLength: 8, embeddingSize: 16, layers: 3, heads: 2)
        let model = GPT(config: config, rng: &rng)
        let perBlock = model.namedParameters().filter { $0.name.hasPrefix("h.0.") }.map(\.tensor.count).reduce(0, +)
        #expect(FreezeRule.lastBlocks(1, trainEmbeddings: false).apply(to: model) == perBlock + 2 * 16)   // + ln_f
        #expect(FreezeRule.lastBlocks(2, trainEmbeddings: true).apply(to: model) == 2 * perBlock + 2 * 16 + 20 * 16 + 8 * 16)
        #expect(FreezeRule.none.apply(to: model) == model.parameterCount())
        #expect(model.namedParameters().filter { $0.name.hasPrefix("h.0.") }.allSatisfy { $0.tensor.requiresGrad })
    }
}
