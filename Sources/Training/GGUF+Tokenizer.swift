// GGUF+Tokenizer.swift — the bridge from a GGUF file's metadata (Checkpoints) to its byte-level BPE
// tokenizer (Tokenizers), which sit side by side in the module graph and so meet here.
//
// Teaches: nothing new about either side — it copies `tokenizer.ggml.*` values into the plain
// `GGUFTokenizerMetadata` the tokenizer validates, naming the file and key when a value has the wrong type.
// And back, for `tinytune export`: a byte-level BPE tokenizer as `tokenizer.ggml.*` values, its
// pre-tokenizer named the way llama.cpp names it.
// Leaves out: tokenizers other than byte-level BPE (ByteLevelBPE(gguf:) refuses them by name).
import Checkpoints
import Tokenizers

extension GGUFTokenizerMetadata {
    /// The tokenizer metadata of `file`. Throws `GGUF.Error` for a missing or mistyped
    /// `tokenizer.ggml.model`, `tokens` or `merges` (the tokenizer then validates the values themselves).
    public init(gguf file: GGUF.File) throws {
        func strings(_ key: String) throws -> [String] {
            guard let values = try file.value(key).strings else {
                throw GGUF.Error(file: file.label, problem: .wrongValueType(key: key, expected: "an array of strings"))
            }
            return values
        }
        var types: [Int32]?
        if file.metadata["tokenizer.ggml.token_type"] != nil {
            guard let ints = file.metadata["tokenizer.ggml.token_type"]?.ints else {
                throw GGUF.Error(file: file.label, problem: .wrongValueType(key: "tokenizer.ggml.token_type", expected: "an array of integers"))
            }
            types = ints.map { Int32(clamping: $0) }
        }
        func flag(_ key: String) throws -> Bool {
            guard let value = file.metadata[key] else { return false }
            guard let flag = value.bool else { throw GGUF.Error(file: file.label, problem: .wrongValueType(key: key, expected: "a bool")) }
            return flag
        }
        self.init(model: try file.string("tokenizer.ggml.model"),
                  preTokenizer: try file.optional("tokenizer.ggml.pre", file.string),
                  tokens: try strings("tokenizer.ggml.tokens"),
                  merges: file.metadata["tokenizer.ggml.merges"] == nil ? [] : try strings("tokenizer.ggml.merges"),
                  tokenTypes: types,
                  bosTokenID: try file.optional("tokenizer.ggml.bos_token_id", file.int),
                  eosTokenID: try file.optional("tokenizer.ggml.eos_token_id", file.int),
                  paddingTokenID: try file.optional("tokenizer.ggml.padding_token_id", file.int),
                  unknownTokenID: try file.optional("tokenizer.ggml.unknown_token_id", file.int),
                  addBOS: try flag("tokenizer.ggml.add_bos_token"), addEOS: try flag("tokenizer.ggml.add_eos_token"),
                  addSpacePrefix: try flag("tokenizer.ggml.add_space_prefix"))
    }
}

extension ByteLevelBPE {
    /// The byte-level BPE tokenizer stored in `file`'s `tokenizer.ggml.*` metadata.
    public init(gguf file: GGUF.File) throws {
        try self.init(gguf: GGUFTokenizerMetadata(gguf: file))
    }
}

extension GGUFTokenizerMetadata {
    /// The metadata that describes `tokenizer` in a GGUF file (the inverse of `ByteLevelBPE(gguf:)`):
    /// every id's token, special tokens as control tokens, merges as "left right", the special ids, and
    /// the `tokenizer.ggml.pre` name of its pre-tokenizer. Throws `GGUF.Error` for an id without a token
    /// or a pre-tokenizer llama.cpp has no name for.
    public init(exporting tokenizer: ByteLevelBPE) throws {
        func fail(_ problem: String) -> GGUF.Error { GGUF.Error(file: "(export)", problem: .writer("tokenizer: \(problem)")) }
        var tokens: [String] = [], types: [Int32] = []
        let specialIDs = Set(tokenizer.specialTokens.values)
        for id in 0..<tokenizer.vocabularySize {
            guard let token = tokenizer.token(for: id) else { throw fail("id \(id) has no token (GGUF needs one per id)") }
            tokens.append(token)
            types.append(specialIDs.contains(id) ? GGUFTokenType.control.rawValue : GGUFTokenType.normal.rawValue)
        }
        let names: [(PreTokenizer, Bool, String)] = [(.smolLM, false, "smollm"), (.llama3, true, "llama-bpe"),
                                                     (.qwen2, false, "qwen2"), (.gpt2, false, "gpt2")]
        guard let pre = names.first(where: { $0.0 == tokenizer.preTokenizer && $0.1 == tokenizer.ignoreMerges })?.2 else {
            throw fail("its pre-tokenizer has no llama.cpp name (GGUF export knows gpt2, smollm, llama-bpe, qwen2)")
        }
        guard tokenizer.normalizations.isEmpty, tokenizer.prefixIDs.isEmpty, tokenizer.suffixIDs.isEmpty else {
            throw fail("normalizers and added prefix/suffix tokens have no GGUF gpt2 equivalent")
        }
        self.init(model: "gpt2", preTokenizer: pre, tokens: tokens, merges: tokenizer.merges.map { "\($0.0) \($0.1)" },
                  tokenTypes: types, bosTokenID: tokenizer.bos, eosTokenID: tokenizer.eos, paddingTokenID: tokenizer.padding)
    }

    /// The `tokenizer.ggml.*` key/values of this metadata, in llama.cpp's order.
    public var ggufValues: [(key: String, value: GGUF.Value)] {
        get throws {
            var values: [(key: String, value: GGUF.Value)] = [("tokenizer.ggml.model", .string(model))]
            if let preTokenizer { values.append(("tokenizer.ggml.pre", .string(preTokenizer))) }
            values.append(("tokenizer.ggml.tokens", try .array(of: .string, tokens.map { .string($0) })))
            if let tokenTypes { values.append(("tokenizer.ggml.token_type", try .array(of: .int32, tokenTypes.map { .int32($0) }))) }
            values.append(("tokenizer.ggml.merges", try .array(of: .string, merges.map { .string($0) })))
            for (key, id) in [("bos", bosTokenID), ("eos", eosTokenID), ("padding", paddingTokenID), ("unknown", unknownTokenID)] {
                if let id { values.append(("tokenizer.ggml.\(key)_token_id", .uint32(UInt32(clamping: id)))) }
            }
            values.append(("tokenizer.ggml.add_bos_token", .bool(addBOS)))
            values.append(("tokenizer.ggml.add_eos_token", .bool(addEOS)))
            return values
        }
    }
}
