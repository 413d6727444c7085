// GGUFReaderTests.swift — our GGUF reader and dequantizers against the gguf package (llama.cpp's
// gguf-py): every supported block type decodes to exactly gguf.quants.dequantize's values, metadata
// of every type reads back, and the tiny Llama files load into our GPT with transformers' logits.
// Fixtures: scripts/gguf/make_fixtures.py (see Fixtures/gguf/README.md).
import Foundation
import Testing
import Autodiff
import NN
@testable import Checkpoints

func ggufFixture(_ name: String) throws -> URL {
    try fixturesURL().appendingPathComponent("gguf").appendingPathComponent(name)
}

/// The decoded JSON of a fixture, as plain dictionaries.
func ggufExpected(_ name: String) throws -> [String: Any] {
    let data = try Data(contentsOf: try ggufFixture(name))
    return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
}

func floats(_ value: Any?) -> [Float] { ((value as? [Any]) ?? []).compactMap { ($0 as? NSNumber)?.floatValue } }

@Suite struct GGUFReaderTests {
    @Test func everyDecodableBlockTypeMatchesGGUFPy() throws {
        let file = try GGUF.File(contentsOf: try ggufFixture("kquants.gguf"))
        let expected = try ggufExpected("kquants-expected.json")
        #expect(file.version == 3)
        #expect(Set(file.tensors.map(\.name)) == Set(expected.keys))
        for (name, entry) in expected {
            let entry = try #require(entry as? [String: Any])
            let info = try file.info(name)
            #expect(info.type.name == entry["type"] as? String, "\(name)")
            #expect(info.shape == (entry["shape"] as? [Int]), "\(name)")
            let values = try file.floats(of: name)
            let reference = floats(entry["values"])
            #expect(values.count == reference.count, "\(name)")
            // Bit for bit (the JSON holds the float32 values exactly as doubles).
            let mismatches = zip(values, reference).filter { $0 != $1 }.count
            #expect(mismatches == 0, "\(name): \(mismatches) values differ from gguf.quants.dequantize")
        }
    }

    @Test func metadataOfEveryTypeReadsBack() throws {
        let file = try GGUF.File(contentsOf: try ggufFixture("writer-reference.gguf"))
        #expect(file.alignment == 64)
        let m = file.metadata
        #expect(m["general.architecture"] == .string("llama"))
        #expect(m["test.u8"] == .uint8(200) && m["test.i8"] == .int8(-100))
        #expect(m["test.u16"] == .uint16(60000) && m["test.i16"] == .int16(-30000))
        #expect(m["test.u32"] == .uint32(4_000_000_000) && m["test.i32"] == .int32(-2_000_000_000))
        #expect(m["test.u64"] == .uint64(18_000_000_000_000_000_000) && m["test.i64"] == .int64(-9_000_000_000_000_000_000))
        #expect(m["test.f32"] == .float32(0.15625) && m["test.f64"] == .float64(-2.5e-300))
        #expect(m["test.bool"] == .bool(true) && m["test.string"] == .string("héllo, 世界 🙂"))
        #expect(m["test.ints"]?.ints == [1, -2, 3])
        #expect(m["test.strings"]?.strings == ["a", "", "ccc"])
        #expect(m["test.nested"] == .array(elementType: .array, [.array(elementType: .int32, [.int32(1), .int32(2)]),
                                                                 .array(elementType: .int32, [.int32(3)])]))
        #expect(file.metadataKeys.first == "general.architecture")
        // Typed accessors name the key when it is missing or mistyped.
        #expect(try file.int("test.u32") == 4_000_000_000)
        #expect(throws: GGUF.Error(file: file.label, problem: .missingKey("nope"))) { try file.int("nope") }
        #expect(throws: GGUF.Error(file: file.label, problem: .wrongValueType(key: "test.string", expected: "an integer"))) {
            try file.int("test.string")
        }
    }

    @Test(arguments: ["F32", "F16", "Q8_0", "Q4_0", "Q4_1"])
    func tinyLlamaTensorsMatchGGUFPy(type: String) throws {
        let name = "tiny-llama-\(type).gguf"
        let file = try GGUF.File(contentsOf: try ggufFixture(name))
        let expected = try ggufExpected("tiny-llama-expected.json")
        let entry = try #require((expected["files"] as? [String: Any])?[name] as? [String: Any])
        let tensors = try #require(entry["tensors"] as? [String: [String: Any]])
        #expect(Set(file.tensors.map(\.name)) == Set(tensors.keys))
        for (tensor, summary) in tensors {
            let values = try file.floats(of: tensor)
            #expect(try file.info(tensor).type.name == summary["type"] as? String)
            #expect(Array(values.prefix(32)) == floats(summary["first"]), "\(tensor)")
            let sum = values.reduce(0.0) { $0 + Double($1) }
            let reference = (summary["sum"] as? Double) ?? .nan
            #expect(abs(sum - reference) <= 1e-9 * max(1, abs(reference)) * Double(values.count), "\(tensor): sum \(sum) vs \(reference)")
        }
        // The tokenizer metadata the tokenizer side builds its BPE from.
        #expect(try file.string("tokenizer.ggml.model") == "gpt2")
        #expect(file.metadata["tokenizer.ggml.tokens"]?.strings?.count == 64)
        #expect(file.metadata["tokenizer.ggml.merges"]?.strings == ["Ġ t", "h e", "Ġt he"])
        #expect(try file.int("tokenizer.ggml.eos_token_id") == 63)
    }
}

