// CharTokenizer.swift — the simplest tokenizer: one id per character.
//
// Teaches: the vocabulary is just a list; encoding is a lookup. Character-level models need long
// sequences but tiny embedding tables, which suits our CPU-sized models and synthetic corpus.
// Leaves out: normalisation. Characters outside the alphabet cannot be encoded: `encode` maps them
// to `unknown` (when the alphabet has one) and `encodeChecked` throws naming the character.
import Foundation

/// A character outside the tokenizer's alphabet.
public struct UnknownCharacterError: Error, CustomStringConvertible, Equatable {
    public let character: Character
    /// Position (in characters) within the encoded text.
    public let offset: Int
    public var description: String { "character \(String(reflecting: String(character))) at offset \(offset) is not in the tokenizer's alphabet" }
}

/// One id per character of a fixed alphabet, plus an optional end-of-text id after them.
public struct CharTokenizer: Tokenizer, Codable, Equatable {
    /// id → character.
    public let alphabet: [Character]
    public let endOfText: Int?
    /// The id used for characters outside the alphabet by `encode` (nil: they are dropped).
    public let unknown: Int?
    private let ids: [Character: Int]

    /// A tokenizer over `alphabet` (duplicates removed, order kept). With `endOfText`, the id
    /// `alphabet.count` marks the end of a response. `unknownCharacter` (which must be in the
    /// alphabet) stands in for characters outside it.
    public init(alphabet: [Character], endOfText: Bool = true, unknownCharacter: Character? = "?") {
        var unique: [Character] = []
        var seen = Set<Character>()
        for c in alphabet where seen.insert(c).inserted { unique.append(c) }
        self.alphabet = unique
        let table = Dictionary(uniqueKeysWithValues: unique.enumerated().map { ($0.element, $0.offset) })
        ids = table
        self.endOfText = endOfText ? unique.count : nil
        unknown = unknownCharacter.flatMap { table[$0] }
    }

    /// A tokenizer over the sorted distinct characters of `text`.
    public init(fitting text: String, endOfText: Bool = true) {
        self.init(alphabet: Array(Set(text)).sorted(), endOfText: endOfText, unknownCharacter: nil)
    }

    public var vocabularySize: Int { alphabet.count + (endOfText == nil ? 0 : 1) }

    public func encode(_ text: String) -> [Int] {
        text.compactMap { ids[$0] ?? unknown }
    }

    /// Like `encode`, but throws on the first character outside the alphabet.
    public func encodeChecked(_ text: String) throws -> [Int] {
        try text.enumerated().map { offset, c in
            guard let id = ids[c] else { throw UnknownCharacterError(character: c, offset: offset) }
            return id
        }
    }

    /// Ids → text; the end-of-text id and out-of-range ids decode to nothing.
    public func decode(_ ids: [Int]) -> String {
        String(ids.compactMap { $0 >= 0 && $0 < alphabet.count ? alphabet[$0] : nil })
    }

    enum CodingKeys: String, CodingKey { case alphabet, endOfText, unknown }

    /// Reads the form `encode(to:)` writes. Throws `DecodingError.dataCorrupted` (naming the key) for a
    /// repeated character in the alphabet, an `unknown` id outside it, or an `endOfText` other than
    /// `alphabet.count`.
    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let text = try container.decode(String.self, forKey: .alphabet)
        let characters = Array(text)
        guard Set(characters).count == characters.count else {
            throw DecodingError.dataCorruptedError(forKey: .alphabet, in: container, debugDescription: "the alphabet repeats a character, so ids would shift")
        }
        let unknownID = try container.decodeIfPresent(Int.self, forKey: .unknown)
        if let unknownID, !(0..<characters.count).contains(unknownID) {
            throw DecodingError.dataCorruptedError(forKey: .unknown, in: container,
                                                   debugDescription: "unknown id \(unknownID) is outside the alphabet's ids 0..<\(characters.count)")
        }
        let endOfTextID = try container.decodeIfPresent(Int.self, forKey: .endOfText)
        if let endOfTextID, endOfTextID != characters.count {
            throw DecodingError.dataCorruptedError(forKey: .endOfText, in: container,
                                                   debugDescription: "endOfText is \(endOfTextID), but it must be the id after the alphabet (\(characters.count))")
        }
        self.init(alphabet: characters, endOfText: endOfTextID != nil, unknownCharacter: unknownID.map { characters[$0] })
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(String(alphabet), forKey: .alphabet)
        try container.encodeIfPresent(endOfText, forKey: .endOfText)
        try container.encodeIfPresent(unknown, forKey: .unknown)
    }
}
