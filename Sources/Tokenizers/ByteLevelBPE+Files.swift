// ByteLevelBPE+Files.swift — GPT-2's two-file layout (vocab.json + merges.txt), and what all readers share.
//
// Teaches: a BPE tokenizer on disk is just its vocabulary and its ranked merges.
// - GPT-2 layout: `vocab.json` ({"token": id}) and `merges.txt` (one "left right" pair per line,
//   optionally after a "#version" line).
// - Hugging Face's `tokenizer.json` holds the same two tables plus the rest of the pipeline
//   (ByteLevelBPE+TokenizerJSON.swift); GGUF files hold them as metadata arrays (ByteLevelBPE+GGUF.swift).
// Every malformed input is a thrown error naming the file and the line or key. Text is read with any
// line ending (LF or CRLF) and an optional UTF-8 byte-order mark.
import Foundation

/// A tokenizer file that could not be read, with the file and the problem.
public struct TokenizerFileError: Error, CustomStringConvertible, Equatable {
    public let file: String
    public let problem: String
    /// An error about `file` (a path, or a description such as "GGUF metadata").
    public init(file: String, problem: String) {
        self.file = file
        self.problem = problem
    }
    public var description: String { "\(file): \(problem)" }
}

/// Lines of a text file, the way every text reader in Tokenizers splits them.
public enum TextLines {
    /// The lines of `text`, split at "\n" with a trailing "\r" removed (so CRLF files read like LF ones)
    /// and a leading byte-order mark dropped. A final line ending does not add an empty line.
    public static func split(_ text: String) -> [String] {
        var scalars = Substring(text).unicodeScalars
        if scalars.first == "\u{FEFF}" { scalars.removeFirst() }
        var lines = scalars.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
            var line = line
            if line.last == "\r" { line.removeLast() }
            return String(String.UnicodeScalarView(line))
        }
        if lines.last == "" { lines.removeLast() }
        return lines
    }
}

extension ByteLevelBPE {
    /// Loads GPT-2's `vocab.json` and `merges.txt`; `specialTokens` names vocabulary entries to treat
    /// as special (matched whole), by default "<|endoftext|>" when present. GPT-2's pre-tokenizer.
    public static func load(vocabulary vocabularyURL: URL, merges mergesURL: URL,
                            specialTokens: [String] = ["<|endoftext|>"]) throws -> ByteLevelBPE {
        let fields = JSONFields(file: vocabularyURL.path)
        let vocabulary = try readVocabulary(fields.object(try JSONValue.parse(try readData(vocabularyURL), file: vocabularyURL.path), "the top level"),
                                            fields, path: "vocab")
        guard let text = String(data: try readData(mergesURL), encoding: .utf8) else {
            throw TokenizerFileError(file: mergesURL.path, problem: "is not UTF-8 text")
        }
        var merges: [(String, String)] = []
        for (index, line) in TextLines.split(text).enumerated() {
            if line.isEmpty || (index == 0 && line.hasPrefix("#version")) { continue }
            let parts = line.split(separator: " ", omittingEmptySubsequences: false)
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                throw TokenizerFileError(file: mergesURL.path, problem: "line \(index + 1): expected two symbols separated by one space, got \"\(line)\"")
            }
            merges.append((String(parts[0]), String(parts[1])))
        }
        try checkMerges(merges, vocabulary: vocabulary, file: mergesURL.path)
        var specials: [String: Int] = [:]
        var regular = vocabulary
        for token in specialTokens { if let id = regular.removeValue(forKey: token) { specials[token] = id } }
        return ByteLevelBPE(vocabulary: regular, merges: merges, specialTokens: specials)
    }

    /// Writes `vocab.json` and `merges.txt` into `directory` (atomically each). This layout has no place
    /// for a pre-tokenizer, so it is for GPT-2-style tokenizers (`saveTokenizerJSON` keeps everything).
    public func saveGPT2Files(to directory: URL) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let all = vocabulary.merging(specialTokens) { a, _ in a }
        let json = try JSONSerialization.data(withJSONObject: all, options: [.sortedKeys])
        try json.write(to: directory.appendingPathComponent("vocab.json"), options: .atomic)
        let lines = ["#version: 0.2"] + merges.map { "\($0.0) \($0.1)" }
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: directory.appendingPathComponent("merges.txt"), options: .atomic)
    }

    static func readData(_ url: URL) throws -> Data {
        do { return try Data(contentsOf: url) } catch {
            throw TokenizerFileError(file: url.path, problem: "cannot read the file")
        }
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
