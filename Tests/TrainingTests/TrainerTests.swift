// TrainerTests.swift — accumulation equals the large batch; the loop learns; early stopping triggers.
import Foundation
import Testing
import Kernels
@testable import Autodiff
import NN
import Optim
@testable import Training

/// A plain batch for tests.
struct TestBatch: LanguageModelBatch {
    var batchSize: Int, contextLength: Int
    var inputs: [Int32], targets: [Int32], weights: [Float]

    /// Rows of a repeating pattern with uneven weights (to exercise normalisation).
    static func rows(_ range: Range<Int>, steps: Int = 6, vocabulary: Int = 13) -> TestBatch {
        var inputs: [Int32] = [], targets: [Int32] = [], weights: [Float] = []
        for row in range {
            for t in 0..<steps {
                inputs.append(Int32((row + 2 * t) % vocabulary))
                targets.append(t == steps - 1 && row % 2 == 0 ? -1 : Int32((row + 2 * t + 2) % vocabulary))
                weights.append(t == steps - 1 && row % 2 == 0 ? 0 : (t < 2 ? 0.5 : 1))
            }
        }
        return TestBatch(batchSize: range.count, contextLength: steps, inputs: inputs, targets: targets, weights: weights)
    }
}

/// Cycles through fixed batches.
struct CyclingSource: BatchSource {
    var batches: [TestBatch]
    var position = 0
    mutating func nextBatch() -> TestBatch {
        defer { position += 1 }
        return batches[position % batches.count]
    }
}

@Suite struct TrainerTests {
    static let config = GPTConfig.gpt2(vocabularySize: 13, contextLength: 8, embeddingSize: 16, layers: 2, heads: 2)

    func gradients(after microBatches: [TestBatch]) -> [[Float]] {
        var rng = RNG(seed: 9)
        let model = GPT(config: Self.config, rng: &rng)
        let trainer = Trainer(model: model, optimizer: SGD(model.namedParameters()),
                              options: TrainerOptions(steps: 1, learningRate: 0, clipNorm: nil))
        trainer.trainStep(microBatches)
        return model.parameters.map { $0.grad!.values }
    }

    @Test func gradientAccumulationEqualsTheLargeBatch() {
        let large = gradients(after: [TestBatch.rows(0..<4)])
        let accumulated = gradients(after: [TestBatch.rows(0..<1), TestBatch.rows(1..<4)])
        var worst: Float = 0
        for (a, b) in zip(large, accumulated) {
            for (x, y) in zip(a, b) { worst = max(worst, abs(x - y)) }
        }
        #expect(worst < 1e-6, "max |Δgrad| = \(worst)")
    }

    @Test func trainingLowersTheLoss() throws {
        var rng = RNG(seed: 10)
        let model = GPT(config: Self.config, rng: &rng)
        let trainer = Trainer(model: model, optimizer: AdamW(model.namedParameters(), weightDecay: 0),
                              options: TrainerOptions(steps: 60, learningRate: 1e-2, warmupSteps: 5))
        let batch = TestBatch.rows(0..<4)
        let before = trainer.evaluate([batch])
        var source = CyclingSource(batches: [batch])
        try trainer.run(source: &source)
        let after = trainer.evaluate([batch])
        // A fully predictable pattern: from ≈ ln 13 = 2.56 to well under 0.5.
        #expect(before > 2.3)
        #expect(after < 0.5, "loss \(before) → \(after)")
        #expect(trainer.log.count == 60)
    }

    @Test func earlyStoppingAfterPatienceRunsOut() {
        var rng = RNG(seed: 11)
        let model = GPT(config: Self.config, rng: &rng)
        let trainer = Trainer(model: model, optimizer: SGD(model.namedParameters()),
                              options: TrainerOptions(steps: 100, learningRate: 0, earlyStoppingPatience: 2))
        #expect(trainer.recordValidation(2.0))
        #expect(!trainer.recordValidation(2.5))
        #expect(!trainer.shouldStop)
        #expect(!trainer.recordValidation(2.1))
        #expect(trainer.shouldStop)
    }

    @Test func progressLinesWhenNotATerminal() {
        var lines: [String] = []
        let reporter = ProgressReporter(label: "train", every: 2) { lines.append($0) }
        let entry = TrainingLogEntry(step: 2, loss: 1.5, learningRate: 1e-3, gradientNorm: 0.25, validationLoss: nil,
                                     tokens: 10, milliseconds: 1)
        reporter.update(step: 1, of: 4, entry: entry)
        reporter.update(step: 2, of: 4, entry: entry)
        #expect(lines == ["train step 2/4  loss 1.5000  lr 1.00e-03  |g| 0.250\n"])
    }
}

@Suite struct ResumeTests {
    /// A fresh trainer with dropout on, so the RNG state matters too.
    func makeTrainer() -> Trainer {
        var rng = RNG(seed: 21)
        var config = TrainerTests.config
        config.dropout = 0.1
        let model = GPT(config: config, rng: &rng)
        return Trainer(model: model, optimizer: AdamW(model.namedParameters()),
                       options: TrainerOptions(steps: 10, learningRate: 3e-3, warmupSteps: 2, seed: 5))
    }

    @Test func resumedRunIsBitwiseIdentical() throws {
        let batches = [TestBatch.rows(0..<2), TestBatch.rows(2..<4), TestBatch.rows(4..<7)]
        // 10 steps straight.
        let straight = makeTrainer()
        var source = CyclingSource(batches: batches)
        try straight.run(source: &source)

        // 5 steps, save, then a new process-like start: new trainer, resume, 5 more steps.
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tinytune-resume-\(UUID())")
        defer { try? FileManager.default.removeItem(at: directory) }
        let first = makeTrainer()
        var firstSource = CyclingSource(batches: batches)
        // Interrupt after step 5 (as a kill would), then checkpoint what the run had reached.
        #expect(throws: CancellationError.self) {
            try first.run(source: &firstSource) { trainer in
                if trainer.step == 5 { throw CancellationError() }
            }
        }
        #expect(first.step == 5)
        try TrainingCheckpoint.save(first, sourcePosition: firstSource.position, to: directory)
        // Saving again replaces the checkpoint atomically (no partial or old directories left behind).
        try TrainingCheckpoint.save(first, sourcePosition: firstSource.position, to: directory)
        let siblings = try FileManager.default.contentsOfDirectory(atPath: directory.deletingLastPathComponent().path)
        #expect(!siblings.contains { $0.contains(directory.lastPathComponent + ".partial") || $0.contains(directory.lastPathComponent + ".old") })
        let second = makeTrainer()
        var secondSource = CyclingSource(batches: batches)
        secondSource.position = try TrainingCheckpoint.resume(second, from: directory, as: Int.self)
        try second.run(source: &secondSource)

        #expect(second.step == 10)
        #expect(second.log.map(\.loss) == straight.log.map(\.loss))
        for ((name, a), (_, b)) in zip(straight.model.namedParameters(), second.model.namedParameters()) {
            #expect(a.values == b.values, "\(name) differs after resume")
        }
    }
}
