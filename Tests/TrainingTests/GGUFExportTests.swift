// GGUFExportTests.swift — what `tinytune export --format gguf` writes: matrices quantized byte for byte as
// gguf-py's `gguf.quants.quantize` does, the tokenizer as the same `tokenizer.ggml.*` values llama.cpp's
// converter wrote, the chat template, and a file that loads back with the same logits and ids.
//
// Fixtures (scripts/gguf/make_fixtures.py, Tests/CheckpointsTests/Fixtures/gguf): one random tiny Llama
// written by the converter's steps in F32, F16, Q8_0, Q4_0 and Q4_1, each quantized from the same fp32
// weights by `gguf.quants.quantize`. Loading the F32 file and exporting it as type T must give the T file's bytes.
import Foundation
import Testing
import TestSupport
import Checkpoints
import Tokenizers
import NN
@testable import Training

@Suite struct GGUFExportTests {
    @Test(arguments: [GGUF.TensorType.f16, .q8_0, .q4_0, .q4_1])
    func exportedMatricesEqualGGUFPyQuantize(type: GGUF.TensorType) throws {
        let model = try ModelCheckpoint.model(from: GGUF.File(contentsOf: checkpointsFixture("tiny-llama-F32.gguf")))
        let reference = try GGUF.File(contentsOf: checkpointsFixture("tiny-llama-\(type.name).gguf"))
        let exported = try ModelCheckpoint.ggufTensors(of: model, type: type)
        var compared = 0
        for tensor in exported where reference.contains(tensor.name) {   // the Q8_0 fixture is tied: no output.weight
            let info = try reference.info(tensor.name)
            #expect(tensor.type == info.type, "\(tensor.name)")
            #expect(tensor.bytes == (try reference.bytes(of: tensor.name)), "\(tensor.name) as \(type.name)")
            compared += 1
        }
        #expect(compared == reference.tensors.count)
        #expect(exported.filter { $0.type == type }.count == 2 * 7 + 2)   // 7 matrices per block, the table and the head
    }

    @Test func tokenizerMetadataIsTheConvertersAndRoundTrips() throws {
        let original = try GGUF.File(contentsOf: checkpointsFixture("tiny-llama-F32.gguf"))
        let tokenizer = try ByteLevelBPE(gguf: original)
        let values = try GGUFTokenizerMetadata(exporting: tokenizer).ggufValues
        // Every key gguf-py's writer put in the fixture, with the same value (add_bos/add_eos are extra, false).
        for (key, value) in values where original.metadata[key] != nil {
            #expect(value == original.metadata[key], "\(key)")
        }
        let written = Set(values.map(\.key)), converter = Set(original.metadataKeys.filter { $0.hasPrefix("tokenizer.ggml.") })
        #expect(converter.isSubset(of: written), "missing \(converter.subtracting(written))")

        // A file written with them (and a chat template) reads back as the same tokenizer and template.
        let template = try TransformersTemplate.all()[0]
        let directory = try scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("export.gguf")
        let model = try ModelCheckpoint.model(from: original)
        try ModelCheckpoint.saveGGUF(model, to: url, type: .q8_0, extraMetadata: values + [("tokenizer.chat_template", .string(template.template))])
        let file = try GGUF.File(contentsOf: url)
        let reloaded = try ByteLevelBPE(gguf: file)
        for text in ["<|im_start|>A the<|im_end|>", " the the", "!W the"] { #expect(reloaded.encode(text) == tokenizer.encode(text)) }
        #expect(reloaded.bos == tokenizer.bos && reloaded.eos == tokenizer.eos && reloaded.padding == tokenizer.padding)
        let chat = try ChatTemplate(gguf: file)
        #expect(chat.defaultSystemPrompt == "You are a helpful AI assistant named SmolLM, trained by Hugging Face")
        #expect(try ModelCheckpoint.model(from: file).config == model.config)
    }

    @Test func tokenizersWithoutAGGUFFormAreRefused() {
        let custom = ByteLevelBPE(vocabulary: ["a": 0, "b": 1], merges: [], preTokenizer: PreTokenizer(steps: [.digits(individualDigits: false)]))
        #expect(throws: GGUF.Error.self) { try GGUFTokenizerMetadata(exporting: custom) }
    }
}
