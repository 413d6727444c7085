// ChatFormat.swift — how `generate --chat` and `chat` turn a conversation into the model's input.
//
// Teaches: a chat model only answers well when the conversation is laid out exactly as in its
// fine-tuning: special markers around each turn, its default system prompt, and an open assistant
// turn at the end (`add_generation_prompt`). Generation then stops at the end-of-turn token.
// Two layouts here:
//   plain  — the built-in model's (and `tinytune finetune`'s) "role: content\n" turns, ending "assistant: ";
//   ChatML — "<|im_start|>role\ncontent<|im_end|>\n" (SmolLM2, Qwen), recognised from the model
//            directory's chat_template.jinja / tokenizer_config.json, with its default system prompt.
// This is the CLI's one rendering function (`ChatFormat.forBase` + `render`): when the Tokenizers
// module's chat templates land (Jinja templates from tokenizer_config.json / GGUF metadata, Llama 3),
// swap `forBase` to build the format from them; nothing else in the commands renders chats.
// Leaves out: Llama-3 and other templates (refused with a clear message), tool calls.
import Foundation
import Tokenizers
import Datasets

/// One turn of a conversation.
struct ChatMessage: Equatable {
    /// "system", "user" or "assistant".
    let role: String
    let content: String
}

/// A conversation layout, with the text that ends an assistant turn.
enum ChatFormat: Equatable {
    /// "role: content\n" per turn (the built-in model's layout, as in JSONLines).
    case plain
    /// ChatML turns; `defaultSystem` is used when the conversation has no system turn.
    case chatML(defaultSystem: String?)

    /// The conversation as model input; with `addGenerationPrompt`, followed by an open assistant turn.
    func render(_ messages: [ChatMessage], addGenerationPrompt: Bool) -> String {
        switch self {
        case .plain:
            return messages.map { JSONLines.render(role: $0.role, content: $0.content) }.joined()
                + (addGenerationPrompt ? "assistant: " : "")
        case .chatML(let defaultSystem):
            var turns = messages
            if turns.first?.role != "system", let defaultSystem { turns.insert(ChatMessage(role: "system", content: defaultSystem), at: 0) }
            return turns.map { "<|im_start|>\($0.role)\n\($0.content)<|im_end|>\n" }.joined()
                + (addGenerationPrompt ? "<|im_start|>assistant\n" : "")
        }
    }

    /// Token ids that end a reply: the end-of-turn marker (plain: a newline) and end-of-text.
    func stopTokens(_ tokenizer: any Tokenizer) -> Set<Int> {
        var stops = Set(tokenizer.endOfText.map { [$0] } ?? [])
        let marker = self == .plain ? "\n" : "<|im_end|>"
        let ids = tokenizer.encode(marker)
        if ids.count == 1 { stops.insert(ids[0]) }
        return stops
    }

    /// The format of a base model: plain for the built-in model (no directory), else from the
    /// directory's chat template. Throws when the template is missing or not one we render.
    static func forBase(_ directory: URL?, tokenizer: any Tokenizer) throws -> ChatFormat {
        guard let directory else { return .plain }
        guard let template = try chatTemplate(in: directory) else {
            if tokenizer is CharTokenizer { return .plain }
            throw UsageError(description: "\(directory.path): no chat template (chat_template.jinja or tokenizer_config.json \"chat_template\"); use a prompt without --chat")
        }
        guard template.contains("<|im_start|>") else {
            throw UsageError(description: "\(directory.path): unrecognised chat template (only ChatML is rendered here): \(template.prefix(60))…")
        }
        guard tokenizer.encode("<|im_end|>").count == 1 else {
            throw UsageError(description: "\(directory.path): the template is ChatML but the tokenizer has no <|im_end|> token")
        }
        return .chatML(defaultSystem: defaultSystemPrompt(inChatML: template))
    }

    /// The template text of a Hugging Face directory, if it has one.
    static func chatTemplate(in directory: URL) throws -> String? {
        let jinja = directory.appendingPathComponent("chat_template.jinja")
        if let text = try? String(contentsOf: jinja, encoding: .utf8) { return text }
        let config = directory.appendingPathComponent("tokenizer_config.json")
        guard let data = try? Data(contentsOf: config) else { return nil }
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw UsageError(description: "\(config.path): not a JSON object")
        }
        return object["chat_template"] as? String
    }

    /// The system text a ChatML template inserts when the conversation has none: the literal between
    /// "<|im_start|>system\n" and "<|im_end|>" (nil when the template inserts none).
    static func defaultSystemPrompt(inChatML template: String) -> String? {
        guard let start = template.range(of: "<|im_start|>system\n"),
              let end = template.range(of: "<|im_end|>", range: start.upperBound..<template.endIndex) else { return nil }
        let text = String(template[start.upperBound..<end.lowerBound])
        // A template that writes the caller's system message here has Jinja code, not a literal.
        return text.contains("{{") || text.contains("{%") ? nil : text
    }
}
