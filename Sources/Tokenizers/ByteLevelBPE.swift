// ByteLevelBPE.swift — byte-level byte-pair encoding: GPT-2's tokenizer (and SmolLM's, Llama 3's), trainable.
//
// Teaches: BPE in two halves.
// - Training: start from the 256 byte symbols; count adjacent symbol pairs inside every pre-token
//   (weighted by how often the pre-token occurs); merge the most frequent pair into a new symbol;
//   repeat until the vocabulary is full. The ordered list of merges *is* the tokenizer.
// - Encoding: cut special tokens out of the text; normalise and pre-tokenize the rest (PreTokenizer.swift);
//   spell each piece in byte symbols, then apply merges — always the earliest-learned (lowest-rank)
//   pair present — until none applies; look the symbols up in the vocabulary.
// Merging works on ids, not strings: a merge table maps a pair of ids to (rank, merged id).
// Leaves out: byte fallback, dropout; training is the plain O(merges × corpus) loop.
import Foundation

/// A byte-level BPE tokenizer (GPT-2 style), with the pre-tokenizer and special tokens of its model.
public struct ByteLevelBPE: Tokenizer, Equatable {
    /// symbol (in byte-level characters) → id. Added/special tokens are not in here.
    public let vocabulary: [String: Int]
    /// The merges in rank order (the first was learned first).
    public let merges: [(String, String)]
    /// Added and special tokens → ids, matched whole in the text before anything else.
    public let specialTokens: [String: Int]
    /// How text is cut into pieces before merging.
    public let preTokenizer: PreTokenizer
    /// Unicode normalisations applied (in order) to text outside special tokens.
    public let normalizations: [UnicodeNormalization]
    /// Hugging Face's `ignore_merges` (Llama 3): a piece that is itself in the vocabulary is one token.
    public let ignoreMerges: Bool
    /// Ids `encode(_:addSpecialTokens: true)` puts before and after the text (e.g. BOS), from the
    /// post-processor (tokenizer.json) or `add_bos_token` (GGUF).
    public let prefixIDs: [Int], suffixIDs: [Int]
    /// Beginning/end of sequence and padding ids when the files name them.
    public let bos: Int?, eos: Int?, padding: Int?
    /// Added tokens that swallow the whitespace before (`lstrip`) or after (`rstrip`) them.
    public let leftStripping: Set<String>, rightStripping: Set<String>

    private let mergeTable: [UInt64: (rank: Int, merged: Int)]
    private let byteIDs: [Int]                 // byte → id of its symbol, -1 when absent
    private let symbols: [Int: String]         // id → symbol (including special tokens)
    private let specialsByFirstScalar: [Unicode.Scalar: [[Unicode.Scalar]]]

    /// A tokenizer from a vocabulary, ranked merges and special tokens, with GPT-2's pre-tokenizer by default.
    /// Library contract (not validated): every merge's parts and result are in `vocabulary`, ids are ≥ 0.
    public init(vocabulary: [String: Int], merges: [(String, String)], specialTokens: [String: Int] = [:],
                preTokenizer: PreTokenizer = .gpt2, normalizations: [UnicodeNormalization] = [], ignoreMerges: Bool = false,
                prefixIDs: [Int] = [], suffixIDs: [Int] = [], bos: Int? = nil, eos: Int? = nil, padding: Int? = nil,
                leftStripping: Set<String> = [], rightStripping: Set<String> = []) {
        self.vocabulary = vocabulary
        self.merges = merges
        self.specialTokens = specialTokens
        self.preTokenizer = preTokenizer
        self.normalizations = normalizations
        self.ignoreMerges = ignoreMerges
        self.prefixIDs = prefixIDs
        self.suffixIDs = suffixIDs
        self.bos = bos
        self.eos = eos
        self.padding = padding
        self.leftStripping = leftStripping
        self.rightStripping = rightStripping
        // The merge table: (left id, right id) → (rank, merged id); the first occurrence of a pair wins.
        var table: [UInt64: (rank: Int, merged: Int)] = [:]
        for (rank, merge) in merges.enumerated() {
            guard let left = vocabulary[merge.0], let right = vocabulary[merge.1], let merged = vocabulary[merge.0 + merge.1] else { continue }
            let key = Self.pairKey(left, right)
            if table[key] == nil { table[key] = (rank, merged) }
        }
        mergeTable = table
        byteIDs = ByteLevel.byteToCharacter.map { vocabulary[String($0)] ?? -1 }
        var symbols: [Int: String] = [:]
        for (symbol, id) in vocabulary {
            // Two symbols with one id (possible in GGUF token lists): decode to the smaller, deterministically.
            if let existing = symbols[id], existing <= symbol { continue }
            symbols[id] = symbol
        }
        for (token, id) in specialTokens { symbols[id] = token }
        self.symbols = symbols
        var byFirst: [Unicode.Scalar: [[Unicode.Scalar]]] = [:]
        for token in specialTokens.keys {
            let scalars = Array(token.unicodeScalars)
            if let first = scalars.first { byFirst[first, default: []].append(scalars) }
        }
        // Longest first, so "<|im_start|>" wins over a shorter token that is its prefix.
        specialsByFirstScalar = byFirst.mapValues { $0.sorted { $0.count > $1.count || ($0.count == $1.count && String(String.UnicodeScalarView($0)) < String(String.UnicodeScalarView($1))) } }
    }

