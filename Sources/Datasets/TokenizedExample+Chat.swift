// TokenizedExample+Chat.swift — a chat example rendered through the model's own chat template, with the
// loss on the assistant's answer only.
//
// Teaches: how chat fine-tuning data reaches an instruct model. The conversation is rendered exactly as
// the model saw chats in its own training (ChatML for SmolLM2: `<|im_start|>user\n…<|im_end|>\n
// <|im_start|>assistant\n…<|im_end|>`, with its default system prompt), not as "user: …". The template
// marks which text is the assistant's (`ChatTemplate.render(segments:)`); those tokens — the answer and
// the end-of-turn marker that teaches the model to *stop* — get loss weight 1, every other token
// (system prompt, user turns, role headers) `promptLossWeight`, usually 0.
//   segments:  [system + user + "<|im_start|>assistant\n"]  [answer + "<|im_end|>"]
//   weights:    0 0 0 … 0                                    1 1 … 1
// An example teaches its *last* assistant turn; earlier assistant turns are context (JSONLines makes
// one example per assistant turn, so each is learned once). Each segment is encoded on its own: the
// boundaries sit at special tokens and newlines, where byte-level BPE pre-tokenizers split anyway.
// Leaves out: tool-call turns, per-turn weights from the file.
import Kernels
import Tokenizers

extension TokenizedExample {
    /// Tokenizes `example`: a chat example (`messages` set) through `template` — when there is one —
    /// with weight 1 on its last assistant turn (content and end marker) and `promptLossWeight` on
    /// everything else; any other example as prompt + response + end-of-text.
    public init(_ example: SFTExample, tokenizer: some Tokenizer, template: ChatTemplate?, promptLossWeight: Float = 0) {
        guard let template, let messages = example.messages, messages.last?.role == "assistant" else {
            self.init(example, tokenizer: tokenizer, promptLossWeight: promptLossWeight)
            return
        }
        require((0...1).contains(promptLossWeight), "promptLossWeight \(promptLossWeight) must be in 0…1")
        let segments = template.render(segments: messages, addGenerationPrompt: false)
        // The last assistant segment is the turn to learn; anything after it (a trailing newline) is dropped.
        let last = segments.lastIndex { $0.isAssistant } ?? segments.count - 1
        var ids: [Int] = [], weights: [Float] = []
        for (index, segment) in segments[...last].enumerated() {
            let encoded = tokenizer.encode(segment.text)
            ids += encoded
            weights += [Float](repeating: index == last ? 1 : promptLossWeight, count: encoded.count)
        }
        self.init(ids: ids, weights: weights)
    }
}

extension SFTExample {
    /// The completion-form view of a chat example under `template`: the prompt is the conversation before
    /// the last assistant turn, rendered with the generation prompt (what a model is fed to answer), and
    /// the response is that turn's content. Examples without `messages` (or without a template) are
    /// returned unchanged. Used for generation and exact-match scoring.
    public func rendered(with template: ChatTemplate?) -> SFTExample {
        guard let template, let messages, let answer = messages.last, answer.role == "assistant" else { return self }
        return SFTExample(prompt: template.render(Array(messages.dropLast()), addGenerationPrompt: true), response: answer.content)
    }
}
