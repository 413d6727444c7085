// PrepackedLoRATests.swift — LoRA on a model prepacked for inference (NN/GPT+Prepack.swift), as
// `tinytune generate --adapter` runs it: the outputs of the dense model with the same adapter, and a
// DoRA layer (which reads the dense weight) left unpacked rather than broken.
import Testing
import Kernels
import Autodiff
import NN
@testable import PEFT
import TestSupport

@Suite struct PrepackedLoRATests {
    @Test(arguments: [LoRAConfig(rank: 4), LoRAConfig(rank: 2, useDoRA: true)])
    func anAdapterOnAPrepackedModelGivesTheDenseOutputs(config: LoRAConfig) throws {
        // Two identical models with the same (non-identity) adapter; one of them prepacked.
        let dense = model(), packed = model()
        for m in [dense, packed] {
            try LoRA.add("a", to: m, config: config, seed: 2)
            randomizeB(m, "a", seed: 3)
            m.setTrainable(false)
        }
        let layers = packed.prepackForInference()
        // GPT-2 flavour: 4 linear layers per block; a DoRA adapter keeps every adapted layer dense.
        #expect(layers == (config.useDoRA ? 0 : 4 * loraTestConfig.layers))
        let expected = Tensor.withNoGrad { dense(loraTestIDs, batch: 2, steps: 6).values }
        let got = Tensor.withNoGrad { packed(loraTestIDs, batch: 2, steps: 6).values }
        #expect(maxDifference(got, expected) < 1e-5)
        // The comparison has teeth: without the adapter the outputs differ clearly.
        let base = Tensor.withNoGrad { model()(loraTestIDs, batch: 2, steps: 6).values }
        #expect(maxDifference(base, expected) > 1e-3)
    }
}
