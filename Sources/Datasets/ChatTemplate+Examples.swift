// ChatTemplate+Examples.swift — a conversation cut into the prompt/response pairs fine-tuning learns from.
//
// Teaches: supervised fine-tuning on chats is next-token prediction on the rendered conversation with the
// loss only on what the assistant says. Each assistant turn becomes one example: its prompt is the
// conversation before it, rendered by the model's template and ending with the template's generation
// prompt (exactly what the model sees at inference), and its response is the turn's content. The
// tokenized example appends the tokenizer's end-of-text after the response (Batching.swift), which for
// ChatML models such as SmolLM2 is the end-of-turn token `<|im_end|>` itself.
// Completion-form lines ({"prompt", "completion"}) keep their prompt as written under the plain layout
// (what `tinytune finetune` always did); under a real chat template the prompt becomes a user message.
// Leaves out: packing several turns into one example with a loss mask per turn (one example per turn
// repeats the earlier turns; fine for short chats).
import Foundation
import Tokenizers

extension ChatTemplate {
    /// One example per assistant message of `messages`: prompt = the messages before it rendered with the
    /// generation prompt, response = its content (trimmed when the template trims content).
    public func examples(_ messages: [ChatMessage]) -> [SFTExample] {
        messages.indices.compactMap { index in
            let message = messages[index]
            guard message.role == "assistant" else { return nil }
            let content = trimsContent ? message.content.trimmingCharacters(in: .whitespacesAndNewlines) : message.content
            return SFTExample(prompt: render(Array(messages[..<index]), addGenerationPrompt: true), response: content)
        }
    }

    /// The examples of one JSONL record (see the file header for completion-form lines).
    public func examples(_ record: JSONLinesRecord) -> [SFTExample] {
        switch record {
        case .chat(let messages):
            return examples(messages)
        case .completion(let prompt, let completion):
            guard style != .plain else { return [SFTExample(prompt: prompt, response: completion)] }
            return examples([ChatMessage(role: "user", content: prompt), ChatMessage(role: "assistant", content: completion)])
        }
    }
}
