// GPTTests.swift — the model's structure (names, counts) and behaviour (causality, gradients).
import Testing
import Kernels
@testable import Autodiff
@testable import NN
import TestSupport

@Suite struct GPTTests {
    static let gpt2 = TinyModels.gpt2
    static let llama = TinyModels.llama

    @Test func gpt2ParameterNamesFollowHuggingFace() {
        var rng = RNG(seed: 1)
        let names = GPT(config: Self.gpt2, rng: &rng).namedParameters().map(\.name)
        #expect(names.prefix(4) == ["wte.weight", "wpe.weight", "h.0.ln_1.weight", "h.0.ln_1.bias"])
        #expect(names.contains("h.1.attn.c_attn.weight"))
        #expect(names.contains("h.1.mlp.c_proj.bias"))
        #expect(names.last == "ln_f.bias")
    }

    @Test func parameterCountsMatchTheFormula() {
        var rng = RNG(seed: 1)
        let (v, t, c, l) = (11, 8, 12, 2)
        // GPT-2: wte + wpe + per block (2 LN·2C + qkv C·3C+3C + proj C·C+C + fc C·4C+4C + proj 4C·C+C) + ln_f.
        let perBlock = 4 * c + (3 * c * c + 3 * c) + (c * c + c) + (4 * c * c + 4 * c) + (4 * c * c + c)
        #expect(GPT(config: Self.gpt2, rng: &rng).parameterCount() == v * c + t * c + l * perBlock + 2 * c)
        // Llama: embed + per block (2 norms C + q C·C + k,v C·(Hkv·D) + o C·C + 3 C·M) + norm + head.
        let (cl, m, kv) = (16, 24, 2 * 4)
        let llamaBlock = 2 * cl + cl * cl + 2 * cl * kv + cl * cl + 3 * cl * m
        #expect(GPT(config: Self.llama, rng: &rng).parameterCount() == v * cl + l * llamaBlock + cl + v * cl)
    }

    @Test(arguments: [GPTTests.gpt2, GPTTests.llama])
    func futureTokensDoNotChangePastLogits(config: GPTConfig) {
        var rng = RNG(seed: 2)
        let model = GPT(config: config, rng: &rng)
        let a: [Int32] = [1, 2, 3, 4, 5, 6]
        var b = a
        b[4] = 9
        let la = model(a, batch: 1, steps: 6), lb = model(b, batch: 1, steps: 6)
        let v = config.vocabularySize
        // Rows 0..3 only see tokens 0..3, identical in both sequences.
        #expect(Array(la.values[0..<(4 * v)]) == Array(lb.values[0..<(4 * v)]))
        #expect(Array(la.values[(4 * v)...]) != Array(lb.values[(4 * v)...]))
    }

    @Test(arguments: [GPTTests.gpt2, GPTTests.llama])
    func everyParameterReceivesAGradient(config: GPTConfig) {
        var rng = RNG(seed: 3)
        let model = GPT(config: config, rng: &rng)
        let logits = model([1, 2, 3, 4, 5, 6, 7, 8], batch: 2, steps: 4)
        Tensor.crossEntropy(logits, targets: [2, 3, 4, 5, 6, 7, 8, 9]).backward()
        for (name, p) in model.namedParameters() {
            let g = p.grad?.values ?? []
            #expect(g.contains { $0 != 0 }, "no gradient reached \(name)")
        }
    }

    @Test func activationCheckpointingGivesTheSameGradients() {
        var rng = RNG(seed: 4)
        let model = GPT(config: Self.llama, rng: &rng)
        func gradients() -> [[Float]] {
            model.zeroGrad()
            let logits = model([1, 2, 3, 4, 5, 6, 7, 8], batch: 2, steps: 4)
            Tensor.crossEntropy(logits, targets: [2, 3, 4, 5, 6, 7, 8, 9]).backward()
            return model.parameters.map { $0.grad!.values }
        }
        let plain = gradients()
        model.checkpointActivations = true
        let recomputed = gradients()
        #expect(plain == recomputed)
    }

    @Test func frozenBaseHasNoGradients() {
        var rng = RNG(seed: 5)
        let model = GPT(config: Self.gpt2, rng: &rng)
        model.setTrainable(false)
        let matched = model.setTrainable(true) { $0.hasPrefix("h.1.") }
        #expect(matched == 12)
        let logits = model([1, 2, 3, 4], batch: 1, steps: 4)
        Tensor.crossEntropy(logits, targets: [2, 3, 4, 5]).backward()
        for (name, p) in model.namedParameters() {
            #expect((p.grad != nil) == name.hasPrefix("h.1."), "\(name)")
        }
    }

    @Test func greedyPickAndSeededSampling() {
        var rng = RNG(seed: 6)
        #expect(GPT.pick(from: [0.1, 3, 2], options: .greedy, rng: &rng) == 1)
        // top-k 1 at any temperature is greedy.
        #expect(GPT.pick(from: [0.1, 3, 2], options: SamplingOptions(temperature: 5, topK: 1), rng: &rng) == 1)
        // Frequencies follow softmax([0, log 3]) = [0.25, 0.75] at temperature 1.
        var counts = [0, 0]
        for _ in 0..<4000 { counts[GPT.pick(from: [0, 1.0986123], options: SamplingOptions(temperature: 1), rng: &rng)] += 1 }
        #expect(abs(Double(counts[1]) / 4000 - 0.75) < 0.03)
    }
}
