// ExportCheck.swift — does a fine-tune survive leaving TinyTune? Export it, load the files back with
// our own loaders, and ask each copy the same prompts.
//
// Teaches: an export is only proven by what the exported file *does*. The fine-tuned model in memory
// (LoRA adapters still separate) answers a few prompts greedily; the same model, adapters merged
// (W + s·B·A), is written as GGUF files (llama.cpp names, Q/K rows permuted for its RoPE; F32 keeps
// every value, F16 rounds each weight to 11 significant bits) and as a Hugging Face directory
// (config.json + model.safetensors in F32); each file is loaded back and must produce the very same
// greedy token ids. Greedy ids are a strict test: one flipped argmax anywhere changes the rest of the
// answer. The reference answers and the prompts' ids go into `answers.json` next to the exports, so a
// script can hold other readers (transformers, gguf) to the same answers (scripts/export/check_chapter15.py).
// Leaves out: quantized exports (Q8_0/Q4_0 round harder and are checked by `tinytune export`'s tests),
// logit-level tolerances (the answers are what users see), and the HF tokenizer files (tokenizer.json is
// written for a byte-level BPE tokenizer; `tinytune export --format hf` writes the complete directory).
import Foundation
import NN
import Tokenizers
import Checkpoints
import Training

/// Export-and-reload checks of a fine-tuned model (caseless namespace).
public enum ExportCheck {
    /// One exported copy and how it answered.
    public struct Result: Sendable, Codable, Equatable {
        /// "GGUF F32", "GGUF F16" or "HF safetensors F32".
        public var format: String
        /// The file or directory written.
        public var path: String
        /// Greedy token ids per prompt from the copy loaded back.
        public var answers: [[Int]]
        /// Prompts whose answer is exactly the reference's ids.
        public var same: Int

        /// A result from its parts (a failed export: no answers, `same` 0).
        public init(format: String, path: String, answers: [[Int]], same: Int) {
            (self.format, self.path, self.answers, self.same) = (format, path, answers, same)
        }
    }

    /// What `answers.json` holds: the prompts, the reference (in-memory) answers and each export's answers.
    public struct Record: Codable, Equatable {
        public var prompts: [String]
        public var promptIDs: [[Int]]
        public var maxNewTokens: [Int]
        public var referenceAnswers: [[Int]]
        public var referenceTexts: [String]
        public var exports: [Result]
    }

    /// Greedy answers (token ids, stop excluded) of `model` to each prompt, at most `maxNewTokens[i]` each.
    public static func answers(_ model: GPT, tokenizer: some Tokenizer, template: ChatTemplate?, prompts: [String],
                               maxNewTokens: [Int]) -> [[Int]] {
        zip(prompts, maxNewTokens).map { prompt, limit in
            TaskEvaluator.generateIDs(model, tokenizer: tokenizer, prompt: prompt, maxNewTokens: limit, template: template)
        }
    }

    /// Writes the plain (adapter-free) `merged` model into `directory` as one GGUF per `ggufTypes`
    /// (`<name>.<TYPE>.gguf`, with `ggufMetadata` — the tokenizer and chat template — appended) and as the
    /// HF directory `<name>-hf`, loads each back, and counts the prompts whose greedy ids equal `reference`.
    /// Also writes `directory/answers.json` (the `Record`). Throws the loaders' and writers' errors
    /// (a model with adapters left unmerged is refused by the GGUF writer, naming the parameter).
    public static func run(_ merged: GPT, tokenizer: some Tokenizer, template: ChatTemplate?, prompts: [String],
                           maxNewTokens: [Int], reference: [[Int]], directory: URL, name: String,
                           ggufTypes: [GGUF.TensorType] = [.f32, .f16],
                           ggufMetadata: [(key: String, value: GGUF.Value)] = []) throws -> [Result] {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        func result(_ format: String, _ url: URL, _ reloaded: GPT) -> Result {
            let answers = answers(reloaded, tokenizer: tokenizer, template: template, prompts: prompts, maxNewTokens: maxNewTokens)
            return Result(format: format, path: url.path, answers: answers, same: zip(answers, reference).filter { $0 == $1 }.count)
        }
        var results: [Result] = []
        for type in ggufTypes {
            let url = directory.appendingPathComponent("\(name).\(type.name).gguf")
            try ModelCheckpoint.saveGGUF(merged, to: url, type: type, name: name, extraMetadata: ggufMetadata)
            results.append(result("GGUF \(type.name)", url, try ModelCheckpoint.model(from: GGUF.File(contentsOf: url))))
        }
        let hf = directory.appendingPathComponent("\(name)-hf")
        try ModelCheckpoint.save(merged, to: hf)
        if let bpe = tokenizer as? ByteLevelBPE { try bpe.saveTokenizerJSON(to: hf.appendingPathComponent("tokenizer.json")) }
        results.append(result("HF safetensors F32", hf, try ModelCheckpoint.load(directory: hf)))

        let record = Record(prompts: prompts, promptIDs: prompts.map { tokenizer.encode($0) }, maxNewTokens: maxNewTokens,
                            referenceAnswers: reference, referenceTexts: reference.map { tokenizer.decode($0) }, exports: results)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try AtomicFile.write(try encoder.encode(record), to: directory.appendingPathComponent("answers.json"))
        return results
    }
}
