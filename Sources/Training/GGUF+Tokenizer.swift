// GGUF+Tokenizer.swift — the bridge from a GGUF file's metadata (Checkpoints) to its byte-level BPE
// tokenizer (Tokenizers), which sit side by side in the module graph and so meet here.
//
// Teaches: nothing new about either side — it copies `tokenizer.ggml.*` values into the plain
// `GGUFTokenizerMetadata` the tokenizer validates, naming the file and key when a value has the wrong type.
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
