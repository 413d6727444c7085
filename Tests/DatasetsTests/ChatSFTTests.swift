// ChatSFTTests.swift — chat examples through a chat template with the loss on the assistant only, and
// length bucketing, against hand-built expectations.
import Testing
import Foundation
import Tokenizers
@testable import Datasets

@Suite struct ChatSFTTests {
    /// A character tokenizer knows every character of these tests (so one id = one character).
    static let tokenizer = CharTokenizer(fitting: "<|im_start|>systemuserassistant\n<|im_end|>abcdhiyo ,.:ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
    static let chatml = ChatTemplate(style: .chatml)

    @Test func assistantOnlyMaskMatchesAHandBuiltOne() {
        let example = SFTExample(prompt: "user: hi\nassistant: ", response: "yo",
                                 messages: [ChatMessage(role: "user", content: "hi"), ChatMessage(role: "assistant", content: "yo")])
        let tokenized = TokenizedExample(example, tokenizer: Self.tokenizer, template: Self.chatml)
        // Written out by hand: the ChatML text up to the answer weighs 0; "yo<|im_end|>" weighs 1; the
        // newline ChatML puts after <|im_end|> is not part of the example.
        let context = "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n"
        let answer = "yo<|im_end|>"
        #expect(tokenized.ids == Self.tokenizer.encode(context + answer))
        #expect(tokenized.weights == [Float](repeating: 0, count: context.count) + [Float](repeating: 1, count: answer.count))
    }

    @Test func onlyTheLastAssistantTurnIsLearnedAndEarlierOnesArePrompt() {
        let turns = [ChatMessage(role: "system", content: "s"), ChatMessage(role: "user", content: "a"),
                     ChatMessage(role: "assistant", content: "b"), ChatMessage(role: "user", content: "c"),
                     ChatMessage(role: "assistant", content: "d")]
        let example = SFTExample(prompt: "", response: "d", messages: turns)
        let context = "<|im_start|>system\ns<|im_end|>\n<|im_start|>user\na<|im_end|>\n<|im_start|>assistant\n"
        let earlier = "b<|im_end|>"
        let between = "\n<|im_start|>user\nc<|im_end|>\n<|im_start|>assistant\n"
        let answer = "d<|im_end|>"
        let half = TokenizedExample(example, tokenizer: Self.tokenizer, template: Self.chatml, promptLossWeight: 0.5)
        #expect(half.ids == Self.tokenizer.encode(context + earlier + between + answer))
        #expect(half.weights == [Float](repeating: 0.5, count: context.count + earlier.count + between.count)
                + [Float](repeating: 1, count: answer.count))
        // Without a template, or for a completion example, the old prompt + response + end-of-text rows.
        let plain = TokenizedExample(example, tokenizer: Self.tokenizer, template: nil)
        #expect(plain == TokenizedExample(example, tokenizer: Self.tokenizer))
    }

    @Test func renderedChatIsTheGenerationPromptAndTheAnswer() {
        let example = SFTExample(prompt: "user: hi\nassistant: ", response: "yo",
                                 messages: [ChatMessage(role: "user", content: "hi"), ChatMessage(role: "assistant", content: "yo")])
        let rendered = example.rendered(with: ChatTemplate(style: .chatml, defaultSystemPrompt: "Be brief."))
        #expect(rendered.prompt == "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n")
        #expect(rendered.response == "yo" && rendered.messages == nil)
        #expect(example.rendered(with: nil) == example)
    }

    /// Examples whose ids count n (the content does not matter for lengths).
    static func examples(lengths: [Int]) -> [TokenizedExample] {
        lengths.map { TokenizedExample(ids: [Int](repeating: 1, count: $0), weights: [Float](repeating: 1, count: $0)) }
    }

    @Test func bucketingCutsPaddingAsComputedByHand() {
        let examples = Self.examples(lengths: [3, 10, 4, 11, 5, 12, 6, 13])
        // Without bucketing every row is T = 12 (the longest, 13 ids, has 12 inputs): the rows hold
        // 2+9+3+10+4+11+5+12 = 56 real inputs of 8 × 12 = 96 → 40/96 padding, in any order.
        let plain = SFTBatchSource(examples: examples, batchSize: 2, contextLength: 12, seed: 3)
        #expect(abs(plain.paddingShare() - 40.0 / 96) < 1e-12)
        // Bucketed (one window holds all 8): sorted (3,4) (5,6) (10,11) (12,13) → T = 3, 5, 10, 12, one
        // padded position per batch: 4 of 2 × (3 + 5 + 10 + 12) = 60.
        var bucketed = SFTBatchSource(examples: examples, batchSize: 2, contextLength: 12, seed: 3, bucketed: true)
        #expect(abs(bucketed.paddingShare() - 4.0 / 60) < 1e-12)
        let lengths = (0..<4).map { _ in bucketed.nextBatch().contextLength }
        #expect(lengths == [3, 5, 10, 12])
        // The next epoch is another order of the same examples, still one length group per batch.
        let next = (0..<4).map { _ in bucketed.nextBatch() }
        #expect(next.map(\.contextLength) == [3, 5, 10, 12] && bucketed.position.epoch == 1)
    }

    @Test func bucketedEpochIsAPermutationAndRowsAreCutToTheContext() {
        let examples = Self.examples(lengths: (0..<50).map { 2 + ($0 * 7) % 30 })
        let source = SFTBatchSource(examples: examples, batchSize: 3, contextLength: 20, seed: 9, bucketed: true)
        #expect(source.order(epoch: 0).sorted() == Array(0..<50))
        #expect(source.order(epoch: 0) != source.order(epoch: 1))
        // No batch is longer than the context (longer examples are left-truncated to it).
        var copy = source
        #expect((0..<20).allSatisfy { _ in copy.nextBatch().contextLength <= 20 })
    }
}
