// config.json parsing: the committed fixtures decode to the values make_fixtures.py set, real hub
// configs without optional keys get HF's defaults, and every missing or mistyped key is named.

import Foundation
import Testing
@testable import Checkpoints

@Suite struct HFConfigTests {
    @Test func tinyGPT2FixtureDecodes() throws {
        let config = try HFConfig.GPT2(contentsOf: fixturesURL().appendingPathComponent("tiny-gpt2/config.json"))
        #expect(config == HFConfig.GPT2(vocabSize: 64, nPositions: 32, nEmbd: 32, nLayer: 2, nHead: 2, nInner: 128,
                                        layerNormEpsilon: 1e-5, activationFunction: "gelu_new", tieWordEmbeddings: true))
        #expect(config.headDim == 16)
    }

    @Test func tinyLlamaFixtureDecodes() throws {
        let config = try HFConfig.Llama(contentsOf: fixturesURL().appendingPathComponent("tiny-llama/config.json"))
        #expect(config.vocabSize == 64)
        #expect(config.hiddenSize == 32)
        #expect(config.intermediateSize == 64)
        #expect(config.numHiddenLayers == 2)
        #expect(config.numAttentionHeads == 4)
        #expect(config.numKeyValueHeads == 2)
        #expect(config.headDim == 8)
        #expect(config.rmsNormEps == 1e-5)
        // transformers 5 moved rope_theta into "rope_parameters"; the fixture has it only there.
        #expect(config.ropeTheta == 10_000)
        #expect(config.maxPositionEmbeddings == 32)
        #expect(config.tieWordEmbeddings == false)
        #expect(config.hiddenAct == "silu")
    }

    @Test func architectureDispatchesOnModelType() throws {
        let root = try fixturesURL()
        guard case .gpt2 = try HFConfig.Architecture(contentsOf: root.appendingPathComponent("tiny-gpt2/config.json")) else {
            Issue.record("tiny-gpt2 is not gpt2"); return
        }
        guard case .llama = try HFConfig.Architecture(contentsOf: root.appendingPathComponent("tiny-llama/config.json")) else {
            Issue.record("tiny-llama is not llama"); return
        }
        #expect(throws: HFConfig.Error.unsupportedModelType("bert", file: "c.json")) {
            try HFConfig.Architecture(json: Data(#"{"model_type":"bert"}"#.utf8), file: "c.json")
        }
    }

    @Test func originalGPT2HubConfigUsesHFDefaults() throws {
        // The keys of openai-community/gpt2's config.json that matter: no tie_word_embeddings, no n_inner.
        let json = #"{"activation_function":"gelu_new","layer_norm_epsilon":1e-05,"model_type":"gpt2","n_ctx":1024,"n_embd":768,"n_head":12,"n_layer":12,"n_positions":1024,"vocab_size":50257}"#
        let config = try HFConfig.GPT2(json: Data(json.utf8))
        #expect(config.tieWordEmbeddings == true)
        #expect(config.nInner == 3072)
        #expect(config.headDim == 64)
    }

    @Test func olderLlamaConfigWithoutGQAOrHeadDim() throws {
        let json = #"{"hidden_size":4096,"intermediate_size":11008,"num_hidden_layers":32,"num_attention_heads":32,"rms_norm_eps":1e-06,"max_position_embeddings":4096,"vocab_size":32000,"rope_theta":500000.0}"#
        let config = try HFConfig.Llama(json: Data(json.utf8))
        #expect(config.numKeyValueHeads == 32)
        #expect(config.headDim == 128)
        #expect(config.ropeTheta == 500_000)
        #expect(config.tieWordEmbeddings == false)
    }

    @Test func missingKeysAreNamedWithTheFile() {
        #expect(throws: HFConfig.Error.missingKey("n_embd", file: "gpt2.json")) {
            try HFConfig.GPT2(json: Data(#"{"n_layer":2,"n_head":2,"n_positions":8,"vocab_size":10}"#.utf8), file: "gpt2.json")
        }
        #expect(throws: HFConfig.Error.missingKey("rms_norm_eps", file: "llama.json")) {
            try HFConfig.Llama(json: Data(#"{"hidden_size":8,"intermediate_size":16,"num_hidden_layers":1,"num_attention_heads":2,"max_position_embeddings":8,"vocab_size":10}"#.utf8),
                               file: "llama.json")
        }
    }

    @Test func mistypedAndNonsensicalValuesAreRejected() {
        let base = #""n_layer":2,"n_positions":8,"vocab_size":10"#
        #expect(throws: HFConfig.Error.wrongType(key: "n_embd", expected: "an integer", file: "c")) {
            try HFConfig.GPT2(json: Data(("{" + base + #","n_head":2,"n_embd":32.5}"#).utf8), file: "c")
        }
        #expect(throws: HFConfig.Error.wrongType(key: "tie_word_embeddings", expected: "true or false", file: "c")) {
            try HFConfig.GPT2(json: Data(("{" + base + #","n_head":2,"n_embd":32,"tie_word_embeddings":1}"#).utf8), file: "c")
        }
        #expect(throws: HFConfig.Error.invalidValue(key: "n_head", reason: "3 heads do not divide n_embd 32", file: "c")) {
            try HFConfig.GPT2(json: Data(("{" + base + #","n_head":3,"n_embd":32}"#).utf8), file: "c")
        }
        #expect(throws: HFConfig.Error.invalidValue(key: "n_embd", reason: "must be positive, found 0", file: "c")) {
            try HFConfig.GPT2(json: Data(("{" + base + #","n_head":3,"n_embd":0}"#).utf8), file: "c")
        }
        #expect(throws: HFConfig.Error.invalidValue(key: "scale_attn_by_inverse_layer_idx", reason: "true is not supported", file: "c")) {
            try HFConfig.GPT2(json: Data(("{" + base + #","n_head":2,"n_embd":32,"scale_attn_by_inverse_layer_idx":true}"#).utf8), file: "c")
        }
        #expect(throws: HFConfig.Error.invalidJSON(file: "c", reason: "expected a key at byte 1")) {
            try HFConfig.GPT2(json: Data("{".utf8), file: "c")
        }
    }

    @Test func llamaGroupingAndRoPEScalingChecks() {
        let base = #""hidden_size":32,"intermediate_size":64,"num_hidden_layers":1,"rms_norm_eps":1e-5,"max_position_embeddings":8,"vocab_size":10"#
        #expect(throws: HFConfig.Error.invalidValue(key: "num_key_value_heads", reason: "3 key/value heads do not divide 4 query heads", file: "c")) {
            try HFConfig.Llama(json: Data(("{" + base + #","num_attention_heads":4,"num_key_value_heads":3}"#).utf8), file: "c")
        }
        #expect(throws: HFConfig.Error.invalidValue(key: "rope_parameters.rope_type", reason: "'llama3' is not supported, only 'default'", file: "c")) {
            try HFConfig.Llama(json: Data(("{" + base + #","num_attention_heads":4,"rope_parameters":{"rope_type":"llama3","rope_theta":5e5}}"#).utf8), file: "c")
        }
        #expect(throws: HFConfig.Error.invalidValue(key: "rope_scaling", reason: "RoPE scaling is not supported", file: "c")) {
            try HFConfig.Llama(json: Data(("{" + base + #","num_attention_heads":4,"rope_scaling":{"type":"linear","factor":2.0}}"#).utf8), file: "c")
        }
    }
}
