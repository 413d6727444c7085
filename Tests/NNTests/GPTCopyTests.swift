// GPTCopyTests.swift — a copy of a model shares no storage with the original.
import Testing
import Kernels
import NN
import TestSupport

@Suite struct GPTCopyTests {
    @Test func copyIsIndependent() {
        var rng = RNG(seed: 2)
        let model = GPT(config: TinyModels.gpt2, rng: &rng)
        let clone = model.copy()
        #expect(maxDifference(clone.parameters.map(\.values), model.parameters.map(\.values)) == 0)
        clone.parameters[0].data[0] += 1
        #expect(clone.parameters[0].data[0] != model.parameters[0].data[0])
    }
}
