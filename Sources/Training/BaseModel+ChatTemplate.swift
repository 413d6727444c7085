// BaseModel+ChatTemplate.swift — the conversation format of a base model, read from the model's own files.
//
// Teaches: where a model keeps its chat template, and what "the model's format" means for each kind of
// base `--base` accepts:
//   a GGUF file        the Jinja text in metadata `tokenizer.chat_template`; its BOS token is
//                      `tokenizer.ggml.tokens[tokenizer.ggml.bos_token_id]`;
//   a Hugging Face dir chat_template.jinja, else tokenizer_config.json's "chat_template"; BOS is that
//                      config's `bos_token`;
//   the built-in model plain "role: content" lines — what `tinytune finetune` trains it on — and so is
//   (or our checkpoint  a checkpoint whose tokenizer.json is TinyTune's character tokenizer.
//    of it)
// The text goes through `ChatTemplate(jinja:bosToken:)`, which recognises ChatML or Llama 3 and refuses
// anything else; the refusal here names the file (and key) it came from and suggests the override
// `plain|chatml|llama3`, which renders that family's standard form instead of reading the file.
// This bridge sits in Training because it needs Checkpoints (GGUF) and Tokenizers side by side.
// Leaves out: templates of other families (Mistral, Gemma, Phi), tool calls.
import Foundation
import Checkpoints
import Tokenizers

/// A base model's chat template could not be found or recognised; names the file it came from.
public struct BaseChatTemplateError: Error, CustomStringConvertible, Equatable {
    /// The GGUF file or the Hugging Face file (chat_template.jinja, tokenizer_config.json) at fault.
    public let file: String
    public let problem: String
    public var description: String { "\(file): \(problem)" }
}

extension ChatTemplate {
    /// The base model's template: `override` when given (the family's standard form); else the built-in
    /// model's (`base == nil`) plain layout; else read from the GGUF file or Hugging Face directory at
    /// `base`. A directory without a template whose `tokenizer` is TinyTune's character tokenizer is
    /// plain too. Throws `BaseChatTemplateError` naming the file for a missing or unrecognised template.
    public static func ofBase(_ base: URL?, tokenizer: any Tokenizer, override: Style? = nil) throws -> ChatTemplate {
        if let override { return ChatTemplate(style: override) }
        guard let base else { return ChatTemplate(style: .plain) }
        if base.pathExtension.lowercased() == "gguf" {
            return try ChatTemplate(gguf: try GGUF.File(contentsOf: base))
        }
        if let template = try ChatTemplate(huggingFaceDirectory: base) { return template }
        if tokenizer is CharTokenizer { return ChatTemplate(style: .plain) }
        throw BaseChatTemplateError(file: base.path, problem: "no chat template (neither chat_template.jinja nor "
                                    + "tokenizer_config.json \"chat_template\"); choose one with --template plain|chatml|llama3")
    }

    /// The template in `file`'s `tokenizer.chat_template`, with the model's BOS token.
    /// Throws `BaseChatTemplateError` naming the file and key when it is absent, not a string, or unrecognised.
    public init(gguf file: GGUF.File) throws {
        func fail(_ problem: String) -> BaseChatTemplateError { BaseChatTemplateError(file: file.label, problem: problem) }
        let key = "tokenizer.chat_template"
        guard let value = file.metadata[key] else {
            throw fail("has no \(key) metadata; choose a format with --template plain|chatml|llama3")
        }
        guard let text = value.string else { throw fail("\(key) is not a string") }
        var bos: String?
        if file.metadata["tokenizer.ggml.bos_token_id"] != nil {
            let id = try file.int("tokenizer.ggml.bos_token_id")
            guard let tokens = file.metadata["tokenizer.ggml.tokens"]?.strings, tokens.indices.contains(id) else {
                throw fail("tokenizer.ggml.bos_token_id \(id) is not an index of tokenizer.ggml.tokens")
            }
            bos = tokens[id]
        }
        do { try self.init(jinja: text, bosToken: bos) } catch let error as ChatTemplateError {
            throw fail("\(key): \(error.problem)")
        }
    }

    /// The template of a Hugging Face directory (nil when it has none), with tokenizer_config.json's BOS.
    /// Throws `BaseChatTemplateError` naming the file for an unrecognised template, and the tokenizer
    /// module's `TokenizerFileError` (naming file and key) for a malformed tokenizer_config.json.
    public init?(huggingFaceDirectory directory: URL) throws {
        do {
            guard let template = try TokenizerDirectory.chatTemplate(directory) else { return nil }
            self = template
        } catch let error as ChatTemplateError {
            let jinja = directory.appendingPathComponent("chat_template.jinja")
            let file = FileManager.default.fileExists(atPath: jinja.path) ? jinja.path
                : directory.appendingPathComponent("tokenizer_config.json").path + " \"chat_template\""
            throw BaseChatTemplateError(file: file, problem: error.problem)
        }
    }
}
