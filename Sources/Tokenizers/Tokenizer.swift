// Tokenizer.swift — the contract every tokenizer meets: text in, integer ids out, and back.
//
// Teaches: a tokenizer is a reversible map between strings and ids in 0..<vocabularySize.
// Leaves out: everything model-specific (normalisation, pre-tokenization, BOS, chat formats), which
// the concrete tokenizers and ChatTemplate add.

/// Maps text to token ids and back.
public protocol Tokenizer: Sendable {
    /// Number of distinct ids; every id returned by `encode` is in 0..<vocabularySize.
    var vocabularySize: Int { get }
    /// The id that marks the end of a document or response, if this tokenizer has one.
    var endOfText: Int? { get }
    /// Text → ids.
    func encode(_ text: String) -> [Int]
    /// Ids → text; `decode(encode(s)) == s` for every string the tokenizer can represent.
    func decode(_ ids: [Int]) -> String
}
