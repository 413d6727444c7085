// Batching.swift — from text to the [B, T] id grids a language model trains on.
//
// Teaches: the small details that decide what a fine-tune learns.
// - Next-token shift: inputs are ids[0..<n−1], targets ids[1..<n].
// - Loss weights: response tokens (and the end-of-text that closes them) weigh 1; prompt tokens weigh
//   `promptLossWeight` (0 = the model is never trained to *produce* prompts, the usual SFT choice).
// - Truncation keeps the *end* of an example (the response) and drops the start of the prompt.
// - Padding fills rows to T with target −1 (ignored) and weight 0.
// Pretraining batches are random windows of a long token stream.
// Leaves out: packing several examples into one row, bucketing by length.
import Kernels
import Tokenizers

/// B rows of T positions: inputs, targets (−1 = ignore) and per-target loss weights, row-major.
public struct Batch: Sendable, Equatable {
    public var batchSize: Int
    public var contextLength: Int
    /// [B·T] input ids.
    public var inputs: [Int32]
    /// [B·T] target ids, −1 where no loss is taken.
    public var targets: [Int32]
    /// [B·T] loss weights (0 where the target is −1).
    public var weights: [Float]
}

/// An example as ids with a weight for predicting each id.
public struct TokenizedExample: Sendable, Equatable {
    /// prompt ids + response ids (+ end-of-text).
    public var ids: [Int]
    /// weights[i] is the loss weight for predicting ids[i] (weights[0] is never used).
    public var weights: [Float]

    /// Tokenizes `example`: the response (and end-of-text, when the tokenizer has one) weigh 1, the
    /// prompt `promptLossWeight` (0…1).
    public init(_ example: SFTExample, tokenizer: some Tokenizer, promptLossWeight: Float = 0) {
        require((0...1).contains(promptLossWeight), "promptLossWeight \(promptLossWeight) must be in 0…1")
        let prompt = tokenizer.encode(example.prompt)
        let response = tokenizer.encode(example.response) + (tokenizer.endOfText.map { [$0] } ?? [])
        ids = prompt + response
        weights = [Float](repeating: promptLossWeight, count: prompt.count) + [Float](repeating: 1, count: response.count)
    }

    /// One row of T positions: shifted, left-truncated to fit, right-padded with `padId`.
    /// Returns (inputs, targets, weights), each of length T.
    public func row(contextLength t: Int, padId: Int = 0) -> (inputs: [Int32], targets: [Int32], weights: [Float]) {
        // Keep the last T+1 ids: T inputs and their T targets.
        let start = max(ids.count - (t + 1), 0)
        let kept = Array(ids[start...]), keptWeights = Array(weights[start...])
        var inputs = kept.dropLast().map(Int32.init)
        var targets = kept.dropFirst().map(Int32.init)
        var rowWeights = Array(keptWeights.dropFirst())
        // Pad to T: padding predicts nothing.
        while inputs.count < t {
            inputs.append(Int32(padId))
            targets.append(-1)
            rowWeights.append(0)
        }
        // A weight-0 target is ignored outright, so it also carries no softmax cost.
        for i in 0..<t where rowWeights[i] == 0 { targets[i] = -1 }
        return (inputs, targets, rowWeights)
    }
}

/// Shuffled passes over a fixed set of tokenized examples, B rows per batch; resumable.
public struct SFTBatchSource: Sendable {
    /// Where the source is: the epoch and the next index into that epoch's order.
    public struct Position: Codable, Sendable, Equatable {
        public var epoch: Int
        public var index: Int
    }

    public let examples: [TokenizedExample]
    public let batchSize: Int
    public let contextLength: Int
    public let seed: UInt64
    public var position = Position(epoch: 0, index: 0)

    /// A source over `examples` (non-empty).
    public init(examples: [TokenizedExample], batchSize: Int, contextLength: Int, seed: UInt64) {
        require(!examples.isEmpty, "SFTBatchSource: no examples")
        self.examples = examples
        self.batchSize = batchSize
        self.contextLength = contextLength
        self.seed = seed
    }

    /// Completed passes over the data.
    public var epochsCompleted: Int { position.epoch }

    /// The example order of one epoch (a permutation seeded by seed and epoch).
    func order(epoch: Int) -> [Int] {
        var rng = RNG(seed: seed &+ UInt64(epoch) &* 0x9E37_79B9)
        return rng.permutation(examples.count)
    }

    /// The next B examples in shuffled order (crossing into the next epoch when one ends).
    public mutating func nextBatch() -> Batch {
        var batch = Batch(batchSize: batchSize, contextLength: contextLength, inputs: [], targets: [], weights: [])
        var currentOrder = order(epoch: position.epoch)
        for _ in 0..<batchSize {
            if position.index >= examples.count {
                position = Position(epoch: position.epoch + 1, index: 0)
                currentOrder = order(epoch: position.epoch)
            }
            let row = examples[currentOrder[position.index]].row(contextLength: contextLength)
            batch.inputs += row.inputs
            batch.targets += row.targets
            batch.weights += row.weights
            position.index += 1
        }
        return batch
    }

    /// Every example once, in order, as batches (the last one may be smaller) — for evaluation.
    public func allBatches() -> [Batch] {
        stride(from: 0, to: examples.count, by: batchSize).map { start in
            let slice = examples[start..<min(start + batchSize, examples.count)]
            var batch = Batch(batchSize: slice.count, contextLength: contextLength, inputs: [], targets: [], weights: [])
            for example in slice {
                let row = example.row(contextLength: contextLength)
                batch.inputs += row.inputs
                batch.targets += row.targets
                batch.weights += row.weights
            }
            return batch
        }
    }
}

/// Random windows of T+1 tokens from one long stream (pretraining); resumable through its RNG.
public struct PretrainingBatchSource: Sendable {
    public let tokens: [Int32]
    public let batchSize: Int
    public let contextLength: Int
    /// The window-start generator; its state is the source's position.
    public var position: RNG

    /// A source over `tokens` (longer than the context).
    public init(tokens: [Int32], batchSize: Int, contextLength: Int, seed: UInt64) {
        require(tokens.count > contextLength + 1, "PretrainingBatchSource: \(tokens.count) tokens is too few for context \(contextLength)")
        self.tokens = tokens
        self.batchSize = batchSize
        self.contextLength = contextLength
        position = RNG(seed: seed)
    }

    /// B random windows.
    public mutating func nextBatch() -> Batch {
        var batch = Batch(batchSize: batchSize, contextLength: contextLength, inputs: [], targets: [], weights: [])
        for _ in 0..<batchSize {
            let start = position.below(tokens.count - contextLength - 1)
            batch.inputs += tokens[start..<(start + contextLength)]
            batch.targets += tokens[(start + 1)...(start + contextLength)]
            batch.weights += [Float](repeating: 1, count: contextLength)
        }
        return batch
    }

    /// `count` non-overlapping consecutive windows from the start of the stream — a fixed evaluation set.
    public func sequentialBatches(_ count: Int) -> [Batch] {
        var result: [Batch] = []
        var start = 0
        for _ in 0..<count {
            var batch = Batch(batchSize: 0, contextLength: contextLength, inputs: [], targets: [], weights: [])
            for _ in 0..<batchSize where start + contextLength + 1 <= tokens.count {
                batch.inputs += tokens[start..<(start + contextLength)]
                batch.targets += tokens[(start + 1)...(start + contextLength)]
                batch.weights += [Float](repeating: 1, count: contextLength)
                batch.batchSize += 1
                start += contextLength
            }
            if batch.batchSize > 0 { result.append(batch) }
        }
        return result
    }
}