    static func pairKey(_ left: Int, _ right: Int) -> UInt64 { UInt64(UInt32(truncatingIfNeeded: left)) << 32 | UInt64(UInt32(truncatingIfNeeded: right)) }

    public static func == (a: ByteLevelBPE, b: ByteLevelBPE) -> Bool {
        a.vocabulary == b.vocabulary && a.specialTokens == b.specialTokens
            && a.merges.map { $0.0 + " " + $0.1 } == b.merges.map { $0.0 + " " + $0.1 }
            && a.preTokenizer == b.preTokenizer && a.normalizations == b.normalizations && a.ignoreMerges == b.ignoreMerges
            && a.prefixIDs == b.prefixIDs && a.suffixIDs == b.suffixIDs && a.bos == b.bos && a.eos == b.eos
            && a.padding == b.padding && a.leftStripping == b.leftStripping && a.rightStripping == b.rightStripping
    }

    /// One more than the largest id of any token (vocabulary, special, prefix or suffix).
    public var vocabularySize: Int { max(symbols.keys.max() ?? -1, (prefixIDs + suffixIDs).max() ?? -1) + 1 }
    /// The end-of-sequence id the files name, else "<|endoftext|>" when it is a special token.
    public var endOfText: Int? { eos ?? specialTokens["<|endoftext|>"] }

    /// The token with id `id` (a byte-level symbol, or a special token as written), if there is one.
    public func token(for id: Int) -> String? { symbols[id] }

    // MARK: - Training

    /// Learns merges from `text` until the vocabulary (256 bytes + merges + special tokens) has
    /// `vocabularySize` entries or no pair occurs twice. Ties are broken by the pair's text order,
    /// so training is deterministic.
    public static func train(text: String, vocabularySize: Int, specialTokens: [String] = ["<|endoftext|>"]) -> ByteLevelBPE {
        // Pre-token frequencies, each spelled as byte symbols.
        var counts: [String: Int] = [:]
        for (segment, isSpecial) in splitSpecial(text, specials: specialTokens) where !isSpecial {
            for piece in ByteLevel.split(segment) { counts[ByteLevel.encodeBytes(piece), default: 0] += 1 }
        }
        var words = counts.sorted { $0.key < $1.key }.map { (symbols: $0.key.map { String($0) }, count: $0.value) }
        var vocabulary: [String: Int] = [:]
        for byte in 0..<256 { vocabulary[String(ByteLevel.byteToCharacter[byte])] = byte }
        var merges: [(String, String)] = []
        while vocabulary.count + specialTokens.count < vocabularySize {
            // Count every adjacent pair, weighted by word frequency.
            var pairCounts: [String: (pair: (String, String), count: Int)] = [:]
            for word in words where word.symbols.count > 1 {
                for i in 0..<(word.symbols.count - 1) {
                    let key = word.symbols[i] + " " + word.symbols[i + 1]
                    pairCounts[key, default: ((word.symbols[i], word.symbols[i + 1]), 0)].count += word.count
                }
            }
            guard let best = pairCounts.max(by: { $0.value.count < $1.value.count || ($0.value.count == $1.value.count && $0.key > $1.key) }),
                  best.value.count >= 2 else { break }
            let (left, right) = best.value.pair
            merges.append((left, right))
            vocabulary[left + right] = vocabulary.count
            // Apply the merge everywhere.
            for index in words.indices { words[index].symbols = merge(words[index].symbols, left, right) }
        }
        var specials: [String: Int] = [:]
        for token in specialTokens { specials[token] = vocabulary.count + specials.count }
        return ByteLevelBPE(vocabulary: vocabulary, merges: merges, specialTokens: specials)
    }

    /// `symbols` with every adjacent (left, right) replaced by left+right, scanning left to right.
    static func merge(_ symbols: [String], _ left: String, _ right: String) -> [String] {
        var result: [String] = []
        result.reserveCapacity(symbols.count)
        var i = 0
        while i < symbols.count {
            if i + 1 < symbols.count && symbols[i] == left && symbols[i + 1] == right {
                result.append(left + right)
                i += 2
            } else {
                result.append(symbols[i])
                i += 1
            }
        }
        return result
    }

    // MARK: - Encoding and decoding

    /// Splits text into (segment, isSpecialToken) pieces at every occurrence of a special token (the
    /// longest one where several start at the same place). Used by training, which has no tokenizer yet.
    static func splitSpecial(_ text: String, specials: [String]) -> [(String, Bool)] {
        ByteLevelBPE(vocabulary: [:], merges: [], specialTokens: Dictionary(specials.enumerated().map { ($0.element, $0.offset) }) { a, _ in a })
            .segments(text).map { ($0.text, $0.special != nil) }
    }

