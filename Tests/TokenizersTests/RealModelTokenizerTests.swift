// RealModelTokenizerTests.swift — SmolLM2-135M-Instruct's full tokenizer, when the model files are present.
//
// scripts/tokenizers/make_model_fixtures.py writes, into the models folder (git-ignored; `TINYTUNE_MODELS`
// or <repo>/models), the model's full tokenizer.json and its GGUF tokenizer arrays. Both must give the ids
// committed in smollm2-expected.json (made by HF `tokenizers`). Without the files the tests are skipped
// with a message saying how to make them.
import Foundation
import Testing
@testable import Tokenizers

enum RealModelFiles {
    static var folder: URL {
        if let path = ProcessInfo.processInfo.environment["TINYTUNE_MODELS"] { return URL(fileURLWithPath: path) }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("models")
    }
    static var tokenizerJSON: URL { folder.appendingPathComponent("SmolLM2-135M-Instruct-tokenizer/tokenizer.json") }
    static var ggufMetadata: URL { folder.appendingPathComponent("SmolLM2-135M-Instruct.tokenizer-metadata.json") }
    static var present: Bool {
        FileManager.default.fileExists(atPath: tokenizerJSON.path) && FileManager.default.fileExists(atPath: ggufMetadata.path)
    }
}

@Suite(.enabled(if: RealModelFiles.present,
                "SmolLM2 tokenizer files absent from models/ (set TINYTUNE_MODELS, run scripts/tokenizers/make_model_fixtures.py)"))
struct RealModelTokenizerTests {
    @Test func tokenizerJSONAndGGUFGiveHuggingFacesIds() throws {
        let samples = try expectedIDs("smollm2-expected.json")
        let fromJSON = try ByteLevelBPE.load(tokenizerJSON: RealModelFiles.tokenizerJSON)
        let fromGGUF = try ByteLevelBPE(gguf: GGUFMetadataFixture.load(RealModelFiles.ggufMetadata).metadata)
        #expect(fromJSON.vocabularySize == 49152 && fromGGUF.vocabularySize == 49152)
        #expect(fromGGUF.bos == 1 && fromGGUF.eos == 2)
        for sample in samples {
            #expect(fromJSON.encode(sample.text) == sample.ids, "tokenizer.json: \(String(reflecting: sample.text))")
            #expect(fromGGUF.encode(sample.text) == sample.ids, "GGUF: \(String(reflecting: sample.text))")
            #expect(fromGGUF.decode(sample.ids) == sample.text)
        }
    }
}
