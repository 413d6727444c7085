// GPTLoadingTests.swift — our GPT loaded from the HF fixtures reproduces transformers' logits;
// saving and loading our own checkpoints round-trips exactly; mismatches are named errors.
import Foundation
import Testing
import Kernels
import Autodiff
import NN
@testable import Checkpoints
import TestSupport

@Suite struct GPTLoadingTests {
    @Test(arguments: ["tiny-gpt2", "tiny-llama"])
    func loadedModelReproducesTransformersLogits(folder: String) throws {
        let (checkpoint, expected) = try ReferenceForwardTests.load(folder)
        let model = try ModelCheckpoint.model(from: checkpoint)
        let logits = model(expected.tokens.map(Int32.init), batch: 1, steps: expected.tokens.count)
        #expect(logits.shape == expected.logits_shape)
        let worst = maxDifference(logits.values, expected.logits)
        #expect(worst < Tolerance.reordered, "max |logit difference| = \(worst)")
    }

    @Test(arguments: [TinyModels.gpt2, TinyModels.llama])
    func saveAndLoadRoundTrip(config: GPTConfig) throws {
        var rng = RNG(seed: 12)
        let model = GPT(config: config, rng: &rng)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tinytune-roundtrip-\(UUID())")
        defer { try? FileManager.default.removeItem(at: directory) }
        try ModelCheckpoint.save(model, to: directory)
        let loaded = try ModelCheckpoint.load(directory: directory)
        #expect(loaded.config == config)
        for ((name, a), (_, b)) in zip(model.namedParameters(), loaded.namedParameters()) {
            #expect(a.values == b.values, "\(name)")
        }
    }

    @Test func mismatchedShapesAreNamedErrors() throws {
        var rng = RNG(seed: 13)
        let config = GPTConfig.gpt2(vocabularySize: 19, contextLength: 8, embeddingSize: 12, layers: 1, heads: 3)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tinytune-mismatch-\(UUID())")
        defer { try? FileManager.default.removeItem(at: directory) }
        try ModelCheckpoint.save(GPT(config: config, rng: &rng), to: directory)
        // Claim a wider model in config.json: the loader must name a tensor whose shape is wrong.
        var other = config
        other.embeddingSize = 24
        try ModelCheckpoint.configJSON(other).write(to: directory.appendingPathComponent("config.json"))
        #expect { try ModelCheckpoint.load(directory: directory) } throws: { error in
            "\(error)".contains("wte.weight")
        }
    }
}
