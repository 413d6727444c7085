// ChatFormat.swift — how `generate --chat`, `chat` and `eval` pick the conversation format of a base.
//
// Teaches: a chat model only answers well when the conversation is laid out exactly as in its
// fine-tuning: special markers around each turn, its default system prompt, and an open assistant
// turn at the end (`add_generation_prompt`). Generation then stops at the end-of-turn token.
// The format is the base model's own chat template (`ChatTemplate.ofBase`, Training: a GGUF file's
// `tokenizer.chat_template`, a Hugging Face directory's chat_template.jinja / tokenizer_config.json, the
// plain "role: content" layout for the built-in model), or the one `--template plain|chatml|llama3` names.
// Leaves out: templates other than ChatML and Llama 3 (refused with the file's name and the override).
import Foundation
import CommandLineOptions
import Tokenizers
import Training

enum ChatFormat {
    /// The option every inference command takes.
    static let option = "template"

    /// Help line for `--template`.
    static let help = """
          --template NAME      conversation format: plain, chatml or llama3 (default: the model's own
                               chat template; plain "role: content" lines for the built-in model)
        """

    /// The `--template` override, if given.
    static func override(_ options: Options) throws -> ChatTemplate.Style? {
        guard let name = options.string(option) else { return nil }
        guard let style = ChatTemplate.Style(rawValue: name.lowercased()) else {
            throw UsageError(description: "--template must be plain, chatml or llama3, got '\(name)'")
        }
        return style
    }

    /// The format for `model`: the `--template` override, else the base's own chat template.
    static func forBase(_ model: InferenceModel, options: Options) throws -> ChatTemplate {
        try ChatTemplate.ofBase(model.base, tokenizer: model.tokenizer, override: override(options))
    }
}

extension ChatTemplate {
    /// Token ids that end a reply: each stop string the tokenizer encodes as one token, and end-of-text.
    func stopTokens(_ tokenizer: any Tokenizer) -> Set<Int> {
        var stops = Set(tokenizer.endOfText.map { [$0] } ?? [])
        for marker in stopStrings {
            let ids = tokenizer.encode(marker)
            if ids.count == 1 { stops.insert(ids[0]) }
        }
        return stops
    }
}
