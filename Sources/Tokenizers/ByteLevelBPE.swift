// ByteLevelBPE.swift — byte-level byte-pair encoding: GPT-2's tokenizer, trainable.
//
// Teaches: BPE in two halves.
// - Training: start from the 256 byte symbols; count adjacent symbol pairs inside every pre-token
//   (weighted by how often the pre-token occurs); merge the most frequent pair into a new symbol;
//   repeat until the vocabulary is full. The ordered list of merges *is* the tokenizer.
// - Encoding: split text into pre-tokens, spell each in byte symbols, then apply merges — always the
//   earliest-learned (lowest-rank) pair present — until none applies; look the symbols up in the vocab.
// Special tokens such as <|endoftext|> are cut out of the text first and map to their own ids.
// Leaves out: byte fallback, dropout, normalisers; training is the plain O(merges × corpus) loop.

/// A byte-level BPE tokenizer (GPT-2 style).
public struct ByteLevelBPE: Tokenizer, Equatable {
    /// symbol (in byte-level characters) → id.
    public let vocabulary: [String: Int]
    /// The merges in rank order (the first was learned first).
    public let merges: [(String, String)]
    /// Special tokens → ids (matched whole in the text).
    public let specialTokens: [String: Int]
    private let ranks: [String: Int]       // "a b" → rank
    private let symbols: [Int: String]     // id → symbol (including special tokens)

    /// A tokenizer from a vocabulary, ranked merges and special tokens.
    public init(vocabulary: [String: Int], merges: [(String, String)], specialTokens: [String: Int] = [:]) {
        self.vocabulary = vocabulary
        self.merges = merges
        self.specialTokens = specialTokens
        var ranks: [String: Int] = [:]
        for (rank, merge) in merges.enumerated() where ranks[merge.0 + " " + merge.1] == nil {
            ranks[merge.0 + " " + merge.1] = rank
        }
        self.ranks = ranks
        var symbols: [Int: String] = [:]
        for (symbol, id) in vocabulary { symbols[id] = symbol }
        for (token, id) in specialTokens { symbols[id] = token }
        self.symbols = symbols
    }

    public static func == (a: ByteLevelBPE, b: ByteLevelBPE) -> Bool {
        a.vocabulary == b.vocabulary && a.specialTokens == b.specialTokens
            && a.merges.map { $0.0 + " " + $0.1 } == b.merges.map { $0.0 + " " + $0.1 }
    }

    public var vocabularySize: Int { (symbols.keys.max() ?? -1) + 1 }
    public var endOfText: Int? { specialTokens["<|endoftext|>"] }

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

    /// Splits text into (segment, isSpecialToken) pieces, longest special token first.
    static func splitSpecial(_ text: String, specials: [String]) -> [(String, Bool)] {
        guard !specials.isEmpty else { return [(text, false)] }
        var pieces: [(String, Bool)] = []
        var rest = Substring(text)
        let ordered = specials.sorted { $0.count > $1.count }
        while !rest.isEmpty {
            // The earliest occurrence of any special token.
            var earliest: (range: Range<Substring.Index>, token: String)?
            for token in ordered {
                if let range = rest.range(of: token), earliest == nil || range.lowerBound < earliest!.range.lowerBound {
                    earliest = (range, token)
                }
            }
            guard let found = earliest else { pieces.append((String(rest), false)); break }
            if found.range.lowerBound > rest.startIndex { pieces.append((String(rest[..<found.range.lowerBound]), false)) }
            pieces.append((found.token, true))
            rest = rest[found.range.upperBound...]
        }
        return pieces
    }

    /// The symbols of one pre-token after applying merges by rank.
    func bpe(_ piece: String) -> [String] {
        var symbols = ByteLevel.encodeBytes(piece).map { String($0) }
        while symbols.count > 1 {
            // The lowest-ranked pair present.
            var best: (rank: Int, left: String, right: String)?
            for i in 0..<(symbols.count - 1) {
                if let rank = ranks[symbols[i] + " " + symbols[i + 1]], best == nil || rank < best!.rank {
                    best = (rank, symbols[i], symbols[i + 1])
                }
            }
            guard let merge = best else { break }
            symbols = ByteLevelBPE.merge(symbols, merge.left, merge.right)
        }
        return symbols
    }

    public func encode(_ text: String) -> [Int] {
        var ids: [Int] = []
        for (segment, isSpecial) in ByteLevelBPE.splitSpecial(text, specials: Array(specialTokens.keys)) {
            if isSpecial { ids.append(specialTokens[segment]!); continue }
            for piece in ByteLevel.split(segment) {
                // Every byte symbol is in the vocabulary, so every merged symbol is too.
                ids += bpe(piece).compactMap { vocabulary[$0] }
            }
        }
        return ids
    }

    public func decode(_ ids: [Int]) -> String {
        var text = ""
        var pending = ""
        for id in ids {
            guard let symbol = symbols[id] else { continue }
            if specialTokens[symbol] != nil {
                text += ByteLevel.decodeBytes(pending) + symbol
                pending = ""
            } else {
                pending += symbol
            }
        }
        return text + ByteLevel.decodeBytes(pending)
    }
}
