// TokenizerRobustnessTests.swift — bad tokenizer files throw named errors; CRLF and BOM load like LF;
// seeded fuzzing of tokenizer.json and vocab.json + merges.txt never crashes or yields out-of-range ids.
import Foundation
import Testing
import TestSupport
@testable import Tokenizers

/// A scratch folder removed when the test ends.
final class ScratchFolder {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("tinytune-tok-\(UUID())")
    init() throws { try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true) }
    deinit { try? FileManager.default.removeItem(at: url) }
    func write(_ name: String, _ data: Data) throws -> URL {
        let file = url.appendingPathComponent(name)
        try data.write(to: file)
        return file
    }
}

/// The problem text of the error `body` throws (nil if it does not throw).
func thrownProblem(_ body: () throws -> Any) -> String? {
    do { _ = try body(); return nil } catch let error as TokenizerFileError { return error.problem } catch { return "\(error)" }
}

@Suite struct TokenizerRobustnessTests {
    let tinyJSON: String
    init() throws { tinyJSON = try String(contentsOf: fixture("smollm-tiny/tokenizer.json"), encoding: .utf8) }

    /// The tiny tokenizer.json with one textual replacement (which must occur).
    func variant(_ old: String, _ new: String) throws -> Data {
        #expect(tinyJSON.contains(old), "fixture lacks \(old)")
        return Data(tinyJSON.replacingOccurrences(of: old, with: new).utf8)
    }

    func problem(_ data: Data) throws -> String? {
        let scratch = try ScratchFolder()
        let url = try scratch.write("tokenizer.json", data)
        return thrownProblem { try ByteLevelBPE.load(tokenizerJSON: url) }
    }

