// ZooTests.swift — the PEFT zoo: which methods start as the identity, and how many parameters each trains.
import Testing
@testable import Autodiff
import NN
@testable import PEFT
import TestSupport

@Suite struct ZooTests {
    // loraTestConfig: GPT-2 flavour, vocabulary 23, context 8, width 16, 2 blocks, 2 heads, MLP 64.
    @Test(arguments: [PEFTMethod.bitFit, .ia3, .houlsby(bottleneck: 4), .lora(LoRAConfig(rank: 2))])
    func startsAsTheIdentity(method: PEFTMethod) {
        let m = model()
        let before = m(loraTestIDs, batch: 2, steps: 6)
        PEFTZoo.apply(method, to: m, seed: 3)
        #expect(maxDifference(before, m(loraTestIDs, batch: 2, steps: 6)) < 1e-6, "\(method)")
    }

    @Test(arguments: [
        (PEFTMethod.bitFit, 2 * (16 + 48 + 16 + 16 + 64 + 16) + 16),   // biases: ln_1, c_attn, c_proj, ln_2, c_fc, c_proj; ln_f
        (.ia3, 2 * (2 * 16 + 64)),                                                    // l_k, l_v (2C) and l_ff (4C) per block
        (.houlsby(bottleneck: 4), 2 * 2 * (4 * 16 + 4 + 16 * 4 + 16)),               // two bottlenecks per block
        (.promptTuning(tokens: 3), 3 * 16),
        (.prefixTuning(tokens: 2), 2 * 2 * (2 * 2 * 8)),                              // keys + values [H, P, D] per block
    ])
    func trainableParametersByHand(method: PEFTMethod, expected: Int) {
        let m = model()
        #expect(PEFTZoo.apply(method, to: m, seed: 3) == expected, "\(method)")
    }

    @Test(arguments: [PEFTMethod.promptTuning(tokens: 2), .prefixTuning(tokens: 2), .ia3, .houlsby(bottleneck: 4)])
    func onlyTheMethodsParametersGetGradients(method: PEFTMethod) {
        let m = model()
        PEFTZoo.apply(method, to: m, seed: 3)
        Tensor.crossEntropy(m(Array(loraTestIDs.prefix(6)), batch: 1, steps: 6), targets: Array(loraTestIDs.suffix(6))).backward()
        var trained = 0
        for (name, p) in m.namedParameters() {
            #expect((p.grad != nil) == p.requiresGrad, "\(name)")
            if p.grad?.values.contains(where: { $0 != 0 }) == true { trained += 1 }
        }
        #expect(trained > 0)
    }

    @Test func promptAndPrefixTuningSeeTheSameSequenceLengthLimit() {
        let m = model()
        PEFTZoo.apply(.promptTuning(tokens: 2), to: m, seed: 3)
        // Context 8 = 2 virtual tokens + at most 6 real ones.
        #expect(m(Array(loraTestIDs.prefix(6)), batch: 1, steps: 6).shape == [6, 23])
    }
}
