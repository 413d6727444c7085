// ByteLevelBPE+Files.swift — reading and writing the two common BPE file layouts.
//
// Teaches: a BPE tokenizer on disk is just its vocabulary and its ranked merges.
// - GPT-2 layout: `vocab.json` ({"token": id}) and `merges.txt` (one "left right" pair per line,
//   optionally after a "#version" line).
// - Hugging Face `tokenizer.json`: the same two tables under "model" (merges as "a b" strings or
//   ["a", "b"] pairs), plus "added_tokens" for special tokens.
// Every malformed input is a thrown error naming the file and the problem.
// Leaves out: normalizers and post-processors in tokenizer.json (we only accept ByteLevel BPE).
import Foundation

/// A tokenizer file that could not be read, with the file and the problem.
public struct TokenizerFileError: Error, CustomStringConvertible, Equatable {
    public let file: String
    public let problem: String
    public var description: String { "\(file): \(problem)" }
}

extension ByteLevelBPE {
    /// Loads GPT-2's `vocab.json` and `merges.txt`; `specialTokens` names vocabulary entries to treat
    /// as special (matched whole), by default "<|endoftext|>" when present.
    public static func load(vocabulary vocabularyURL: URL, merges mergesURL: URL,
                            specialTokens: [String] = ["<|endoftext|>"]) throws -> ByteLevelBPE {
        let vocabulary = try readVocabulary(try readData(vocabularyURL), file: vocabularyURL.path)
        let text = String(decoding: try readData(mergesURL), as: UTF8.self)
        var merges: [(String, String)] = []
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.trimmingCharacters(in: CharacterSet(charactersIn: "\r"))
            if trimmed.isEmpty || (index == 0 && trimmed.hasPrefix("#version")) { continue }
            let parts = trimmed.split(separator: " ", omittingEmptySubsequences: false)
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                throw TokenizerFileError(file: mergesURL.path, problem: "line \(index + 1): expected two symbols separated by one space, got \"\(trimmed)\"")
            }
            merges.append((String(parts[0]), String(parts[1])))
        }
        try checkMerges(merges, vocabulary: vocabulary, file: mergesURL.path)
        var specials: [String: Int] = [:]
        var regular = vocabulary
        for token in specialTokens { if let id = regular.removeValue(forKey: token) { specials[token] = id } }
        return ByteLevelBPE(vocabulary: regular, merges: merges, specialTokens: specials)
    }

    /// Loads a Hugging Face `tokenizer.json` whose model is BPE.
    public static func load(tokenizerJSON url: URL) throws -> ByteLevelBPE {
        let file = url.path
        guard let root = try? JSONSerialization.jsonObject(with: try readData(url)) as? [String: Any] else {
            throw TokenizerFileError(file: file, problem: "not a JSON object")
        }
        guard let model = root["model"] as? [String: Any] else { throw TokenizerFileError(file: file, problem: "missing \"model\"") }
        guard (model["type"] as? String) == "BPE" else {
            throw TokenizerFileError(file: file, problem: "model.type is \(model["type"].map { "\"\($0)\"" } ?? "missing"), expected \"BPE\"")
        }
        guard let rawVocabulary = model["vocab"] as? [String: Any] else {
            throw TokenizerFileError(file: file, problem: "model.vocab must be an object of token → id")
        }
        var vocabulary: [String: Int] = [:]
        for (token, value) in rawVocabulary {
            guard let id = value as? Int, id >= 0 else { throw TokenizerFileError(file: file, problem: "model.vocab[\"\(token)\"] is not a non-negative integer") }
            vocabulary[token] = id
        }
        guard let rawMerges = model["merges"] as? [Any] else { throw TokenizerFileError(file: file, problem: "model.merges must be an array") }
        var merges: [(String, String)] = []
        for (index, entry) in rawMerges.enumerated() {
            if let text = entry as? String {
                let parts = text.split(separator: " ", omittingEmptySubsequences: false)
                guard parts.count == 2 else { throw TokenizerFileError(file: file, problem: "model.merges[\(index)] \"\(text)\" is not two symbols") }
                merges.append((String(parts[0]), String(parts[1])))
            } else if let pair = entry as? [String], pair.count == 2 {
                merges.append((pair[0], pair[1]))
            } else {
                throw TokenizerFileError(file: file, problem: "model.merges[\(index)] is neither \"a b\" nor [\"a\", \"b\"]")
            }
        }
        try checkMerges(merges, vocabulary: vocabulary, file: file)
        var specials: [String: Int] = [:]
        for (index, entry) in ((root["added_tokens"] as? [Any]) ?? []).enumerated() {
            guard let token = entry as? [String: Any], let content = token["content"] as? String, let id = token["id"] as? Int else {
                throw TokenizerFileError(file: file, problem: "added_tokens[\(index)] needs \"content\" and \"id\"")
            }
            specials[content] = id
            vocabulary.removeValue(forKey: content)
        }
        return ByteLevelBPE(vocabulary: vocabulary, merges: merges, specialTokens: specials)
    }

    /// Writes `vocab.json` and `merges.txt` into `directory` (atomically each).
    public func saveGPT2Files(to directory: URL) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let all = vocabulary.merging(specialTokens) { a, _ in a }
        let json = try JSONSerialization.data(withJSONObject: all, options: [.sortedKeys])
        try json.write(to: directory.appendingPathComponent("vocab.json"), options: .atomic)
        let lines = ["#version: 0.2"] + merges.map { "\($0.0) \($0.1)" }
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: directory.appendingPathComponent("merges.txt"), options: .atomic)
    }

    /// Writes a Hugging Face `tokenizer.json` (ByteLevel pre-tokenizer and decoder, BPE model) atomically.
    public func saveTokenizerJSON(to url: URL) throws {
        let added = specialTokens.sorted { $0.value < $1.value }.map { token, id -> [String: Any] in
            ["id": id, "content": token, "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true]
        }
        let byteLevel: [String: Any] = ["type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true]
        let root: [String: Any] = [
            "version": "1.0", "truncation": NSNull(), "padding": NSNull(), "added_tokens": added,
            "normalizer": NSNull(), "pre_tokenizer": byteLevel, "post_processor": NSNull(), "decoder": byteLevel,
            "model": ["type": "BPE", "dropout": NSNull(), "unk_token": NSNull(), "continuing_subword_prefix": NSNull(),
                      "end_of_word_suffix": NSNull(), "fuse_unk": false, "byte_fallback": false,
                      "vocab": vocabulary.merging(specialTokens) { a, _ in a }, "merges": merges.map { [$0.0, $0.1] }] as [String: Any],
        ]
        try JSONSerialization.data(withJSONObject: root, options: [.sortedKeys]).write(to: url, options: .atomic)
    }

    static func readData(_ url: URL) throws -> Data {
        do { return try Data(contentsOf: url) } catch {
            throw TokenizerFileError(file: url.path, problem: "cannot read the file")
        }
    }

    static func readVocabulary(_ data: Data, file: String) throws -> [String: Int] {
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw TokenizerFileError(file: file, problem: "not a JSON object of token → id")
        }
        var vocabulary: [String: Int] = [:]
        for (token, value) in object {
            guard let id = value as? Int, id >= 0 else { throw TokenizerFileError(file: file, problem: "\"\(token)\" has a non-integer id") }
            vocabulary[token] = id
        }
        return vocabulary
    }

    /// Every merge's parts and result must be in the vocabulary.
    static func checkMerges(_ merges: [(String, String)], vocabulary: [String: Int], file: String) throws {
        for (index, merge) in merges.enumerated() {
            for symbol in [merge.0, merge.1, merge.0 + merge.1] where vocabulary[symbol] == nil {
                throw TokenizerFileError(file: file, problem: "merge \(index + 1) (\(merge.0) \(merge.1)) refers to unknown token \"\(symbol)\"")
            }
        }
    }
}
