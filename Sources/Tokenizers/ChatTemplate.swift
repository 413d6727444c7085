// ChatTemplate.swift — the conversation format a chat model was trained on: ChatML and Llama 3.
//
// Teaches: an instruct model only answers well when the prompt looks exactly like its training data, down
// to each newline. Models ship that format as a Jinja template (`tokenizer.chat_template` in GGUF,
// `chat_template` in tokenizer_config.json or chat_template.jinja). Two families cover most small models:
//   ChatML (SmolLM2, Qwen):  <|im_start|>{role}\n{content}<|im_end|>\n … then <|im_start|>assistant\n
//   Llama 3:                 <|begin_of_text|><|start_header_id|>{role}<|end_header_id|>\n\n{content}<|eot_id|>
// We do not interpret Jinja. We recognise which family a template is, read the few literals that vary
// (the default system prompt SmolLM2 and Qwen insert when there is none, the generation prompt, whether
// content is trimmed, whether BOS is written) and render the family in Swift. A template we cannot
// recognise — or one with features we do not render (Qwen 3's thinking blocks, Llama 3.1's dated system
// header) — is an error, never a half-rendered prompt. `render(segments:)` also says which text is the
// assistant's, for training with the loss only on assistant turns.
// Leaves out: tool calls, multimodal content, other families (Mistral [INST], Gemma, Phi).
import Foundation

/// One turn of a conversation.
public struct ChatMessage: Sendable, Equatable, Codable {
    /// "system", "user" or "assistant" (other roles are written as given).
    public var role: String
    public var content: String
    /// A message from `role` with `content`.
    public init(role: String, content: String) {
        self.role = role
        self.content = content
    }
}

/// A piece of a rendered conversation, marked when it is text the assistant produces.
public struct ChatSegment: Sendable, Equatable {
    public var text: String
    /// True for an assistant message's content and its end-of-turn marker (what a model learns to write).
    public var isAssistant: Bool
    /// A segment of `text`.
    public init(text: String, isAssistant: Bool) {
        self.text = text
        self.isAssistant = isAssistant
    }
}

/// A chat template that could not be recognised or read.
public struct ChatTemplateError: Error, CustomStringConvertible, Equatable {
    public let problem: String
    public var description: String { "chat template: \(problem)" }
}

/// A conversation format (ChatML, Llama 3, or plain text) with the literals its model's template uses.
public struct ChatTemplate: Sendable, Equatable {
    /// The template families, also the names of the CLI's `--template plain|chatml|llama3` override.
    public enum Style: String, Sendable, CaseIterable {
        /// "User: …\nAssistant: …" lines, for base models without a chat format.
        case plain
        case chatml
        case llama3
    }

    public let style: Style
    /// Inserted as a system message when the conversation does not start with one (SmolLM2, Qwen).
    public let defaultSystemPrompt: String?
    /// Appended when `addGenerationPrompt`, e.g. "<|im_start|>assistant\n".
    public let generationPrompt: String
    /// Written before the first message (Llama 3: "<|begin_of_text|>"; a ChatML template that writes
    /// `bos_token`: the model's BOS), or "" for none.
    public let bosToken: String
    /// Whether message content is stripped of surrounding whitespace (Llama 3's `| trim`).
    public let trimsContent: Bool

    /// A template of `style` with explicit literals (defaults: the family's standard form, no default system prompt).
    public init(style: Style, defaultSystemPrompt: String? = nil, generationPrompt: String? = nil, bosToken: String? = nil,
                trimsContent: Bool? = nil) {
        self.style = style
        self.defaultSystemPrompt = defaultSystemPrompt
        switch style {
        case .plain: self.generationPrompt = generationPrompt ?? "Assistant:"
        case .chatml: self.generationPrompt = generationPrompt ?? "<|im_start|>assistant\n"
        case .llama3: self.generationPrompt = generationPrompt ?? "<|start_header_id|>assistant<|end_header_id|>\n\n"
        }
        self.bosToken = bosToken ?? (style == .llama3 ? "<|begin_of_text|>" : "")
        self.trimsContent = trimsContent ?? (style == .llama3)
    }

