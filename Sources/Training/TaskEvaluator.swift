// TaskEvaluator.swift — how we score a fine-tune: exact match under greedy decoding, and loss.
//
// Teaches: two complementary measurements. Exact-match accuracy asks "does the model now *do* the
// task" — generate greedily from the prompt and compare the first line with the expected response.
// Loss asks "how much probability does it put on the right answer" — it moves smoothly even while
// accuracy is still zero, which makes it the better signal for early stopping and sweeps.
// Greedy exact match can also be checked without generating: greedy decoding reproduces the response
// exactly when, fed prompt + response, the model's argmax at every response position is the next
// response token and after the last one is a stop token. One forward pass instead of one per token
// (`ExactMatchCheck.teacherForced`); tests hold it to the generating check on trained models.
// Chat examples are scored under the model's chat template when one is given: the prompt is the
// conversation rendered with the generation prompt, and the template's end-of-turn token also stops.
// Leaves out: sampling-based metrics (pass@k), partial credit.
import Kernels
import Autodiff
import NN
import Tokenizers
import Datasets

/// A task score: exact-match accuracy and mean response loss.
public struct TaskScore: Sendable, Equatable, CustomStringConvertible {
    /// Fraction of examples answered exactly (0…1).
    public var accuracy: Double
    /// Mean cross-entropy per response token (nats).
    public var loss: Float
    /// Examples scored.
    public var count: Int
    public var description: String { String(format: "accuracy %.1f%%, loss %.3f (n = %d)", accuracy * 100, loss, count) }
}

/// How exact match is decided.
public enum ExactMatchCheck: Sendable {
    /// Generate greedily (one forward pass per new token) and compare the first line, trimmed.
    case generate
    /// One forward pass over prompt + response: every response position's argmax must be the next
    /// response token, and the last must be end-of-text or a newline. Agrees with `generate` except that
    /// it does not forgive stray spaces around the answer; falls back to `generate` when the example
    /// is longer than the context.
    case teacherForced
}

/// Scoring a model on prompt/response examples (caseless namespace).
public enum TaskEvaluator {
    /// The ids that end an answer: end-of-text, a newline, and the template's end-of-turn marker when
    /// it is a single token (`<|im_end|>` for ChatML).
    public static func stopIDs(tokenizer: some Tokenizer, template: ChatTemplate? = nil) -> Set<Int> {
        let markers = (template?.stopStrings ?? []).map { tokenizer.encode($0) }.filter { $0.count == 1 }.map { $0[0] }
        return Set([tokenizer.endOfText, tokenizer.encode("\n").first].compactMap { $0 } + markers)
    }

    /// Greedy continuation of `prompt`, stopping at end-of-text, a newline or the template's end of turn
    /// (at most `maxNewTokens`).
    public static func generate(_ model: GPT, tokenizer: some Tokenizer, prompt: String, maxNewTokens: Int,
                                template: ChatTemplate? = nil) -> String {
        tokenizer.decode(generateIDs(model, tokenizer: tokenizer, prompt: prompt, maxNewTokens: maxNewTokens, template: template))
    }

    /// The token ids `generate` decodes: the greedy continuation of `prompt` up to (not including) the
    /// first stop id — what two copies of a model (say, in memory and exported) must agree on.
    public static func generateIDs(_ model: GPT, tokenizer: some Tokenizer, prompt: String, maxNewTokens: Int,
                                   template: ChatTemplate? = nil) -> [Int] {
        var rng = RNG(seed: 0)
        let stops = stopIDs(tokenizer: tokenizer, template: template)
        var produced: [Int] = []
        for token in model.generate(prompt: tokenizer.encode(prompt), maxNewTokens: maxNewTokens, stop: tokenizer.endOfText, rng: &rng) {
            if stops.contains(token) { break }
            produced.append(token)
        }
        return produced
    }

    /// Exact-match accuracy and response loss of `model` on `examples` (chat examples rendered through
    /// `template` when one is given).
    public static func score(_ model: GPT, tokenizer: some Tokenizer, examples: [SFTExample], maxNewTokens: Int? = nil,
                             check: ExactMatchCheck = .generate, template: ChatTemplate? = nil) -> TaskScore {
        guard !examples.isEmpty else { return TaskScore(accuracy: 0, loss: 0, count: 0) }
        let correct = examples.map { $0.rendered(with: template) }.filter { example in
            if check == .teacherForced,
               let verdict = greedyReproduces(model, tokenizer: tokenizer, example: example, template: template) { return verdict }
            let budget = maxNewTokens ?? (tokenizer.encode(example.response).count + 2)
            let answer = generate(model, tokenizer: tokenizer, prompt: example.prompt, maxNewTokens: budget, template: template)
            return SFTTask.isCorrect(generated: answer, expected: example.response)
        }.count
        return TaskScore(accuracy: Double(correct) / Double(examples.count),
                         loss: responseLoss(model, tokenizer: tokenizer, examples: examples, template: template), count: examples.count)
    }

    /// Whether greedy decoding from `example.prompt` yields exactly `example.response` and then stops,
    /// decided from one teacher-forced forward pass (nil when prompt + response exceed the context).
    public static func greedyReproduces(_ model: GPT, tokenizer: some Tokenizer, example: SFTExample,
                                        template: ChatTemplate? = nil) -> Bool? {
        let prompt = tokenizer.encode(example.prompt), response = tokenizer.encode(example.response)
        let tokens = prompt + response
        guard !prompt.isEmpty, tokens.count <= model.config.contextLength else { return nil }
        let stops = stopIDs(tokenizer: tokenizer, template: template)
        let vocabulary = model.config.vocabularySize
        var greedy = RNG(seed: 0)   // unused by greedy picks; `pick` takes one for sampling
        return Tensor.withNoGrad {
            let logits = model(tokens.map(Int32.init), batch: 1, steps: tokens.count)
            // Row p of the logits predicts token p + 1: the response starts at row prompt.count − 1.
            for offset in 0...response.count {
                let row = UnsafeBufferPointer(start: logits.data + (prompt.count - 1 + offset) * vocabulary, count: vocabulary)
                let choice = GPT.pick(from: Array(row), options: .greedy, rng: &greedy)
                if offset < response.count ? choice != response[offset] : !stops.contains(choice) { return false }
            }
            return true
        }
    }

    /// Mean cross-entropy over response tokens (prompt-loss weight 0), without gradients.
    public static func responseLoss(_ model: GPT, tokenizer: some Tokenizer, examples: [SFTExample],
                                    template: ChatTemplate? = nil) -> Float {
        let tokenized = examples.map { TokenizedExample($0, tokenizer: tokenizer, template: template, promptLossWeight: 0) }
        let context = min(model.config.contextLength, (tokenized.map(\.ids.count).max() ?? 2) - 1)
        return model.meanLoss(on: SFTBatchSource(examples: tokenized, batchSize: 16, contextLength: max(context, 1), seed: 0).allBatches())
    }
}
