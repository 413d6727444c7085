// WorkbookBridgeTests.swift — the workbook plugged into the library (`--use-workbook`).
//
// With the shipped stubs, the bridge refuses to run and names the missing tasks. Once a task is solved
// (always, with SOLUTIONS=1), the library running the learner's function must produce what the library
// produces on its own: the same logits, the same trained weights, the same merges and quantized bytes.
// And the injection points really are used: a deliberately wrong substitute changes the result.
import Testing
import ExerciseKit
import Workbook
import WorkbookCatalogue
import WorkbookBridge
import Kernels
import Autodiff
import NN
import Optim
import Datasets
import Training
import PEFT
import Quantization
import Merging
import TestSupport

/// A one-block GPT with a LoRA adapter (B filled at random, so the adapter changes the output).
private func modelWithAdapter(seed: UInt64 = 5) throws -> GPT {
    var rng = RNG(seed: seed)
    let model = GPT(config: .gpt2(vocabularySize: 12, contextLength: 8, embeddingSize: 8, layers: 1, heads: 2), rng: &rng)
    try LoRA.add("task", to: model, config: LoRAConfig(rank: 2, alpha: 6), seed: 1)
    for (_, _, lora) in LoRA.loraLayers(of: model) { let b = lora.weights("task")!.b; for i in 0..<b.count { b.data[i] = 0.3 * rng.normal() } }
    return model
}

private let ids: [Int32] = [1, 4, 2, 7, 3, 3, 9, 0, 5, 6, 2, 1, 8, 10, 11, 4]
private func logits(_ model: GPT) -> [Float] { Tensor.withNoGrad { model(ids, batch: 2, steps: 8).values } }

/// Trains `model` for three steps of two micro-batches each; returns the trainable values afterwards.
private func trainedValues(_ model: GPT) -> [Float] {
    let trainer = Trainer(model: model, optimizer: AdamW(model.namedParameters(), weightDecay: 0.01),
                          options: TrainerOptions(steps: 3, learningRate: 1e-2, gradientAccumulation: 2))
    var source = PretrainingBatchSource(tokens: (0..<400).map { Int32(($0 * 7 + $0 / 5) % 12) }, batchSize: 2, contextLength: 8, seed: 3)
    for _ in 0..<3 { trainer.trainStep([source.nextBatch(), source.nextBatch()]) }
    return model.namedParameters().filter(\.tensor.requiresGrad).flatMap(\.tensor.values)
}


@Suite struct WorkbookBridgeTests {
    @Test func shippedStubsAreNamedAsMissing() throws {
        guard !Catalogue.isImplemented("8.1") else { return }
        do {
            try WorkbookBridge.withWorkbook(tasks: ["8.1", "8.3"]) { Issue.record("ran with unimplemented tasks") }
        } catch let error as WorkbookBridge.MissingTasks {
            #expect(error.exercises.map(\.id).contains("8.1"))
            #expect(error.description.contains("Task 8.1") && error.description.contains("Exercises/Ch08/LoRAByHand.swift"))
        }
    }

    @Test func withoutTheFlagTheChapterRunsPlainly() throws {
        var ran = false
        try WorkbookBridge.runChapter(arguments: ["chapter08"], tasks: ["8.1"], output: { _ in }) { ran = true }
        #expect(ran)
    }

    @Test func aWrongSubstituteChangesTheModel() throws {
        // The injection point is live: a forward that forgets the α/r factor gives other logits.
        let model = try modelWithAdapter()
        let wrong = LoRAArithmetic(forward: { x, w, a, b, inFeatures, outFeatures, rank, _ in
            let u = (0..<rank).map { k in (0..<inFeatures).reduce(Float(0)) { $0 + a[k * inFeatures + $1] * x[$1] } }
            return (0..<outFeatures).map { o in
                (0..<inFeatures).reduce(Float(0)) { $0 + w[o * inFeatures + $1] * x[$1] } + (0..<rank).reduce(Float(0)) { $0 + b[o * rank + $1] * u[$1] }
            }
        })
        let right = logits(model)
        let substituted = LoRAArithmetic.$current.withValue(wrong) { logits(model) }
        #expect(maxDifference(right, substituted) > 1e-3)
    }
}

