// GPTCopyTests.swift — a copy of a model shares no storage with the original.
import Testing
import Kernels
import NN

@Suite struct GPTCopyTests {
    @Test func copyIsIndependent() {
        var rng = RNG(seed: 2)
        let model = GPT(config: .gpt2(vocabularySize: 20, contextLength: 8, embeddingSize: 16, layers: 1, heads: 2), rng: &rng)
        let clone = model.copy()
        #expect(clone.parameters.map(\.values) == model.parameters.map(\.values))
        clone.parameters[0].data[0] += 1
        #expect(clone.parameters[0].data[0] != model.parameters[0].data[0])
    }
}