    /// The standard template called `name` ("plain", "chatml", "llama3"), for the CLI override.
    public static func named(_ name: String) throws -> ChatTemplate {
        guard let style = Style(rawValue: name.lowercased()) else {
            throw ChatTemplateError(problem: "unknown template \"\(name)\" (choose plain, chatml or llama3)")
        }
        return ChatTemplate(style: style)
    }

    /// Recognises the family of a Jinja chat template and reads its literals. `bosToken` is the model's BOS
    /// text (GGUF: `tokens[bos_token_id]`; HF: tokenizer_config.json's `bos_token`), used if the template
    /// writes `bos_token` (Llama 3 default "<|begin_of_text|>"; a ChatML template needs it given).
    /// Throws `ChatTemplateError` for a template that is neither ChatML nor Llama 3, or uses what we do not render.
    public init(jinja: String, bosToken: String? = nil) throws {
        let text = ChatTemplate.withoutWhitespaceControl(jinja)
        let trims = text.range(of: #"content'?\]?\s*\|\s*trim"#, options: .regularExpression) != nil || text.contains(".strip()")
        let generation = ChatTemplate.generationPromptLiteral(text)
        if text.contains("eos_token") {
            throw ChatTemplateError(problem: "the template writes eos_token after turns, which the ChatML and Llama 3 renderings do not; use --template")
        }
        let writesBOS = text.contains("bos_token")
        if text.contains("<|im_start|>") && text.contains("<|im_end|>") {
            if text.contains("<think>") || text.contains("enable_thinking") {
                throw ChatTemplateError(problem: "a ChatML template with thinking blocks (Qwen 3 style) is not supported; use --template chatml to render plain ChatML")
            }
            guard text.range(of: #"'<\|im_start\|>'\s*\+\s*message(\['role'\]|\.role)"#, options: .regularExpression) != nil else {
                throw ChatTemplateError(problem: "uses <|im_start|> but not in the ChatML layout '<|im_start|>' + message['role'] + …; use --template")
            }
            if writesBOS && bosToken == nil {
                throw ChatTemplateError(problem: "the ChatML template writes bos_token, but the model's BOS token was not given")
            }
            self.init(style: .chatml, defaultSystemPrompt: ChatTemplate.defaultSystemLiteral(text), generationPrompt: generation,
                      bosToken: writesBOS ? bosToken : "", trimsContent: trims)
        } else if text.contains("<|start_header_id|>") && text.contains("<|end_header_id|>") && text.contains("<|eot_id|>") {
            if text.contains("Cutting Knowledge Date") || text.contains("tools_in_user_message") {
                throw ChatTemplateError(problem: "a Llama 3.1+ template (dated system header, tools) is not supported; use --template llama3 to render Llama 3.0's format")
            }
            self.init(style: .llama3, defaultSystemPrompt: nil, generationPrompt: generation,
                      bosToken: writesBOS ? (bosToken ?? "<|begin_of_text|>") : "", trimsContent: trims)
        } else {
            let excerpt = String(jinja.prefix(80)).replacingOccurrences(of: "\n", with: "\\n")
            throw ChatTemplateError(problem: "not a recognised ChatML or Llama 3 template (\"\(excerpt)…\"); use --template plain|chatml|llama3")
        }
    }

    /// What ends an assistant turn: generation stops when one of these is produced.
    public var stopStrings: [String] {
        switch style {
        case .plain: return ["\nUser:"]
        case .chatml: return ["<|im_end|>"]
        case .llama3: return ["<|eot_id|>"]
        }
    }

    /// The ids of the stop strings that are special tokens of `tokenizer`, plus its EOS.
    public func stopTokenIDs(in tokenizer: ByteLevelBPE) -> [Int] {
        var ids = stopStrings.compactMap { tokenizer.specialTokens[$0] }
        if let eos = tokenizer.endOfText, !ids.contains(eos) { ids.append(eos) }
        return ids
    }

    // MARK: - Rendering

    /// The conversation as the model's prompt text; with `addGenerationPrompt`, ready for the assistant's reply.
    public func render(_ messages: [ChatMessage], addGenerationPrompt: Bool) -> String {
        render(segments: messages, addGenerationPrompt: addGenerationPrompt).map(\.text).joined()
    }

    /// The same text as `render`, cut into segments that mark each assistant message's content and end marker.
    public func render(segments messages: [ChatMessage], addGenerationPrompt: Bool) -> [ChatSegment] {
        var segments: [ChatSegment] = []
        func add(_ text: String, assistant: Bool = false) {
            guard !text.isEmpty else { return }
            if let last = segments.last, last.isAssistant == assistant { segments[segments.count - 1].text += text }
            else { segments.append(ChatSegment(text: text, isAssistant: assistant)) }
        }
        var turns = messages
        if let system = defaultSystemPrompt, let first = messages.first, first.role != "system" {
            turns.insert(ChatMessage(role: "system", content: system), at: 0)
        }
        for (index, message) in turns.enumerated() {
            let content = trimsContent ? message.content.trimmingCharacters(in: .whitespacesAndNewlines) : message.content
            let isAssistant = message.role == "assistant"
            switch style {
            case .chatml:
                add((index == 0 ? bosToken : "") + "<|im_start|>\(message.role)\n")
                add(content + "<|im_end|>", assistant: isAssistant)
                add("\n")
            case .llama3:
                add((index == 0 ? bosToken : "") + "<|start_header_id|>\(message.role)<|end_header_id|>\n\n")
                add(content + "<|eot_id|>", assistant: isAssistant)
            case .plain:
                let label = message.role.prefix(1).uppercased() + message.role.dropFirst()
                add("\(label): ")
                add(content, assistant: isAssistant)
                add("\n")
            }
        }
        if addGenerationPrompt { add(generationPrompt) }
        return segments
    }

    // MARK: - Reading the template's literals

    /// Jinja's whitespace-control dashes (`{%-`, `-}}`) removed, so patterns see one spelling.
    static func withoutWhitespaceControl(_ text: String) -> String {
        var result = text
        for (dashed, plain) in [("{%-", "{%"), ("-%}", "%}"), ("{{-", "{{"), ("-}}", "}}")] {
            result = result.replacingOccurrences(of: dashed, with: plain)
        }
        return result
    }

    /// The value of a Jinja string literal's body (`\n`, `\t`, `\'`, `\"`, `\\` unescaped).
    static func unescape(_ body: Substring) -> String {
        var result = ""
        var escaping = false
        for character in body {
            if escaping {
                switch character {
                case "n": result.append("\n")
                case "t": result.append("\t")
                default: result.append(character)
                }
                escaping = false
            } else if character == "\\" {
                escaping = true
            } else {
                result.append(character)
            }
        }
        return result
    }

    /// The first single- or double-quoted literal matching `pattern` (whose capture group 1 is the body).
    static func firstLiteral(_ text: String, pattern: String) -> String? {
        guard let regex = try? NSRegularExpression(pattern: pattern, options: [.dotMatchesLineSeparators]),
              let match = regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)),
              let range = Range(match.range(at: 1), in: text) else { return nil }
        return unescape(text[range])
    }

    /// `{% if add_generation_prompt %}{{ '…' }}` → the literal.
    static func generationPromptLiteral(_ text: String) -> String? {
        firstLiteral(text, pattern: #"\{%\s*if\s+add_generation_prompt\s*%\}\s*\{\{\s*'((?:[^'\\]|\\.)*)'\s*\}\}"#)
            ?? firstLiteral(text, pattern: #"\{%\s*if\s+add_generation_prompt\s*%\}\s*\{\{\s*"((?:[^"\\]|\\.)*)"\s*\}\}"#)
    }

    /// The default system prompt: a literal '<|im_start|>system\n…<|im_end|>' (SmolLM2, Qwen 2), or the
    /// literal a template writes after '<|im_start|>system\n' when there is no system message (Qwen 2.5).
    static func defaultSystemLiteral(_ text: String) -> String? {
        let newline = #"(?:\n|\\n)"#
        if let whole = firstLiteral(text, pattern: #"'<\|im_start\|>system"# + newline + #"((?:[^'\\{]|\\.)*?)<\|im_end\|>"#) {
            return whole
        }
        return firstLiteral(text, pattern: #"'<\|im_start\|>system"# + newline + #"'\s*\}\}.{0,200}?\{%\s*else\s*%\}\s*\{\{\s*'((?:[^'\\]|\\.)*)'"#)
    }
}
