// RealModel.swift — the real pretrained model the last chapter and the tour fine-tune: SmolLM2-135M-
// Instruct from its llama.cpp GGUF file, with its tokenizer and chat template, and the probes that
// measure it before and after.
//
// Teaches: what changes when the base is a real foundation model instead of our 0.8M character model.
// - One file carries everything: the weights (Q4_1 blocks), the tokenizer and the chat template.
// - Each run loads its own copy: decoded to fp32 (LoRA, NF4 QLoRA, full fine-tuning) or with the 4-bit
//   blocks kept packed (QLoRA on the GGUF's own quantization) — a packed model cannot be `copy()`-ed.
// - Forgetting is measured where the book means it: perplexity on ordinary English the task never
//   shows, and greedy answers to everyday questions (`GeneralProbe`).
// A synthetic stand-in (a tiny random Llama written to a Q4_1 GGUF in a temporary directory, with a
// character tokenizer and a ChatML template) runs the very same code in tests, without the download.
// Leaves out: other model families (the GGUF loader refuses them by name), batched decoding.
import Foundation
import Kernels
import Autodiff
import NN
import Tokenizers
import Checkpoints
import Datasets
import Training
import Quantization

/// A pretrained chat model ready to fine-tune: how to load fresh copies, its tokenizer and template.
public struct RealModel {
    /// Where the chapter and the tour look for the model, relative to the package root.
    public static let defaultPath = "models/SmolLM2-135M-Instruct.Q4_1.gguf"
    /// How to get it.
    public static let fetchCommand = "sh scripts/fetch-smollm2.sh"

    /// The model is not where it was looked for.
    public struct Missing: Error, CustomStringConvertible {
        public let path: String
        public var description: String {
            "\(path) not found. Fetch SmolLM2-135M-Instruct (about 100 MB) with: \(RealModel.fetchCommand)"
        }
    }

    /// Which model an experiment runs on: the real file, or the synthetic stand-in tests use.
    public enum Source: Sendable {
        /// The GGUF file at this path (SmolLM2-135M-Instruct by default).
        case gguf(String)
        /// A tiny random Llama (tests: no download; it learns nothing real).
        case synthetic

        /// Opens the file (`RealModel.open`, throwing `Missing` when absent), or writes the synthetic
        /// stand-in into `scratch` (which the caller removes).
        public func open(scratch: URL) throws -> RealModel {
            switch self {
            case .gguf(let path): return try RealModel.open(path)
            case .synthetic: return try RealModel.synthetic(in: scratch)
            }
        }
    }

    /// One line: what was loaded.
    public let summary: String
    public let tokenizer: any Tokenizer
    /// The model's chat template (SmolLM2: ChatML with its default system prompt).
    public let template: ChatTemplate
    /// The architecture.
    public let config: GPTConfig
    /// The GGUF file every copy is loaded from.
    public let file: URL

    /// A fresh fp32 copy (the GGUF blocks decoded).
    public func loadFP32() throws -> GPT { try GGUFPackedModel.loadBase(file, packed: false).model }
    /// A fresh copy with the block-quantized matrices kept packed (frozen; LoRA can train on top), and
    /// the bytes those packed matrices hold.
    public func loadPacked() throws -> (model: GPT, packedBytes: Int) { try GGUFPackedModel.load(try GGUF.File(contentsOf: file)) }

    /// Opens the GGUF file at `path`; throws `Missing` (with the fetch command) when it is not there.
    public static func open(_ path: String = defaultPath) throws -> RealModel {
        guard FileManager.default.fileExists(atPath: path) else { throw Missing(path: path) }
        let url = URL(fileURLWithPath: path)
        let file = try GGUF.File(contentsOf: url)
        let config = try ModelCheckpoint.gptConfig(gguf: file)
        let template = try ChatTemplate(gguf: file)
        return RealModel(summary: "loaded \(url.lastPathComponent): " + file.summary(config: config), tokenizer: try ByteLevelBPE(gguf: file),
                         template: template, config: config, file: url)
    }

