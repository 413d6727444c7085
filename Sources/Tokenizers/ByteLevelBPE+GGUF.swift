// ByteLevelBPE+GGUF.swift — the tokenizer llama.cpp stores inside a GGUF file, as plain values.
//
// Teaches: a GGUF file carries its tokenizer as metadata arrays rather than a tokenizer.json:
//   tokenizer.ggml.model       "gpt2" for byte-level BPE (others: "llama" = SentencePiece, "bert", …)
//   tokenizer.ggml.pre         which pre-tokenizer regex the model uses ("smollm", "llama-bpe", "qwen2", …)
//   tokenizer.ggml.tokens      every token, its index is its id (byte-level symbols, e.g. "Ġthe")
//   tokenizer.ggml.merges      "left right" strings in rank order
//   tokenizer.ggml.token_type  1 normal, 2 unknown, 3 control, 4 user-defined, 5 unused, 6 byte
//   tokenizer.ggml.{bos,eos,padding,unknown}_token_id, add_bos_token, add_eos_token
// Control and user-defined tokens (`<|im_start|>`, `<|eot_id|>`) become added tokens, matched whole in
// text, exactly as Hugging Face's tokenizer.json `added_tokens` are. This file does not read GGUF bytes
// (Checkpoints does); it turns the values into a `ByteLevelBPE`, validating every one.
// Leaves out: the SentencePiece ("llama"), WordPiece ("bert") and RWKV tokenizer models.

/// The tokenizer metadata of a GGUF file, as plain values (the GGUF reader fills it in).
public struct GGUFTokenizerMetadata: Sendable, Equatable {
    /// `tokenizer.ggml.model`; only "gpt2" (byte-level BPE) is accepted.
    public var model: String
    /// `tokenizer.ggml.pre`, the pre-tokenizer name (nil when the key is absent: refused, since the split
    /// rules then are unknown).
    public var preTokenizer: String?
    /// `tokenizer.ggml.tokens`: token `i` has id `i`.
    public var tokens: [String]
    /// `tokenizer.ggml.merges`: "left right", in rank order.
    public var merges: [String]
    /// `tokenizer.ggml.token_type`, one per token (nil when absent: all normal).
    public var tokenTypes: [Int32]?
    /// `tokenizer.ggml.bos_token_id`, `eos_token_id`, `padding_token_id`, `unknown_token_id`.
    public var bosTokenID: Int?, eosTokenID: Int?, paddingTokenID: Int?, unknownTokenID: Int?
    /// `tokenizer.ggml.add_bos_token` / `add_eos_token`: whether `encode(_:addSpecialTokens: true)` adds them.
    public var addBOS: Bool, addEOS: Bool
    /// `tokenizer.ggml.add_space_prefix`; true is refused for "gpt2" (llama.cpp ignores it there, HF does not).
    public var addSpacePrefix: Bool

    /// Metadata with the given values; optional ones default to absent / false.
    public init(model: String, preTokenizer: String?, tokens: [String], merges: [String], tokenTypes: [Int32]? = nil,
                bosTokenID: Int? = nil, eosTokenID: Int? = nil, paddingTokenID: Int? = nil, unknownTokenID: Int? = nil,
                addBOS: Bool = false, addEOS: Bool = false, addSpacePrefix: Bool = false) {
        self.model = model
        self.preTokenizer = preTokenizer
        self.tokens = tokens
        self.merges = merges
        self.tokenTypes = tokenTypes
        self.bosTokenID = bosTokenID
        self.eosTokenID = eosTokenID
        self.paddingTokenID = paddingTokenID
        self.unknownTokenID = unknownTokenID
        self.addBOS = addBOS
        self.addEOS = addEOS
        self.addSpacePrefix = addSpacePrefix
    }
}

/// GGUF token types (`tokenizer.ggml.token_type`), as llama.cpp numbers them.
public enum GGUFTokenType: Int32, Sendable {
    case normal = 1, unknown = 2, control = 3, userDefined = 4, unused = 5, byte = 6
}

