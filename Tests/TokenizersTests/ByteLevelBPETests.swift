// ByteLevelBPETests.swift — GPT-2 pre-tokenisation, hand-checked training, HF parity, file errors.
import Foundation
import Testing
@testable import Tokenizers

func tokenizerFixtures() throws -> URL {
    try #require(Bundle.module.url(forResource: "Fixtures", withExtension: nil))
}

@Suite struct ByteLevelTests {
    @Test func gpt2SplitByHand() {
        #expect(ByteLevel.split("Hello world") == ["Hello", " world"])
        #expect(ByteLevel.split("don't stop") == ["don", "'t", " stop"])
        #expect(ByteLevel.split("a  b") == ["a", " ", " b"])                 // the last space leads the word
        #expect(ByteLevel.split("x\n\ny") == ["x", "\n", "\n", "y"])         // \s+(?!\S) then \s+
        #expect(ByteLevel.split("end   ") == ["end", "   "])
        #expect(ByteLevel.split("3.14 ok!!") == ["3", ".", "14", " ok", "!!"])
        #expect(ByteLevel.split("Zürich 東京") == ["Zürich", " 東京"])
    }

    @Test func byteTableIsABijection() {
        #expect(Set(ByteLevel.byteToCharacter).count == 256)
        #expect(ByteLevel.byteToCharacter[32] == "Ġ")   // space, as in GPT-2's vocab
        #expect(ByteLevel.decodeBytes(ByteLevel.encodeBytes("héllo 😀")) == "héllo 😀")
    }
}

@Suite struct ByteLevelBPETests {
    @Test func trainingByHand() {
        // Pre-tokens: "aaab" ×2 (from "aaab aaab" → "aaab", " aaab"?) — keep it simple: one word repeated
        // with newlines so every piece is the same word: "aaab\naaab\naaab".
        // Pieces: "aaab", "\n", "aaab", "\n", "aaab" → word "aaab" ×3, "\n" ×2.
        // Pair counts in "a a a b": (a,a) 2 per word → 6, (a,b) 1 → 3. First merge: a+a.
        // Word becomes "aa a b": pairs (aa,a) 3, (a,b) 3 — tie, broken by text order: "a b" < "aa a" → a+b.
        // Word becomes "aa ab": (aa,ab) 3 → third merge aa+ab.
        let bpe = ByteLevelBPE.train(text: "aaab\naaab\naaab", vocabularySize: 256 + 3 + 1)
        #expect(bpe.merges.map { "\($0.0) \($0.1)" } == ["a a", "a b", "aa ab"])
        #expect(bpe.encode("aaab") == [bpe.vocabulary["aaab"]!])
        #expect(bpe.endOfText == 259)
    }

    @Test func roundTripsArbitraryText() {
        let bpe = ByteLevelBPE.train(text: String(repeating: "the cat sat on the mat. ", count: 20), vocabularySize: 300)
        for text in ["the cat", "Zürich naïve café", "東京 😀👍🏽", "tabs\tand\n\nnewlines", "   spaces   ", "", "<|endoftext|>x"] {
            #expect(bpe.decode(bpe.encode(text)) == text, "\(text)")
        }
        #expect(bpe.encode("the cat").count < "the cat".utf8.count)   // merges compress
    }

    @Test func matchesHuggingFaceTokenizers() throws {
        struct Sample: Decodable { let text: String; let ids: [Int] }
        let folder = try tokenizerFixtures()
        let samples = try JSONDecoder().decode([Sample].self, from: Data(contentsOf: folder.appendingPathComponent("expected.json")))
        let fromJSON = try ByteLevelBPE.load(tokenizerJSON: folder.appendingPathComponent("tokenizer.json"))
        let fromGPT2 = try ByteLevelBPE.load(vocabulary: folder.appendingPathComponent("vocab.json"),
                                             merges: folder.appendingPathComponent("merges.txt"))
        #expect(samples.count == 20)
        for sample in samples {
            #expect(fromJSON.encode(sample.text) == sample.ids, "tokenizer.json: \(sample.text)")
            #expect(fromGPT2.encode(sample.text) == sample.ids, "vocab.json+merges.txt: \(sample.text)")
            #expect(fromJSON.decode(sample.ids) == sample.text)
        }
    }

    @Test func saveAndLoadBothLayouts() throws {
        let bpe = ByteLevelBPE.train(text: "hello hello world world world", vocabularySize: 270)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("tinytune-bpe-\(UUID())")
        defer { try? FileManager.default.removeItem(at: folder) }
        try bpe.saveGPT2Files(to: folder)
        try bpe.saveTokenizerJSON(to: folder.appendingPathComponent("tokenizer.json"))
        let a = try ByteLevelBPE.load(vocabulary: folder.appendingPathComponent("vocab.json"), merges: folder.appendingPathComponent("merges.txt"))
        let b = try ByteLevelBPE.load(tokenizerJSON: folder.appendingPathComponent("tokenizer.json"))
        #expect(a == bpe && b == bpe)
    }

    @Test func malformedFilesAreNamedErrors() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("tinytune-bad-\(UUID())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let vocab = folder.appendingPathComponent("vocab.json"), merges = folder.appendingPathComponent("merges.txt")
        try Data("{\"a\": 0, \"b\": 1, \"ab\": 2}".utf8).write(to: vocab)
        try Data("#version: 0.2\na b\nabc\n".utf8).write(to: merges)
        #expect(throws: TokenizerFileError(file: merges.path, problem: "line 3: expected two symbols separated by one space, got \"abc\"")) {
            try ByteLevelBPE.load(vocabulary: vocab, merges: merges)
        }
        try Data("a c\n".utf8).write(to: merges)
        #expect(throws: TokenizerFileError(file: merges.path, problem: "merge 1 (a c) refers to unknown token \"c\"")) {
            try ByteLevelBPE.load(vocabulary: vocab, merges: merges)
        }
        let json = folder.appendingPathComponent("tokenizer.json")
        try Data("{\"model\": {\"type\": \"WordPiece\"}}".utf8).write(to: json)
        #expect(throws: TokenizerFileError(file: json.path, problem: "model.type is \"WordPiece\", expected \"BPE\"")) {
            try ByteLevelBPE.load(tokenizerJSON: json)
        }
        try Data("not json".utf8).write(to: json)
        #expect(throws: TokenizerFileError.self) { try ByteLevelBPE.load(tokenizerJSON: json) }
    }
}
