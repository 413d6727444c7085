// CharTokenizer+BuiltIn.swift — the tokenizer of the built-in data, defined next to that data.
//
// Teaches: a character tokenizer is fixed by its alphabet, and the built-in corpus and tasks are
// written in one known alphabet, so the tokenizer that reads them is a constant: one id per character
// of `SyntheticCorpus.alphabet`, plus end-of-text.
// Leaves out: tokenizers for user data (a model directory carries its own tokenizer.json).
import Tokenizers

extension CharTokenizer {
    /// The tokenizer of the built-in corpus and tasks: one id per character of the corpus alphabet,
    /// plus end-of-text.
    public static let builtIn = CharTokenizer(alphabet: SyntheticCorpus.alphabet)
}
