// Tensor-name maps: the fixtures written by transformers match them exactly, and a report lists
// every missing, unexpected and mis-shaped tensor by name.

import Foundation
import Testing
@testable import Checkpoints

@Suite struct TensorNameMapTests {
    static let tinyGPT2 = HFConfig.GPT2(vocabSize: 64, nPositions: 32, nEmbd: 32, nLayer: 2, nHead: 2)

    @Test func gpt2MapCountsAndShapes() {
        let map = TensorNameMap.gpt2(Self.tinyGPT2)
        // 2 embeddings + 12 per block + 2 final-norm tensors.
        #expect(map.required.count == 2 + 12 * 2 + 2)
        let shapes = Dictionary(uniqueKeysWithValues: map.required.map { ($0.name, $0.shape) })
        #expect(shapes["h.1.attn.c_attn.weight"] == [32, 96])
        #expect(shapes["h.0.mlp.c_fc.weight"] == [32, 128])
        #expect(shapes["h.0.mlp.c_proj.weight"] == [128, 32])
        #expect(map.optional == [.init(name: "lm_head.weight", shape: [64, 32])])
        // Untied: the head becomes required.
        var untied = Self.tinyGPT2
        untied.tieWordEmbeddings = false
        #expect(TensorNameMap.gpt2(untied).required.contains(.init(name: "lm_head.weight", shape: [64, 32])))
    }

    @Test func llamaMapUsesGroupedKeyValueShapes() {
        let config = HFConfig.Llama(vocabSize: 64, hiddenSize: 32, intermediateSize: 64, numHiddenLayers: 2,
                                    numAttentionHeads: 4, numKeyValueHeads: 2, rmsNormEps: 1e-5, maxPositionEmbeddings: 32)
        let map = TensorNameMap.llama(config)
        // embed + 9 per layer + norm + lm_head.
        #expect(map.required.count == 1 + 9 * 2 + 1 + 1)
        let shapes = Dictionary(uniqueKeysWithValues: map.required.map { ($0.name, $0.shape) })
        #expect(shapes["model.layers.0.self_attn.q_proj.weight"] == [32, 32])
        #expect(shapes["model.layers.0.self_attn.k_proj.weight"] == [16, 32])
        #expect(shapes["model.layers.1.self_attn.v_proj.weight"] == [16, 32])
        #expect(shapes["model.layers.1.mlp.down_proj.weight"] == [32, 64])
        var biased = config
        biased.attentionBias = true
        #expect(TensorNameMap.llama(biased).required.contains(.init(name: "model.layers.0.self_attn.k_proj.bias", shape: [16])))
    }

    @Test func fixturesValidateAgainstTheirMaps() throws {
        let root = try fixturesURL()
        let gpt2 = try HFCheckpoint(directory: root.appendingPathComponent("tiny-gpt2"))
        #expect(gpt2.fileNames["wte.weight"] == "transformer.wte.weight")
        #expect(gpt2.fileNames.count == 28)
        #expect(!gpt2.contains("lm_head.weight"))  // tied: transformers does not save it
        #expect(try gpt2.shape("h.0.attn.c_attn.weight") == [32, 96])
        #expect(try gpt2.floats("ln_f.weight").count == 32)

        let llama = try HFCheckpoint(directory: root.appendingPathComponent("tiny-llama"))
        #expect(llama.fileNames.count == 21)
        #expect(try llama.shape("model.layers.1.self_attn.k_proj.weight") == [16, 32])
        #expect(try llama.floats("lm_head.weight").count == 64 * 32)
    }

    @Test func unprefixedAndIgnoredNamesAreAccepted() {
        let map = TensorNameMap.gpt2(Self.tinyGPT2)
        var shapes = Dictionary(uniqueKeysWithValues: map.required.map { ($0.name, $0.shape) })
        shapes["h.0.attn.bias"] = [1, 1, 32, 32]  // old causal-mask buffer
        shapes["lm_head.weight"] = [64, 32]
        let report = map.validate(shapes: shapes)
        #expect(report.isValid, "\(report)")
        #expect(report.fileNames["h.0.attn.bias"] == nil)
        #expect(report.fileNames["lm_head.weight"] == "lm_head.weight")
    }

    @Test func reportListsEveryProblemByName() {
        let map = TensorNameMap.gpt2(Self.tinyGPT2)
        var shapes = Dictionary(uniqueKeysWithValues: map.required.map { ("transformer." + $0.name, $0.shape) })
        shapes["transformer.h.1.ln_2.bias"] = nil
        shapes["transformer.ln_f.weight"] = nil
        shapes["transformer.h.2.ln_1.weight"] = [32]                 // a third block the config does not have
        shapes["transformer.h.0.attn.c_attn.weight"] = [96, 32]     // transposed
        shapes["lm_head.weight"] = [32, 64]                          // optional, but then it must fit
        let report = map.validate(shapes: shapes)
        #expect(!report.isValid)
        #expect(report.missing == ["h.1.ln_2.bias", "ln_f.weight"])
        #expect(report.unexpected == ["transformer.h.2.ln_1.weight"])
        #expect(report.wrongShapes == [
            .init(name: "h.0.attn.c_attn.weight", fileName: "transformer.h.0.attn.c_attn.weight", expected: [32, 96], actual: [96, 32]),
            .init(name: "lm_head.weight", fileName: "lm_head.weight", expected: [64, 32], actual: [32, 64]),
        ])
        #expect(report.description.contains("transformer.h.0.attn.c_attn.weight: expected [32, 96], found [96, 32]"))
    }

    @Test func sameTensorUnderTwoSpellingsIsUnexpected() {
        let map = TensorNameMap(required: [.init(name: "wte.weight", shape: [2])], strippablePrefixes: ["transformer."])
        let report = map.validate(shapes: ["wte.weight": [2], "transformer.wte.weight": [2]])
        #expect(report.unexpected == ["wte.weight"])
        #expect(report.fileNames == ["wte.weight": "transformer.wte.weight"])
    }

    @Test func checkpointLoaderThrowsTheReport() throws {
        // A Llama config against the GPT-2 weights: everything is missing or unexpected.
        let root = try fixturesURL()
        let architecture = try HFConfig.Architecture(contentsOf: root.appendingPathComponent("tiny-llama/config.json"))
        let file = try SafeTensors.File(contentsOf: root.appendingPathComponent("tiny-gpt2/model.safetensors"))
        do {
            _ = try HFCheckpoint(architecture: architecture, file: file, label: "tiny-gpt2")
            Issue.record("mismatched checkpoint accepted")
        } catch let mismatch as TensorNameMap.Mismatch {
            #expect(mismatch.report.missing.count == 21)
            #expect(mismatch.report.unexpected.count == 28)
            #expect(mismatch.description.hasPrefix("tiny-gpt2 does not match"))
        }
    }
}
