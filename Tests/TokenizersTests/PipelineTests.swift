// PipelineTests.swift — pre-tokenizer scanners by hand, and tokenizer.json pipelines against Hugging Face.
//
// The fixtures come from scripts/tokenizers/make_model_fixtures.py: SmolLM2's vocabulary trimmed to 600
// merges under four pipelines, with the ids HF `tokenizers` 0.23 gives for tricky strings.
import Foundation
import Testing
@testable import Tokenizers

struct ExpectedIDs: Decodable {
    let text: String
    let ids: [Int]
    let ids_with_special_tokens: [Int]?
}

func fixture(_ path: String) throws -> URL {
    try tokenizerFixtures().appendingPathComponent(path)
}

func expectedIDs(_ path: String) throws -> [ExpectedIDs] {
    try JSONDecoder().decode([ExpectedIDs].self, from: Data(contentsOf: fixture(path)))
}

@Suite struct PreTokenizerTests {
    @Test func llama3PatternByHand() {
        let split = { SplitPattern.llama3.split($0) }
        #expect(split("Hello world") == ["Hello", " world"])
        #expect(split("I'LL don't") == ["I", "'LL", " don", "'t"])              // contractions in any case
        #expect(split("1234567") == ["123", "456", "7"])                        // numbers in threes
        #expect(split("(hello) x") == ["(hello", ")", " x"])                     // a symbol leads a word
        #expect(split("a  b") == ["a", " ", " b"])
        #expect(split("x \n\n y") == ["x", " \n\n", " y"])                       // \s*[\r\n]+ keeps the newlines
        #expect(split("end!!\n\nnext") == ["end", "!!\n\n", "next"])             // symbols take trailing newlines
        #expect(split("\tTab") == ["\tTab"])
        #expect(SplitPattern.qwen2.split("x 123") == ["x", " ", "1", "2", "3"])
    }

    @Test func digitsAndPrefixSpaceByHand() {
        #expect(PreTokenizer.smolLM.pieces(of: "a  12b") == ["a", "  ", "1", "2", "b"])   // "a  " is cut before the regex sees "1"
        #expect(PreTokenizer.smolLM.pieces(of: "½ ²") == ["½", " ", "²"])          // \p{N}, not just 0-9
        let prefixed = PreTokenizer(steps: [.byteLevel(addPrefixSpace: true, useRegex: true)])
        #expect(prefixed.pieces(of: "Hello world") == [" Hello", " world"])
        #expect(prefixed.pieces(of: " already") == [" already"])
    }

    @Test func ggufNamesMapToPreTokenizers() throws {
        #expect(try PreTokenizer.named(ggufPre: "smollm").preTokenizer == .smolLM)
        #expect(try PreTokenizer.named(ggufPre: "llama-bpe") == (.llama3, true))
        #expect(try PreTokenizer.named(ggufPre: "gpt2").preTokenizer == .gpt2)
        #expect(try PreTokenizer.named(ggufPre: "qwen2").preTokenizer == .qwen2)
        #expect(throws: TokenizerFileError.self) { try PreTokenizer.named(ggufPre: "deepseek-coder") }
    }
}

@Suite struct TokenizerJSONPipelineTests {
    @Test(arguments: ["smollm-tiny", "prefix-space", "llama3-style", "qwen2-style"])
    func matchesHuggingFace(variant: String) throws {
        let tokenizer = try ByteLevelBPE.load(tokenizerJSON: fixture("\(variant)/tokenizer.json"))
        let samples = try expectedIDs("\(variant)/expected.json")
        #expect(samples.count >= 30)
        for sample in samples {
            #expect(tokenizer.encode(sample.text) == sample.ids, "\(variant): \(String(reflecting: sample.text))")
            if let withSpecial = sample.ids_with_special_tokens {
                #expect(tokenizer.encode(sample.text, addSpecialTokens: true) == withSpecial, "\(variant) + BOS: \(sample.text)")
            }
        }
    }

    @Test func pipelineFieldsAreRead() throws {
        let smol = try ByteLevelBPE.load(tokenizerJSON: fixture("smollm-tiny/tokenizer.json"))
        #expect(smol.preTokenizer == .smolLM && !smol.ignoreMerges && smol.prefixIDs.isEmpty)
        let llama = try ByteLevelBPE.load(tokenizerJSON: fixture("llama3-style/tokenizer.json"))
        #expect(llama.preTokenizer == .llama3 && llama.ignoreMerges && llama.prefixIDs == [0])
        let qwen = try ByteLevelBPE.load(tokenizerJSON: fixture("qwen2-style/tokenizer.json"))
        #expect(qwen.normalizations == [.nfc] && qwen.preTokenizer == .qwen2)
        #expect(qwen.encode("e\u{301}") == qwen.encode("\u{E9}"))                // NFC composes first
        let prefix = try ByteLevelBPE.load(tokenizerJSON: fixture("prefix-space/tokenizer.json"))
        #expect(prefix.decode(prefix.encode("Hello")) == " Hello")               // HF's decode keeps the added space
    }

    @Test func ignoreMergesTakesAWholePieceFromTheVocabulary() {
        // "abc" is in the vocabulary but merges reach only [a, bc] (b+c is merged first). HF tokenizers 0.23
        // on this vocabulary: ignore_merges true → [5], false → [0, 3] (the fixture pipelines never hit this case).
        let vocabulary = ["a": 0, "b": 1, "c": 2, "bc": 3, "ab": 4, "abc": 5]
        let merges = [("b", "c"), ("a", "b"), ("ab", "c")]
        #expect(ByteLevelBPE(vocabulary: vocabulary, merges: merges, ignoreMerges: true).encode("abc") == [5])
        #expect(ByteLevelBPE(vocabulary: vocabulary, merges: merges, ignoreMerges: false).encode("abc") == [0, 3])
    }

    @Test(arguments: ["smollm-tiny", "llama3-style", "qwen2-style", "prefix-space"])
    func savedPipelineLoadsBackEqual(variant: String) throws {
        let tokenizer = try ByteLevelBPE.load(tokenizerJSON: fixture("\(variant)/tokenizer.json"))
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("tinytune-pipeline-\(UUID()).json")
        defer { try? FileManager.default.removeItem(at: url) }
        try tokenizer.saveTokenizerJSON(to: url)
        let copy = try ByteLevelBPE.load(tokenizerJSON: url)
        #expect(copy == tokenizer)
        for sample in try expectedIDs("\(variant)/expected.json") { #expect(copy.encode(sample.text) == sample.ids) }
    }
}