    @Test func issue18IdsAreValidated() throws {
        #expect(try problem(variant("\"!\": 17,", "\"!\": 9223372036854775807,"))?.contains("model.vocab[\"!\"] is 9223372036854775807, outside") == true)
        #expect(try problem(variant("\"!\": 17,", "\"!\": true,"))?.contains("model.vocab[\"!\"] must be an integer token id, got a boolean") == true)
        #expect(try problem(variant("\"!\": 17,", "\"!\": 18,"))?.contains("already used by") == true)
        #expect(try problem(variant("\"id\": 2,", "\"id\": -1,"))?.contains("added_tokens[2].id is -1, outside") == true)
        #expect(try problem(variant("\"id\": 2,", "\"id\": true,"))?.contains("added_tokens[2].id must be an integer token id, got a boolean") == true)
        #expect(try problem(variant("\"id\": 2,", "\"id\": 1.5,"))?.contains("got a number") == true)
        #expect(try problem(variant("\"id\": 2,", "\"id\": 600,"))?.contains("model.vocab gives \"<|im_end|>\" id 2") == true)
        #expect(try problem(variant("\"added_tokens\": [", "\"added_tokens\": {\"x\": 1}, \"ignored\": ["))?
            .contains("added_tokens must be an array, got an object") == true)
        #expect(try problem(variant("\"id\": 2,", "\"id\": 1e309,"))?.contains("not valid JSON") == true)
    }

    @Test func issue17UnsupportedFieldsAreNamed() throws {
        #expect(try problem(variant("\"normalizer\": null", "\"normalizer\": {\"type\": \"Lowercase\"}"))?
            .contains("normalizer.type is \"Lowercase\"") == true)
        #expect(try problem(variant("\"type\": \"Digits\"", "\"type\": \"Metaspace\""))?
            .contains("pre_tokenizer.pretokenizers[0].type is \"Metaspace\"") == true)
        #expect(try problem(variant("\"byte_fallback\": false", "\"byte_fallback\": true"))?.contains("model.byte_fallback") == true)
        #expect(try problem(variant("\"dropout\": null", "\"dropout\": 0.1"))?.contains("model.dropout") == true)
        #expect(try problem(variant("\"type\": \"TemplateProcessing\"", "\"type\": \"RobertaProcessing\""))?
            .contains("post_processor.type is \"RobertaProcessing\"") == true)
        #expect(try problem(variant("\"decoder\": {\"type\": \"ByteLevel\"", "\"decoder\": {\"type\": \"Metaspace\""))?
            .contains("decoder.type is \"Metaspace\"") == true)
        #expect(try problem(variant("\"single_word\": false", "\"single_word\": true"))?.contains("single_word") == true)
    }

    @Test func crlfAndByteOrderMarkLoadLikeLF() throws {
        let scratch = try ScratchFolder()
        let base = try ByteLevelBPE.load(tokenizerJSON: fixture("smollm-tiny/tokenizer.json"))
        let crlf = try scratch.write("crlf.json", Data(("\u{FEFF}" + tinyJSON.replacingOccurrences(of: "\n", with: "\r\n")).utf8))
        #expect(try ByteLevelBPE.load(tokenizerJSON: crlf) == base)
        // GPT-2 files: a CRLF merges.txt used to load with zero merges (issue 18).
        let folder = try fixture("")
        let lf = try ByteLevelBPE.load(vocabulary: folder.appendingPathComponent("vocab.json"), merges: folder.appendingPathComponent("merges.txt"))
        let mergesText = try String(contentsOf: folder.appendingPathComponent("merges.txt"), encoding: .utf8)
        let crlfMerges = try scratch.write("merges.txt", Data(("\u{FEFF}" + mergesText.replacingOccurrences(of: "\n", with: "\r\n")).utf8))
        let fromCRLF = try ByteLevelBPE.load(vocabulary: folder.appendingPathComponent("vocab.json"), merges: crlfMerges)
        #expect(fromCRLF == lf && fromCRLF.merges.count == lf.merges.count && lf.merges.count > 100)
        #expect(TextLines.split("a\r\nb\n\r\nc") == ["a", "b", "", "c"])
    }

    @Test func charTokenizerFilesAreValidated() throws {
        let scratch = try ScratchFolder()
        func problem(_ json: String) throws -> String? {
            let url = try scratch.write("char-\(UUID()).json", Data(json.utf8))
            return thrownProblem { try TokenizerFile.load(url) }
        }
        #expect(try problem(#"{"alphabet": "abc?", "unknown": -1, "endOfText": 4}"#)?.contains("unknown id -1 is outside") == true)
        #expect(try problem(#"{"alphabet": "abc?", "unknown": 9223372036854775807}"#)?.contains("outside") == true)
        #expect(try problem(#"{"alphabet": "abca"}"#)?.contains("repeats a character") == true)
        #expect(try problem(#"{"alphabet": "abc", "endOfText": 7}"#)?.contains("endOfText is 7") == true)
        #expect(try problem(#"{"alphabet": "abc", "unknown": true}"#) != nil)
        let good = try scratch.write("good.json", Data(#"{"alphabet": "abc?", "unknown": 3, "endOfText": 4}"#.utf8))
        let loaded = try #require(try TokenizerFile.load(good) as? CharTokenizer)
        #expect(loaded.encode("az") == [0, 3] && loaded.endOfText == 4)
        #expect(try TokenizerFile.load(fixture("smollm-tiny/tokenizer.json")) is ByteLevelBPE)
    }

    /// A loaded tokenizer is sane: bounded vocabulary, in-range ids for text with every kind of character.
    func expectSane(_ tokenizer: ByteLevelBPE, _ context: String) {
        #expect(tokenizer.vocabularySize > 0 && tokenizer.vocabularySize <= TokenizerLimits.maximumTokenID, "\(context)")
        let ids = tokenizer.encode("Hello, wörld 42 😀 東京\r\n<|im_start|>x<|im_end|>  ")
        #expect(ids.allSatisfy { $0 >= 0 && $0 < tokenizer.vocabularySize }, "\(context)")
        _ = tokenizer.decode(ids + [-1, Int.max])
    }

    @Test func fuzzTokenizerJSON() throws {
        let scratch = try ScratchFolder()
        var mutator = FileMutator(seed: 18)
        var loaded = 0, refused = 0
        for index in 0..<1500 {
            let (data, mutation) = mutator.mutateText(tinyJSON)
            let url = try scratch.write("fuzz.json", data)
            do {
                expectSane(try ByteLevelBPE.load(tokenizerJSON: url), "seed 18 mutation \(index) (\(mutation))")
                loaded += 1
            } catch is TokenizerFileError { refused += 1 }
        }
        #expect(loaded > 100 && refused > 100)   // both outcomes are exercised
    }

    @Test func fuzzVocabularyAndMerges() throws {
        let scratch = try ScratchFolder()
        let folder = try fixture("")
        let vocabText = try String(contentsOf: folder.appendingPathComponent("vocab.json"), encoding: .utf8)
        let mergesText = try String(contentsOf: folder.appendingPathComponent("merges.txt"), encoding: .utf8)
        var mutator = FileMutator(seed: 19)
        var loaded = 0, refused = 0
        for index in 0..<1500 {
            let mutateVocabulary = index % 2 == 0
            let (data, mutation) = mutator.mutateText(mutateVocabulary ? vocabText : mergesText)
            let vocab = try scratch.write("vocab.json", mutateVocabulary ? data : Data(vocabText.utf8))
            let merges = try scratch.write("merges.txt", mutateVocabulary ? Data(mergesText.utf8) : data)
            do {
                expectSane(try ByteLevelBPE.load(vocabulary: vocab, merges: merges), "seed 19 mutation \(index) (\(mutation))")
                loaded += 1
            } catch is TokenizerFileError { refused += 1 }
        }
        #expect(loaded > 100 && refused > 100)
    }

    @Test func fuzzGGUFMetadataValues() throws {
        // GGUF arrays arrive as values: damage them the way a corrupt file would (ids, types, merges).
        let good = try GGUFMetadataFixture.load(fixture("smollm-tiny/gguf-metadata.json")).metadata
        var mutator = FileMutator(seed: 20)
        let extremes = FileMutator.interestingIntegers.map { Int(truncatingIfNeeded: $0) } + [-1, Int.min]
        for index in 0..<400 {
            var metadata = good
            switch mutator.below(5) {
            case 0: metadata.bosTokenID = extremes[mutator.below(extremes.count)]
            case 1: metadata.tokenTypes?[mutator.below(good.tokens.count)] = Int32(truncatingIfNeeded: extremes[mutator.below(extremes.count)])
            case 2: metadata.merges[mutator.below(good.merges.count)] = String(decoding: mutator.apply(.flipBit, to: Data(good.merges[mutator.below(good.merges.count)].utf8)), as: UTF8.self)
            case 3: metadata.tokens[mutator.below(good.tokens.count)] = ""
            default: metadata.tokens.removeLast(mutator.below(good.tokens.count))
            }
            do { expectSane(try ByteLevelBPE(gguf: metadata), "seed 20 mutation \(index)") } catch is TokenizerFileError {}
        }
    }
}