    /// The text cut at special tokens: plain segments (special == nil) and special tokens with their id.
    /// `lstrip`/`rstrip` tokens take the whitespace next to them out of the neighbouring segments.
    func segments(_ text: String) -> [(text: String, special: Int?)] {
        let s = Array(text.unicodeScalars)
        var result: [(text: String, special: Int?)] = []
        var plain = String.UnicodeScalarView()
        var stripNextLeadingSpace = false
        var i = 0
        func flush() {
            if !plain.isEmpty { result.append((String(plain), nil)) }
            plain = String.UnicodeScalarView()
        }
        while i < s.count {
            if let candidates = specialsByFirstScalar[s[i]],
               let match = candidates.first(where: { i + $0.count <= s.count && s[i..<(i + $0.count)].elementsEqual($0) }) {
                let token = String(String.UnicodeScalarView(match))
                if leftStripping.contains(token) {
                    while let last = plain.last, last.properties.isWhitespace { plain.removeLast() }
                }
                flush()
                result.append((token, specialTokens[token]))
                i += match.count
                stripNextLeadingSpace = rightStripping.contains(token)
                continue
            }
            if stripNextLeadingSpace && s[i].properties.isWhitespace { i += 1; continue }
            stripNextLeadingSpace = false
            plain.append(s[i])
            i += 1
        }
        flush()
        return result
    }

    /// The ids of one pre-token: its byte symbols, merged by rank until no merge applies.
    func bpe(_ piece: String) -> [Int] {
        if ignoreMerges, let id = vocabulary[ByteLevel.encodeBytes(piece)] { return [id] }
        var ids = piece.utf8.map { byteIDs[Int($0)] }
        while ids.count > 1 {
            // The lowest-ranked pair present.
            var best: (rank: Int, merged: Int, left: Int, right: Int)?
            for i in 0..<(ids.count - 1) {
                if let entry = mergeTable[Self.pairKey(ids[i], ids[i + 1])], best == nil || entry.rank < best!.rank {
                    best = (entry.rank, entry.merged, ids[i], ids[i + 1])
                }
            }
            guard let merge = best else { break }
            // Replace every (left, right), scanning left to right.
            var merged: [Int] = []
            merged.reserveCapacity(ids.count)
            var i = 0
            while i < ids.count {
                if i + 1 < ids.count && ids[i] == merge.left && ids[i + 1] == merge.right {
                    merged.append(merge.merged)
                    i += 2
                } else {
                    merged.append(ids[i])
                    i += 1
                }
            }
            ids = merged
        }
        // A byte whose symbol is missing from a (tiny) vocabulary has no id and is dropped, as in Hugging Face.
        return ids.filter { $0 >= 0 }
    }

    /// Text → ids, special tokens matched whole; no BOS/EOS added (see `encode(_:addSpecialTokens:)`).
    public func encode(_ text: String) -> [Int] {
        var ids: [Int] = []
        for segment in segments(text) {
            if let id = segment.special { ids.append(id); continue }
            var normalized = segment.text
            for form in normalizations { normalized = form.apply(normalized) }
            for piece in preTokenizer.pieces(of: normalized) { ids += bpe(piece) }
        }
        return ids
    }

    /// Text → ids, with the post-processor's `prefixIDs`/`suffixIDs` (e.g. BOS) when `addSpecialTokens`,
    /// like Hugging Face's `tokenizer.encode(text)` (`add_special_tokens=True`).
    public func encode(_ text: String, addSpecialTokens: Bool) -> [Int] {
        addSpecialTokens ? prefixIDs + encode(text) + suffixIDs : encode(text)
    }

    /// Ids → text. Special tokens are written as their text; unknown ids are skipped.
    public func decode(_ ids: [Int]) -> String {
        var text = ""
        var pending = ""
        for id in ids {
            guard let symbol = symbols[id] else { continue }
            if specialTokens[symbol] == id {
                text += ByteLevel.decodeBytes(pending) + symbol
                pending = ""
            } else {
                pending += symbol
            }
        }
        return text + ByteLevel.decodeBytes(pending)
    }
}

/// A Unicode normalisation form (Hugging Face's `NFC`, `NFD`, `NFKC`, `NFKD` normalizers).
public enum UnicodeNormalization: String, Sendable, Equatable {
    case nfc = "NFC", nfd = "NFD", nfkc = "NFKC", nfkd = "NFKD"

    /// `text` in this normal form.
    public func apply(_ text: String) -> String {
        switch self {
        case .nfc: return text.precomposedStringWithCanonicalMapping
        case .nfd: return text.decomposedStringWithCanonicalMapping
        case .nfkc: return text.precomposedStringWithCompatibilityMapping
        case .nfkd: return text.decomposedStringWithCompatibilityMapping
        }
    }
}
