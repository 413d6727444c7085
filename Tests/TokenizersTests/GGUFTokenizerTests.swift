// GGUFTokenizerTests.swift — the GGUF-metadata initializer against Hugging Face's ids, and its refusals.
//
// gguf-metadata.json holds the arrays of the tiny SmolLM2 tokenizer as the `gguf` package wrote them into a
// GGUF file and read them back; the ids must equal those HF `tokenizers` gives for its tokenizer.json.
import Foundation
import Testing
@testable import Tokenizers

struct GGUFMetadataFixture: Decodable {
    let model: String
    let pre: String?
    let tokens: [String]
    let merges: [String]
    let token_type: [Int32]?
    let bos_token_id, eos_token_id, padding_token_id, unknown_token_id: Int?
    let add_bos_token: Bool
    let add_space_prefix: Bool

    var metadata: GGUFTokenizerMetadata {
        GGUFTokenizerMetadata(model: model, preTokenizer: pre, tokens: tokens, merges: merges, tokenTypes: token_type,
                              bosTokenID: bos_token_id, eosTokenID: eos_token_id, paddingTokenID: padding_token_id,
                              unknownTokenID: unknown_token_id, addBOS: add_bos_token, addSpacePrefix: add_space_prefix)
    }

    static func load(_ url: URL) throws -> GGUFMetadataFixture {
        try JSONDecoder().decode(GGUFMetadataFixture.self, from: Data(contentsOf: url))
    }
}

@Suite struct GGUFTokenizerTests {
    func tinyMetadata() throws -> GGUFTokenizerMetadata {
        try GGUFMetadataFixture.load(fixture("smollm-tiny/gguf-metadata.json")).metadata
    }

    @Test func givesTheIdsOfTokenizerJSON() throws {
        let tokenizer = try ByteLevelBPE(gguf: tinyMetadata())
        for sample in try expectedIDs("smollm-tiny/expected.json") {
            #expect(tokenizer.encode(sample.text) == sample.ids, "\(String(reflecting: sample.text))")
        }
        #expect(tokenizer.bos == 1 && tokenizer.eos == 2 && tokenizer.padding == 2 && tokenizer.endOfText == 2)
        #expect(tokenizer.encode("<|im_start|>user") == [1] + tokenizer.encode("user"))   // control token matched whole
        #expect(tokenizer.vocabularySize == 852)
        #expect(tokenizer.decode(tokenizer.encode("héllo <|im_end|> 😀")) == "héllo <|im_end|> 😀")
    }

    @Test func addBOSPrefixesTheId() throws {
        var metadata = try tinyMetadata()
        metadata.addBOS = true
        let tokenizer = try ByteLevelBPE(gguf: metadata)
        #expect(tokenizer.encode("hi", addSpecialTokens: true) == [1] + tokenizer.encode("hi"))
    }

    @Test func refusesWhatItCannotEncodeExactly() throws {
        let good = try tinyMetadata()
        func problem(_ change: (inout GGUFTokenizerMetadata) -> Void) -> String? {
            var metadata = good
            change(&metadata)
            do { _ = try ByteLevelBPE(gguf: metadata); return nil } catch let error as TokenizerFileError { return error.problem } catch { return "\(error)" }
        }
        #expect(problem { $0.model = "llama" }?.contains("tokenizer.ggml.model is \"llama\"") == true)
        #expect(problem { $0.preTokenizer = nil }?.contains("tokenizer.ggml.pre is missing") == true)
        #expect(problem { $0.preTokenizer = "falcon" }?.contains("\"falcon\"") == true)
        #expect(problem { $0.tokenTypes = [1, 3] }?.contains("token_type has 2 entries for 852 tokens") == true)
        #expect(problem { $0.tokenTypes?[5] = 9 }?.contains("token_type [5] is 9") == true)
        #expect(problem { $0.bosTokenID = 852 }?.contains("bos_token_id is 852") == true)
        #expect(problem { $0.eosTokenID = -1 }?.contains("eos_token_id is -1") == true)
        #expect(problem { $0.merges[3] = "abc" }?.contains("merges [3] \"abc\"") == true)
        #expect(problem { $0.merges[0] = "Ġ zzz" }?.contains("unknown token \"zzz\"") == true)
        #expect(problem { $0.tokens = [] }?.contains("tokens is empty") == true)
        #expect(problem { $0.addSpacePrefix = true }?.contains("add_space_prefix") == true)
        #expect(problem { $0.addBOS = true; $0.bosTokenID = nil }?.contains("add_bos_token") == true)
    }
}
