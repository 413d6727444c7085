// ZooTests.swift — the PEFT zoo: which methods start as the identity, and how many parameters each trains.
import Testing
@testable import Autodiff
import NN
@testable import PEFT
import TestSupport

@Suite struct ZooTests {
    // loraTestConfig: GPT-2 flavour, vocabulary 23, context 8, width 16, 2 blocks, 2 heads, MLP 64.
    @Test(arguments: [PEFTMethod.bitFit, .ia3, .houlsby(bottleneck: 4), .lora(LoRAConfig(rank: 2))])
    func startsAsTheIdentity(method: PEFTMethod) throws {
        let m = model()
        let before = m(loraTestIDs, batch: 2, steps: 6)
        try PEFTZoo.apply(method, to: m, seed: 3)
        #expect(maxDifference(before, m(loraTestIDs, batch: 2, steps: 6)) < 1e-6, "\(method)")
    }

    @Test(arguments: [
        (PEFTMethod.bitFit, 2 * (16 + 48 + 16 + 16 + 64 + 16) + 16),   // biases: ln_1, c_attn, c_proj, ln_2, c_fc, c_proj; ln_f
        (.ia3, 2 * (2 * 16 + 64)),                                                    // l_k, l_v (2C) and l_ff (4C) per block
        (.houlsby(bottleneck: 4), 2 * 2 * (4 * 16 + 4 + 16 * 4 + 16)),               // two bottlenecks per block
        (.promptTuning(tokens: 3), 3 * 16),
        (.prefixTuning(tokens: 2), 2 * 2 * (2 * 2 * 8)),                              // keys + values [H, P, D] per block
    ])
    func trainableParametersByHand(method: PEFTMethod, expected: Int) throws {
        let m = model()
        #expect(try PEFTZoo.apply(method, to: m, seed: 3) == expected, "\(method)")
    }

    /// After one backward pass, exactly the method's own tensors — named here by hand, not read from
    /// `requiresGrad` — hold non-zero gradients, and every base tensor has none.
    @Test(arguments: [
        (PEFTMethod.promptTuning(tokens: 2), ["virtual_tokens"], 1),
        (.prefixTuning(tokens: 2), ["prefix_keys", "prefix_values"], 4),             // 2 blocks × keys, values
        (.ia3, ["ia3_l"], 4),                                                        // c_attn (k, v) and mlp c_proj per block
        // Houlsby's up-projection starts at 0, so only it (not the down-projection) has a gradient at step 0.
        (.houlsby(bottleneck: 4), ["adapter_up.weight", "adapter_up.bias"], 8),      // attn and mlp c_proj, 2 blocks
    ])
    func exactlyTheMethodsTensorsGetGradients(method: PEFTMethod, names: [String], count: Int) throws {
        let m = model()
        try PEFTZoo.apply(method, to: m, seed: 3)
        Tensor.crossEntropy(m(Array(loraTestIDs.prefix(6)), batch: 1, steps: 6), targets: Array(loraTestIDs.suffix(6))).backward()
        let withGradient = m.namedParameters().filter { $0.tensor.grad?.values.contains { $0 != 0 } == true }.map(\.name)
        #expect(withGradient.count == count, "\(method): \(withGradient)")
        #expect(withGradient.allSatisfy { name in names.contains { name.hasSuffix($0) } }, "\(method): \(withGradient)")
    }

    /// Prompt tuning's P virtual tokens take P of the context's positions; prefix tuning adds keys and
    /// values, not positions. With context 8 and P = 2: prompt tuning runs on 6 real tokens (8 positions
    /// in all), prefix tuning on 8, and in both the virtual part really reaches the output.
    /// (Exceeding the limit is a `require` in GPT's forward, a trap, so it is not exercised here.)
    @Test func promptTokensTakePositionsPrefixTokensDoNot() throws {
        let prompt = model()
        try PEFTZoo.apply(.promptTuning(tokens: 2), to: prompt, seed: 3)
        let ids6 = Array(loraTestIDs.prefix(6)), ids8 = Array(loraTestIDs.prefix(8))
        let before = prompt(ids6, batch: 1, steps: 6)
        #expect(before.shape == [6, 23])
        let tokens = try #require(prompt.promptPrefix).embeddings
        // (Not a constant shift: LayerNorm would remove it.)
        for i in 0..<tokens.count { tokens.data[i] += i % 2 == 0 ? 0.5 : -0.5 }
        #expect(maxDifference(before, prompt(ids6, batch: 1, steps: 6)) > 1e-3)
        let prefix = model()
        try PEFTZoo.apply(.prefixTuning(tokens: 2), to: prefix, seed: 3)
        let full = prefix(ids8, batch: 1, steps: 8)
        #expect(full.shape == [8, 23])
        let keys = try #require(prefix.blocks[0].attention.prefix?.keys)
        for i in 0..<keys.count { keys.data[i] *= -1 }
        #expect(maxDifference(full, prefix(ids8, batch: 1, steps: 8)) > 1e-3)
    }
}
