// TaskEvaluator.swift — how we score a fine-tune: exact match under greedy decoding, and loss.
//
// Teaches: two complementary measurements. Exact-match accuracy asks "does the model now *do* the
// task" — generate greedily from the prompt and compare the first line with the expected response.
// Loss asks "how much probability does it put on the right answer" — it moves smoothly even while
// accuracy is still zero, which makes it the better signal for early stopping and sweeps.
// Leaves out: sampling-based metrics (pass@k), partial credit.
import Autodiff
import NN
import Tokenizers
import Datasets
import Training

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

/// Scoring a model on prompt/response examples (caseless namespace).
public enum TaskEvaluator {
    /// Greedy continuation of `prompt`, stopping at end-of-text or a newline (at most `maxNewTokens`).
    public static func generate(_ model: GPT, tokenizer: some Tokenizer, prompt: String, maxNewTokens: Int) -> String {
        var rng = RNG(seed: 0)
        let ids = tokenizer.encode(prompt)
        let newline = tokenizer.encode("\n").first
        var produced: [Int] = []
        for token in model.generate(prompt: ids, maxNewTokens: maxNewTokens, stop: tokenizer.endOfText, rng: &rng) {
            if token == tokenizer.endOfText || token == newline { break }
            produced.append(token)
        }
        return tokenizer.decode(produced)
    }

    /// Exact-match accuracy and response loss of `model` on `examples`.
    public static func score(_ model: GPT, tokenizer: some Tokenizer, examples: [SFTExample], maxNewTokens: Int? = nil) -> TaskScore {
        guard !examples.isEmpty else { return TaskScore(accuracy: 0, loss: 0, count: 0) }
        let correct = examples.filter { example in
            let budget = maxNewTokens ?? (tokenizer.encode(example.response).count + 2)
            let answer = generate(model, tokenizer: tokenizer, prompt: example.prompt, maxNewTokens: budget)
            return SFTTask.isCorrect(generated: answer, expected: example.response)
        }.count
        return TaskScore(accuracy: Double(correct) / Double(examples.count),
                         loss: responseLoss(model, tokenizer: tokenizer, examples: examples), count: examples.count)
    }

    /// Mean cross-entropy over response tokens (prompt-loss weight 0), without gradients.
    public static func responseLoss(_ model: GPT, tokenizer: some Tokenizer, examples: [SFTExample]) -> Float {
        let tokenized = examples.map { TokenizedExample($0, tokenizer: tokenizer, promptLossWeight: 0) }
        let context = min(model.config.contextLength, (tokenized.map(\.ids.count).max() ?? 2) - 1)
        return model.meanLoss(on: SFTBatchSource(examples: tokenized, batchSize: 16, contextLength: max(context, 1), seed: 0).allBatches())
    }
}