    /// The stand-in for tests: a tiny random Llama saved as a Q4_1 GGUF under `directory`, a character
    /// tokenizer fitted to every text the experiments use, and a ChatML template with a short system prompt.
    public static func synthetic(in directory: URL, seed: UInt64 = 15) throws -> RealModel {
        let template = ChatTemplate(style: .chatml, defaultSystemPrompt: "Be brief.")
        var text = GeneralProbe.passages.joined() + GeneralProbe.questions.map(\.text).joined()
            + template.render([ChatMessage(role: "user", content: "x"), ChatMessage(role: "assistant", content: "y")],
                              addGenerationPrompt: true)
        for part in ContactExtraction.Part.allCases {
            text += ContactExtraction.examples(part, count: 60, seed: seed).map { $0.userMessage + $0.answer }.joined()
        }
        text += ContactExtraction.instruction + "0123456789{}\":,"
        let tokenizer = CharTokenizer(fitting: text)
        // Widths are multiples of Q4_1's 32-value blocks.
        let config = GPTConfig.llama(vocabularySize: tokenizer.vocabularySize, contextLength: 512, embeddingSize: 64, layers: 2,
                                     heads: 4, kvHeads: 2, mlpSize: 128, tiedEmbeddings: true)
        var rng = RNG(seed: seed)
        let model = GPT(config: config, rng: &rng)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let url = directory.appendingPathComponent("synthetic-llama.Q4_1.gguf")
        try ModelCheckpoint.saveGGUF(model, to: url, type: .q4_1, name: "synthetic")
        return RealModel(summary: "synthetic tiny Llama (\(model.parameterCount()) parameters, Q4_1 GGUF, character tokenizer)",
                         tokenizer: tokenizer, template: template, config: config, file: url)
    }

    /// The GGUF metadata an export of a fine-tune needs to be complete: the tokenizer as
    /// `tokenizer.ggml.*` and the chat template, both from the base's file (none for a character
    /// tokenizer, which GGUF cannot describe).
    public func exportMetadata() throws -> [(key: String, value: GGUF.Value)] {
        guard let bpe = tokenizer as? ByteLevelBPE else { return [] }
        var metadata = try GGUFTokenizerMetadata(exporting: bpe).ggufValues
        if let text = try GGUF.File(contentsOf: file).metadata["tokenizer.chat_template"]?.string {
            metadata.append(("tokenizer.chat_template", .string(text)))
        }
        return metadata
    }

    // MARK: - Probes

    /// exp(mean next-token loss) over `passages` (each passage's own tokens; the first token is not predicted).
    public func perplexity(_ model: GPT, passages: [String]) -> Double {
        let rows = passages.map { passage -> TokenizedExample in
            let ids = Array(tokenizer.encode(passage).prefix(model.config.contextLength + 1))
            return TokenizedExample(ids: ids, weights: [0] + [Float](repeating: 1, count: max(ids.count - 1, 0)))
        }
        let context = max((rows.map(\.ids.count).max() ?? 2) - 1, 1)
        let batches = SFTBatchSource(examples: rows, batchSize: 4, contextLength: context, seed: 0, bucketed: true).allBatches()
        return Foundation.exp(Double(model.meanLoss(on: batches)))
    }

    /// The greedy reply to one user message under the chat template (at most `maxNewTokens`, ending at
    /// the end of the turn or a newline).
    public func reply(_ model: GPT, to message: String, maxNewTokens: Int) -> String {
        let prompt = template.render([ChatMessage(role: "user", content: message)], addGenerationPrompt: true)
        return TaskEvaluator.generate(model, tokenizer: tokenizer, prompt: prompt, maxNewTokens: maxNewTokens, template: template)
    }

    /// Greedy replies to `questions` and how many contain an accepted answer.
    public func answer(_ model: GPT, questions: [GeneralProbe.Question], maxNewTokens: Int) -> (replies: [String], correct: Int) {
        let replies = questions.map { reply(model, to: $0.text, maxNewTokens: maxNewTokens) }
        return (replies, zip(questions, replies).filter { $0.0.isAnswered(by: $0.1) }.count)
    }
}