@Suite struct GGUFLlamaTests {
    @Test(arguments: ["F32", "F16", "Q8_0", "Q4_0", "Q4_1"])
    func tinyLlamaReproducesTransformersLogits(type: String) throws {
        let name = "tiny-llama-\(type).gguf"
        let file = try GGUF.File(contentsOf: try ggufFixture(name))
        let model = try ModelCheckpoint.model(from: file)
        let expected = try ggufExpected("tiny-llama-expected.json")
        let entry = try #require((expected["files"] as? [String: Any])?[name] as? [String: Any])
        let tokens = try #require(expected["tokens"] as? [Int])
        #expect(model.config.tiedEmbeddings == (entry["tied"] as? Bool))
        #expect(model.config.vocabularySize == 64 && model.config.embeddingSize == 32 && model.config.layers == 2)
        #expect(model.config.heads == 4 && model.config.kvHeads == 2 && model.config.mlpSize == 64)
        #expect(model.config.contextLength == 32 && model.config.ropeTheta == 10_000 && model.config.normEpsilon == 1e-5)
        let logits = model(tokens.map(Int32.init), batch: 1, steps: tokens.count)
        let reference = floats(entry["logits"])
        #expect(logits.values.count == reference.count)
        let worst = zip(logits.values, reference).map { abs($0 - $1) }.max() ?? .infinity
        #expect(worst < 1e-4, "\(name): max |logit - transformers| = \(worst)")
        // The quantization error is real: the 4-bit files are far from the fp32 model's logits, so a test
        // comparing against the wrong reference would fail.
        if type == "Q4_0" {
            let fp32 = floats(expected["hf_logits"])
            #expect(zip(logits.values, fp32).map { abs($0 - $1) }.max() ?? 0 > 0.1)
        }
    }

    @Test func ropePermutationMatchesLlamaCppOrder() {
        // One head of D = 4 over one column: HF rows [a, b, c, d] pair (a, c) and (b, d); llama.cpp wants
        // the pairs adjacent: [a, c, b, d]. Two heads permute independently.
        let hf: [Float] = [0, 1, 2, 3, 10, 11, 12, 13]
        let ggml = GGUF.permuteRoPERows(hf, heads: 2, columns: 1, toGGUF: true)
        #expect(ggml == [0, 2, 1, 3, 10, 12, 11, 13])
        #expect(GGUF.permuteRoPERows(ggml, heads: 2, columns: 1, toGGUF: false) == hf)
        // D = 8: HF rows 0…7 → llama.cpp order 0,4,1,5,2,6,3,7 (each row two columns wide).
        let wide = (0..<16).map(Float.init)
        let permuted = GGUF.permuteRoPERows(wide, heads: 1, columns: 2, toGGUF: true)
        #expect(stride(from: 0, to: 16, by: 2).map { permuted[$0] / 2 } == [0, 4, 1, 5, 2, 6, 3, 7])
    }

    @Test func tensorNamesMapBothWays() {
        #expect(GGUF.llamaTensorName(of: "embed_tokens.weight") == "token_embd.weight")
        #expect(GGUF.llamaTensorName(of: "layers.12.self_attn.o_proj.weight") == "blk.12.attn_output.weight")
        #expect(GGUF.llamaTensorName(of: "layers.3.post_attention_layernorm.weight") == "blk.3.ffn_norm.weight")
        #expect(GGUF.llamaTensorName(of: "layers.0.mlp.down_proj.weight") == "blk.0.ffn_down.weight")
        #expect(GGUF.llamaTensorName(of: "norm.weight") == "output_norm.weight")
        #expect(GGUF.llamaTensorName(of: "lm_head.weight") == "output.weight")
        #expect(GGUF.llamaTensorName(of: "layers.x.mlp.down_proj.weight") == nil)
        #expect(GGUF.llamaTensorName(of: "layers.0.self_attn.q_proj.lora_A.weight") == nil)
    }
}