@Suite(.implemented("8.1")) struct `Task 8.1 — run by the library` {
    @Test func `Task 8.1 — same logits and same training as the library`() throws {
        let plain = try modelWithAdapter(), viaWorkbook = try modelWithAdapter()
        let workbookLogits = try WorkbookBridge.withWorkbook(tasks: ["8.1"]) { logits(viaWorkbook) }
        #expect(maxDifference(logits(plain), workbookLogits) < 1e-4)
        let trained = try WorkbookBridge.withWorkbook(tasks: ["8.1"]) { trainedValues(viaWorkbook) }
        #expect(maxDifference(trainedValues(plain), trained) < 1e-4)
    }
}

@Suite(.implemented("8.3")) struct `Task 8.3 — run by the library` {
    @Test func `Task 8.3 — merging through the workbook gives the library's weights`() throws {
        let plain = try modelWithAdapter(), viaWorkbook = try modelWithAdapter()
        try LoRA.merge("task", into: plain)
        try WorkbookBridge.withWorkbook(tasks: ["8.3"]) { try LoRA.merge("task", into: viaWorkbook) }
        #expect(maxDifference(plain.namedParameters().flatMap(\.tensor.values), viaWorkbook.namedParameters().flatMap(\.tensor.values)) < 1e-5)
    }
}

@Suite(.implemented("6.1")) struct `Task 6.1 — run by the library` {
    @Test func `Task 6.1 — accumulating through the workbook trains like the library`() throws {
        var rng = RNG(seed: 8)
        let config = GPTConfig.gpt2(vocabularySize: 12, contextLength: 8, embeddingSize: 8, layers: 1, heads: 2)
        let plain = GPT(config: config, rng: &rng), viaWorkbook = plain.copy()
        let trained = try WorkbookBridge.withWorkbook(tasks: ["6.1"]) { trainedValues(viaWorkbook) }
        #expect(maxDifference(trainedValues(plain), trained) < 1e-4)
    }
}

@Suite(.implemented("12.1")) struct `Task 12.1 — run by the library` {
    @Test func `Task 12.1 — NF4 weights quantized through the workbook are the library's`() throws {
        var rng = RNG(seed: 9)
        let values = (0..<(6 * 64)).map { _ in rng.normal() * 0.05 }
        let plain = try NF4Weight(values, rows: 6, columns: 64)
        let viaWorkbook = try WorkbookBridge.withWorkbook(tasks: ["12.1"]) { try NF4Weight(values, rows: 6, columns: 64) }
        #expect(plain.packedBytes == viaWorkbook.packedBytes)
        #expect(plain.dequantized() == viaWorkbook.dequantized())
    }
}

@Suite(.implemented("13.2")) struct `Task 13.2 — run by the library` {
    @Test func `Task 13.2 — TIES through the workbook is the library's TIES`() throws {
        var rng = RNG(seed: 10)
        let vectors = (0..<3).map { _ in (0..<50).map { _ in rng.normal() } }
        let viaWorkbook = try WorkbookBridge.withWorkbook(tasks: ["13.2"]) { MergeMath.ties(vectors, density: 0.4) }
        #expect(maxDifference(MergeMath.ties(vectors, density: 0.4), viaWorkbook) < 1e-6)
    }
}

@Suite(.implemented("14.1")) struct `Task 14.1 — run by the library` {
    @Test func `Task 14.1 — concatenation through the workbook installs the library's adapter`() throws {
        let model = try modelWithAdapter()
        try LoRA.add("other", to: model, config: LoRAConfig(rank: 3, alpha: 4), seed: 2)
        AdapterMerge.combine(["task", "other"], weights: [0.5, 1.5], using: .concatenation, into: "library", model: model)
        try WorkbookBridge.withWorkbook(tasks: ["14.1"]) {
            AdapterMerge.combine(["task", "other"], weights: [0.5, 1.5], using: .concatenation, into: "workbook", model: model)
        }
        for (_, _, lora) in LoRA.loraLayers(of: model) {
            #expect(lora.weights("library")!.a.values == lora.weights("workbook")!.a.values)
            #expect(maxDifference(lora.weights("library")!.b.values, lora.weights("workbook")!.b.values) < 1e-6)
        }
    }
}
