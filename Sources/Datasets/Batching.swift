// Batching.swift — from text to the [B, T] id grids a language model trains on.
//
// Teaches: the small details that decide what a fine-tune learns.
// - Next-token shift: inputs are ids[0..<n−1], targets ids[1..<n].
// - Loss weights: response tokens (and the end-of-text that closes them) weigh 1; prompt tokens weigh
//   `promptLossWeight` (0 = the model is never trained to *produce* prompts, the usual SFT choice).
// - Truncation keeps the *end* of an example (the response) and drops the start of the prompt.
// - Padding fills rows to T with target −1 (ignored) and weight 0.
// - Bucketing (optional): examples of similar length share a batch, and each batch is only as long
//   as its longest row, so padding no longer fills most of a batch of mostly short examples.
// Pretraining batches are random windows of a long token stream.
// Leaves out: packing several examples into one row (it needs a block-diagonal attention mask so the
// examples do not see each other; bucketing gets most of the saving without one).
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

    /// Ids with their weights as given (equal counts; weights in 0…1).
    public init(ids: [Int], weights: [Float]) {
        require(ids.count == weights.count, "TokenizedExample: \(ids.count) ids but \(weights.count) weights")
        self.ids = ids
        self.weights = weights
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
    /// The longest row T (every row has this length unless `bucketed`).
    public let contextLength: Int
    public let seed: UInt64
    /// Whether batches group examples of similar length and are cut to their longest row.
    public let bucketed: Bool
    public var position = Position(epoch: 0, index: 0)

    /// Batches per bucketing window: each window of the shuffled order is sorted by length.
    public static let bucketWindow = 16

    /// A source over `examples` (non-empty); `bucketed` groups similar lengths (see `order(epoch:)`).
    public init(examples: [TokenizedExample], batchSize: Int, contextLength: Int, seed: UInt64, bucketed: Bool = false) {
        require(!examples.isEmpty, "SFTBatchSource: no examples")
        self.examples = examples
        self.batchSize = batchSize
        self.contextLength = contextLength
        self.seed = seed
        self.bucketed = bucketed
    }

    /// Completed passes over the data.
    public var epochsCompleted: Int { position.epoch }

    /// The example order of one epoch: a permutation seeded by seed and epoch. When bucketed, every
    /// window of `bucketWindow` batches of that permutation is then sorted by length (ties keep the
    /// shuffled order), so consecutive examples — one batch — have similar lengths while the data
    /// still arrives in a different random order each epoch.
    func order(epoch: Int) -> [Int] {
        var rng = RNG(seed: seed &+ UInt64(epoch) &* 0x9E37_79B9)
        let shuffled = rng.permutation(examples.count)
        guard bucketed else { return shuffled }
        let window = batchSize * Self.bucketWindow
        return stride(from: 0, to: shuffled.count, by: window).flatMap { start in
            shuffled[start..<min(start + window, shuffled.count)].enumerated()
                .sorted { (examples[$0.element].ids.count, $0.offset) < (examples[$1.element].ids.count, $1.offset) }
                .map(\.element)
        }
    }

    /// T for a batch of these examples: `contextLength`, or (bucketed) just enough for its longest row.
    func rowLength(for indices: [Int]) -> Int {
        guard bucketed else { return contextLength }
        return min(contextLength, max(indices.map { examples[$0].ids.count - 1 }.max() ?? 1, 1))
    }

    /// The next B examples in shuffled order (crossing into the next epoch when one ends).
    public mutating func nextBatch() -> Batch {
        var picked: [Int] = []
        var currentOrder = order(epoch: position.epoch)
        for _ in 0..<batchSize {
            if position.index >= examples.count {
                position = Position(epoch: position.epoch + 1, index: 0)
                currentOrder = order(epoch: position.epoch)
            }
            picked.append(currentOrder[position.index])
            position.index += 1
        }
        return batch(of: picked)
    }

    /// The rows of `indices` as one batch, T = `rowLength(for:)`.
    func batch(of indices: [Int]) -> Batch {
        let t = rowLength(for: indices)
        var batch = Batch(batchSize: indices.count, contextLength: t, inputs: [], targets: [], weights: [])
        for index in indices {
            let row = examples[index].row(contextLength: t)
            batch.inputs += row.inputs
            batch.targets += row.targets
            batch.weights += row.weights
        }
        return batch
    }

    /// The share of input positions that are padding over one epoch's batches (0…1): what bucketing
    /// saves. A row of an example with n ids holds min(n − 1, T) real inputs.
    public func paddingShare(epoch: Int = 0) -> Double {
        let currentOrder = order(epoch: epoch)
        var padding = 0, total = 0
        for start in stride(from: 0, to: currentOrder.count, by: batchSize) {
            let indices = Array(currentOrder[start..<min(start + batchSize, currentOrder.count)])
            let t = rowLength(for: indices)
            total += indices.count * t
            padding += indices.map { t - min(examples[$0].ids.count - 1, t) }.reduce(0, +)
        }
        return Double(padding) / Double(max(total, 1))
    }

    /// Every example once, in order, as batches (the last one may be smaller) — for evaluation.
    public func allBatches() -> [Batch] {
        stride(from: 0, to: examples.count, by: batchSize).map { start in
            batch(of: Array(start..<min(start + batchSize, examples.count)))
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
