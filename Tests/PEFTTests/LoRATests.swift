// LoRATests.swift — LoRA's contracts: identity at start, merge/unmerge, frozen base, mixed batches,
// PEFT files, and the SVD underneath.
import Foundation
import Testing
import Kernels
@testable import Autodiff
import NN
import Checkpoints
@testable import PEFT
import TestSupport

let loraTestConfig = GPTConfig.gpt2(vocabularySize: 23, contextLength: 8, embeddingSize: 16, layers: 2, heads: 2)
let loraTestIDs: [Int32] = [1, 5, 7, 2, 9, 3, 4, 8, 11, 0, 6, 12]

func model(seed: UInt64 = 1) -> GPT {
    var rng = RNG(seed: seed)
    return GPT(config: loraTestConfig, rng: &rng)
}

/// Gives every B matrix random values (a fresh adapter is the identity; trained ones are not).
func randomizeB(_ model: GPT, _ name: String, seed: UInt64) {
    var rng = RNG(seed: seed)
    for (_, _, lora) in LoRA.loraLayers(of: model) {
        guard let b = lora.weights(name)?.b else { continue }
        for i in 0..<b.count { b.data[i] = rng.normal() * 0.1 }
    }
}

@Suite struct LoRATests {
    @Test(arguments: [LoRAConfig(rank: 4), LoRAConfig(rank: 4, useRSLoRA: true), LoRAConfig(rank: 2, useDoRA: true),
                      LoRAConfig(rank: 3, initialization: .gaussian), LoRAConfig(rank: 3, initialization: .pissa)])
    func startsAsTheIdentity(config: LoRAConfig) {
        let m = model()
        let before = m(loraTestIDs, batch: 2, steps: 6)
        LoRA.add("a", to: m, config: config, seed: 2)
        #expect(maxDifference(before, m(loraTestIDs, batch: 2, steps: 6)) < 1e-5)
    }

    @Test func onlyAdapterParametersTrainAndCountIsRTimesInPlusOut() {
        let m = model()
        let trainable = LoRA.add("a", to: m, config: LoRAConfig(rank: 4), seed: 2)
        // Per block: c_attn 16→48, attn c_proj 16→16, c_fc 16→64, mlp c_proj 64→16; r·(in + out) each.
        let perBlock = 4 * ((16 + 48) + (16 + 16) + (16 + 64) + (64 + 16))
        #expect(trainable == 2 * perBlock)
        #expect(LoRA.parameterCount("a", in: m) == trainable)
        let logits = m(loraTestIDs, batch: 2, steps: 6)
        Tensor.crossEntropy(logits, targets: loraTestIDs.map { ($0 + 1) % 23 }).backward()
        for (name, p) in m.namedParameters() {
            #expect((p.grad != nil) == name.contains(".a.lora_"), "\(name)")
        }
    }

    @Test func frozenBaseHasNoGradientOrOptimizerMemory() {
        let meter = MemoryMeter()
        meter.install {
            let m = model()
            let trainable = LoRA.add("a", to: m, config: LoRAConfig(rank: 4), seed: 2)
            let optimizer = AdamWForTests(m)
            Tensor.crossEntropy(m(loraTestIDs, batch: 2, steps: 6), targets: loraTestIDs).backward()
            optimizer.step()
            // Optimizer state: exactly two values per adapter parameter; no base gradients survive.
            #expect(meter.liveBytes(.optimizerState) == 2 * 4 * trainable)
            #expect(meter.liveBytes(.gradients) == 4 * trainable)
        }
    }

    @Test(arguments: [LoRAConfig(rank: 4), LoRAConfig(rank: 2, useDoRA: true)])
    func mergedAndUnmergedAgree(config: LoRAConfig) {
        let m = model()
        let original = m.parameters.map(\.values)
        LoRA.add("a", to: m, config: config, seed: 2)
        randomizeB(m, "a", seed: 3)
        let unmerged = m(loraTestIDs, batch: 2, steps: 6)
        LoRA.merge("a", into: m)
        let merged = m(loraTestIDs, batch: 2, steps: 6)
        #expect(maxDifference(merged, unmerged) < 1e-5)
        LoRA.unmerge("a", from: m)
        #expect(maxDifference(m(loraTestIDs, batch: 2, steps: 6), unmerged) < 1e-5)
        LoRA.remove("a", from: m)
        let restored = m.parameters.map(\.values)
        let worst = maxDifference(original, restored)
        #expect(worst < Tolerance.rounding, "unmerge restores W0: worst |Δ| \(worst)")
    }

    @Test func loraBranchGradientCheck() {
        var rng = RNG(seed: 4)
        let layer = Linear(5, 3, rng: &rng)
        let lora = LoRALayer()
        lora.add("a", config: LoRAConfig(rank: 2, alpha: 3), layer: layer, rng: &rng)
        lora.active = ["a"]
        layer.adapter = lora
        let w = lora.weights("a")!
        for i in 0..<w.b.count { w.b.data[i] = rng.normal() }
        let x = Tensor.randomNormal([4, 5], rng: &rng, requiresGrad: true)
        let result = GradientCheck.check([x, w.a, w.b]) { _ in layer(x) }
        #expect(result.passed, "\(result)")
    }