extension ByteLevelBPE {
    /// The byte-level BPE tokenizer described by GGUF metadata.
    ///
    /// Contract: gives the ids of the model's Hugging Face tokenizer.json (`encode(_:)`, without BOS) for
    /// every text; control (3) and user-defined (4) tokens are matched whole; `bos`/`eos`/`padding` are
    /// set from the ids; `encode(_:addSpecialTokens: true)` adds BOS/EOS per `addBOS`/`addEOS`.
    /// Throws `TokenizerFileError` (file "GGUF metadata", naming the key) when `model` is not "gpt2",
    /// the pre-tokenizer name is absent or unknown, `tokenTypes` has a different length than `tokens`
    /// or an unknown type, an id is outside `tokens`, a merge is not "a b" or names unknown tokens, or
    /// there are more tokens than `TokenizerLimits.maximumTokenID`.
    public init(gguf metadata: GGUFTokenizerMetadata) throws {
        func fail(_ key: String, _ problem: String) -> TokenizerFileError {
            TokenizerFileError(file: "GGUF metadata", problem: "tokenizer.ggml.\(key) \(problem)")
        }
        guard metadata.model == "gpt2" else {
            throw fail("model", "is \"\(metadata.model)\": only \"gpt2\" (byte-level BPE) tokenizers are implemented")
        }
        guard let preName = metadata.preTokenizer else {
            throw fail("pre", "is missing: without it the pre-tokenizer (and so the ids) is unknown")
        }
        let (preTokenizer, ignoreMerges) = try PreTokenizer.named(ggufPre: preName)
        if metadata.addSpacePrefix { throw fail("add_space_prefix", "is true: not implemented for gpt2 tokenizers") }
        let count = metadata.tokens.count
        guard count > 0 else { throw fail("tokens", "is empty") }
        guard count <= TokenizerLimits.maximumTokenID else { throw fail("tokens", "has \(count) entries, more than \(TokenizerLimits.maximumTokenID)") }
        let types = metadata.tokenTypes ?? Array(repeating: GGUFTokenType.normal.rawValue, count: count)
        guard types.count == count else { throw fail("token_type", "has \(types.count) entries for \(count) tokens") }

        // Split the tokens into the merged vocabulary and the added (control / user-defined) tokens.
        var vocabulary: [String: Int] = [:]
        var specials: [String: Int] = [:]
        for (id, token) in metadata.tokens.enumerated() {
            guard let type = GGUFTokenType(rawValue: types[id]) else { throw fail("token_type", "[\(id)] is \(types[id]), not a GGUF token type (1…6)") }
            if type == .control || type == .userDefined {
                guard !token.isEmpty else { throw fail("tokens", "[\(id)] is an empty \(type) token") }
                if specials[token] == nil { specials[token] = id }
            } else if vocabulary[token] == nil {
                vocabulary[token] = id           // a repeated string keeps its first id
            }
        }
        // Hugging Face keeps added tokens in the vocabulary too, so merges may name them.
        let mergeable = vocabulary.merging(specials) { regular, _ in regular }
        var merges: [(String, String)] = []
        merges.reserveCapacity(metadata.merges.count)
        for (index, text) in metadata.merges.enumerated() {
            let parts = text.split(separator: " ", omittingEmptySubsequences: false)
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else { throw fail("merges", "[\(index)] \"\(text)\" is not two symbols separated by one space") }
            merges.append((String(parts[0]), String(parts[1])))
        }
        try Self.checkMerges(merges, vocabulary: mergeable, file: "GGUF metadata (tokenizer.ggml.merges)")

        func checkedID(_ id: Int?, _ key: String) throws -> Int? {
            guard let id else { return nil }
            guard id >= 0 && id < count else { throw fail(key, "is \(id), outside the \(count) tokens") }
            return id
        }
        let bos = try checkedID(metadata.bosTokenID, "bos_token_id")
        let eos = try checkedID(metadata.eosTokenID, "eos_token_id")
        let padding = try checkedID(metadata.paddingTokenID, "padding_token_id")
        _ = try checkedID(metadata.unknownTokenID, "unknown_token_id")   // byte-level BPE never needs it
        if metadata.addBOS && bos == nil { throw fail("add_bos_token", "is true but bos_token_id is missing") }
        if metadata.addEOS && eos == nil { throw fail("add_eos_token", "is true but eos_token_id is missing") }
        self.init(vocabulary: vocabulary, merges: merges, specialTokens: specials, preTokenizer: preTokenizer,
                  ignoreMerges: ignoreMerges, prefixIDs: metadata.addBOS ? [bos].compactMap { $0 } : [],
                  suffixIDs: metadata.addEOS ? [eos].compactMap { $0 } : [], bos: bos, eos: eos, padding: padding)
    }
}