    @Test func mixedAdapterBatchEqualsSeparateRuns() {
        let m = model()
        LoRA.add("math", to: m, config: LoRAConfig(rank: 4), seed: 2)
        LoRA.add("poetry", to: m, config: LoRAConfig(rank: 2), seed: 3)
        randomizeB(m, "math", seed: 5)
        randomizeB(m, "poetry", seed: 6)
        let choices: [String?] = ["poetry", nil, "math"]
        let mixed = MultiAdapterServing.logits(m, ids: Array(loraTestIDs.prefix(12)), batch: 3, steps: 4, adapters: choices)
        for (row, choice) in choices.enumerated() {
            LoRA.setActive(choice.map { [$0] } ?? [], on: m)
            let alone = Tensor.withNoGrad { m(Array(loraTestIDs[(row * 4)..<(row * 4 + 4)]), batch: 1, steps: 4) }
            let slice = Array(mixed.values[(row * 4 * 23)..<((row + 1) * 4 * 23)])
            let worst = maxDifference(slice, alone.values)
            #expect(worst < Tolerance.rounding, "row \(row) (\(choice ?? "base")): \(worst)")
        }
        #expect(MultiAdapterServing.adapterBytes("math", in: m) == 4 * LoRA.parameterCount("math", in: m))
    }

    @Test func peftFilesRoundTripAndMismatchesAreNamed() throws {
        let m = model()
        LoRA.add("task", to: m, config: LoRAConfig(rank: 4, alpha: 8, targets: ["c_attn", "c_fc"]), seed: 2)
        randomizeB(m, "task", seed: 7)
        let expected = m(loraTestIDs, batch: 2, steps: 6)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("tinytune-adapter-\(UUID())")
        defer { try? FileManager.default.removeItem(at: folder) }
        try AdapterFiles.save("task", of: m, to: folder)
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent("adapter_config.json"))) as! [String: Any]
        #expect(json["peft_type"] as? String == "LORA" && json["r"] as? Int == 4 && json["fan_in_fan_out"] as? Bool == true)
        #expect(json["target_modules"] as? [String] == ["c_attn", "c_fc"])
        let file = try SafeTensors.File(contentsOf: folder.appendingPathComponent("adapter_model.safetensors"))
        #expect(file.tensors["base_model.model.transformer.h.0.attn.c_attn.lora_A.weight"]?.shape == [4, 16])
        #expect(file.tensors["base_model.model.transformer.h.1.mlp.c_fc.lora_B.weight"]?.shape == [64, 4])
        let fresh = model()
        try AdapterFiles.load("task", into: fresh, from: folder)
        #expect(maxDifference(fresh(loraTestIDs, batch: 2, steps: 6), expected) < 1e-6)
        // A model of another width cannot take this adapter: the error names the tensor.
        var rng = RNG(seed: 9)
        let wider = GPT(config: .gpt2(vocabularySize: 23, contextLength: 8, embeddingSize: 32, layers: 2, heads: 2), rng: &rng)
        #expect { try AdapterFiles.load("task", into: wider, from: folder) } throws: { error in
            "\(error)".contains("base_model.model.transformer.h.0.attn.c_attn.lora_A.weight")
        }
    }
}

@Suite struct SVDTests {
    @Test func reconstructsAndOrdersSingularValues() {
        var rng = RNG(seed: 3)
        let (rows, cols) = (7, 5)
        let matrix = (0..<(rows * cols)).map { _ in Double(rng.normal()) }
        for (r, c, values) in [(rows, cols, matrix), (cols, rows, matrix)] {
            let svd = SVD.decompose(values, rows: r, columns: c)
            #expect(svd.singularValues == svd.singularValues.sorted(by: >))
            for i in 0..<r {
                for j in 0..<c {
                    let rebuilt = (0..<svd.rank).reduce(0.0) { $0 + svd.u[i * svd.rank + $1] * svd.singularValues[$1] * svd.v[j * svd.rank + $1] }
                    #expect(abs(rebuilt - values[i * c + j]) < 1e-9)
                }
            }
        }
    }

    @Test func knownSpectrumAndTruncationError() {
        // diag(3, 2, 1) rotated: singular values 3, 2, 1; rank-1 error √(4 + 1)/√14.
        let svd = SVD.decompose([0, 3, 0, 2, 0, 0, 0, 0, 1], rows: 3, columns: 3)
        #expect(svd.singularValues.map { ($0 * 1e9).rounded() / 1e9 } == [3, 2, 1])
        #expect(abs(svd.relativeError(rank: 1) - (5.0 / 14).squareRoot()) < 1e-12)
        #expect(svd.relativeError(rank: 3) == 0)
    }
}

@Suite struct MergeAndUnloadTests {
    @Test func leavesAPlainModelWithTheSameOutputs() {
        let m = model()
        let baseCount = m.parameterCount()
        LoRA.add("a", to: m, config: LoRAConfig(rank: 4), seed: 2)
        randomizeB(m, "a", seed: 8)
        let adapted = m(loraTestIDs, batch: 2, steps: 6)
        LoRA.mergeAndUnload("a", from: m)
        #expect(LoRA.loraLayers(of: m).isEmpty)
        #expect(m.parameterCount() == baseCount)
        #expect(maxDifference(m(loraTestIDs, batch: 2, steps: 6), adapted) < 1e-5)
    }
}
