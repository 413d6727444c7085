// QuantizedCheckpointTests.swift — an NF4 checkpoint reloads to the same packed bytes and outputs, is
// ~8x smaller on disk for its linear weights, trains QLoRA adapters, and reports bad files by name.
import Foundation
import Testing
import Kernels
import Autodiff
import NN
import Checkpoints
import PEFT
import TestSupport
@testable import Quantization

@Suite struct QuantizedCheckpointTests {
    func temporaryDirectory() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("tinytune-nf4-\(UUID().uuidString)")
    }

    @Test func roundTripKeepsTheBytesAndTheOutputs() throws {
        let setup = ToySetup()
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        // Quantize in memory (as QLoRA would) and save; reload; compare packed bytes and logits.
        let model = setup.base.copy()
        try QLoRA.prepare(model, adapter: "default", config: QLoRAConfig(lora: LoRAConfig(rank: 2)), seed: 1)
        try QuantizedCheckpoint.save(model, to: directory)
        // Loading never builds the fp32 model: the meter's peak stays below the fp32 matrices' bytes.
        let meter = MemoryMeter()
        let loaded = try meter.install { try QuantizedCheckpoint.load(directory: directory) }
        let matrixBytes = 4 * QLoRA.quantizedWeights(of: model).reduce(0) { $0 + $1.weight.rows * $1.weight.columns }
        #expect(meter.peakTotal < matrixBytes, "peak \(meter.peakTotal) B vs fp32 matrices \(matrixBytes) B")
        let before = QLoRA.quantizedWeights(of: model), after = QLoRA.quantizedWeights(of: loaded)
        #expect(after.count == 8 && after.map(\.path) == before.map(\.path))
        #expect(zip(before, after).allSatisfy { $0.weight.packedBytes == $1.weight.packedBytes && $0.weight.dequantized() == $1.weight.dequantized() })
        LoRA.setActive([], on: model)   // B = 0 anyway; compare the bases
        let batch = setup.evaluationBatches[0]
        let a = Tensor.withNoGrad { model(batch.inputs, batch: batch.batchSize, steps: batch.contextLength) }
        let b = Tensor.withNoGrad { loaded(batch.inputs, batch: batch.batchSize, steps: batch.contextLength) }
        #expect(a.values == b.values)
        // The reloaded base takes a QLoRA adapter without being expanded to fp32.
        let summary = try QLoRA.prepare(loaded, adapter: "task", config: QLoRAConfig(lora: LoRAConfig(rank: 2)), seed: 1)
        #expect(summary.quantizedLayers == 0 && LoRA.parameterCount("task", in: loaded) > 0)
    }

    @Test func fileIsSmallerThanTheFP32Checkpoint() throws {
        let setup = ToySetup(width: 128)
        let (fp32Directory, nf4Directory) = (temporaryDirectory(), temporaryDirectory())
        defer { for d in [fp32Directory, nf4Directory] { try? FileManager.default.removeItem(at: d) } }
        try ModelCheckpoint.save(setup.base, to: fp32Directory)
        let nf4Bytes = try QuantizedCheckpoint.save(setup.base, to: nf4Directory)
        let fp32Bytes = try FileManager.default.attributesOfItem(atPath: fp32Directory.appendingPathComponent("model.safetensors").path)[.size] as! Int
        // Linear weights are ~80% of this model; they shrink ~7.75x, the rest stays fp32.
        let linear = WeightQuantization.layers(of: setup.base).map(\.layer.weight.byteCount).reduce(0, +)
        let expected = fp32Bytes - linear + linear * 4127 / 32000
        #expect(abs(nf4Bytes - expected) < fp32Bytes / 50, "NF4 file \(nf4Bytes) B, fp32 \(fp32Bytes) B, expected ≈\(expected)")
    }

    @Test func damagedFilesAreReportedByTensorName() throws {
        let setup = ToySetup()
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try QuantizedCheckpoint.save(setup.base, to: directory)
        // Drop one tensor from the file and rewrite it.
        let url = directory.appendingPathComponent(QuantizedCheckpoint.fileName)
        let file = try SafeTensors.File(contentsOf: url)
        try SafeTensors.write(file.namedTensors.filter { $0.name != "h.1.mlp.c_fc.weight.absmax_codes" && $0.name != "h.1.mlp.c_fc.weight.nf4" },
                              metadata: file.metadata, to: url)
        #expect(throws: QuantizationError("\(url.path): tensor h.1.mlp.c_fc.weight is missing")) {
            try QuantizedCheckpoint.load(directory: directory)
        }
        try SafeTensors.write(file.namedTensors, metadata: ["format": "pt"], to: url)
        #expect(throws: QuantizationError.self) { try QuantizedCheckpoint.load(directory: directory) }
    }
}

/// Issue 18's NF4-checkpoint inputs: each is an error naming the problem, found before a model of the
/// claimed size is allocated.
@Suite struct QuantizedCheckpointValidationTests {
    /// A saved toy checkpoint whose file is rewritten by `tensors` / `metadata` and config by `config`.
    func damaged(metadata: ((inout [String: String]) -> Void)? = nil, tensors: ((inout [SafeTensors.NamedTensor]) throws -> Void)? = nil,
                 config: ((inout [String: Any]) -> Void)? = nil) throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tinytune-nf4-bad-\(UUID().uuidString)")
        try QuantizedCheckpoint.save(ToySetup().base, to: directory)
        let url = directory.appendingPathComponent(QuantizedCheckpoint.fileName)
        let file = try SafeTensors.File(contentsOf: url)
        var named = file.namedTensors, meta = file.metadata
        metadata?(&meta)
        try tensors?(&named)
        try SafeTensors.write(named, metadata: meta, to: url)
        if let config {
            let configURL = directory.appendingPathComponent("config.json")
            var json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: configURL)) as? [String: Any])
            config(&json)
            try JSONSerialization.data(withJSONObject: json).write(to: configURL)
        }
        return directory
    }

    func expectRefused(_ directory: URL, _ words: [String]) throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        let meter = MemoryMeter()
        meter.install {
            #expect { try QuantizedCheckpoint.load(directory: directory) } throws: { error in
                let text = "\(error)"
                return words.allSatisfy { text.contains($0) } || { Issue.record("message: \(text)"); return false }()
            }
        }
        #expect(meter.peakTotal < 50_000_000, "peak \(meter.peakTotal) bytes")
    }

    @Test func badBlockSizes() throws {
        for size in ["0", "-64", "63", "4611686018427387904"] {
            try expectRefused(damaged(metadata: { $0["block_size"] = size }), ["block_size"])
        }
    }

    @Test func hugeConfigSizesAreCheckedAgainstTheFileFirst() throws {
        let layerKey = "n_layer", embeddingKey = "n_embd"
        for (key, value) in [(layerKey, 1 << 40), (layerKey, 1_000_000), ("vocab_size", 1 << 40), (embeddingKey, 1 << 20), ("n_positions", 1 << 30)] {
            try expectRefused(damaged(config: { $0[key] = value }), [])
        }
    }

    @Test func wrongShapesWithTheRightCountAndTensorsPastTheLayers() throws {
        try expectRefused(damaged(tensors: { named in
            let index = try #require(named.firstIndex { $0.name == "wpe.weight" })
            let t = named[index]
            named[index] = SafeTensors.NamedTensor(name: t.name, dtype: t.dtype, shape: t.shape.reversed(), bytes: t.bytes)
        }), ["wpe.weight", "shape"])
        try expectRefused(damaged(tensors: { named in
            named.append(try SafeTensors.NamedTensor(name: "h.9.ln_1.weight", shape: [2], floats: [1, 1]))
        }), ["blocks"])
        try expectRefused(damaged(tensors: { named in
            named.append(try SafeTensors.NamedTensor(name: "extra.weight", shape: [2], floats: [1, 1]))
        }), ["extra.weight"])
    }
}

@Suite struct QuantizedCheckpointFuzzTests {
    /// Seeded mutations of a saved NF4 checkpoint (its tensor file and its config.json): every load
    /// either succeeds with finite logits or throws.
    @Test func mutatedCheckpointsNeverCrash() throws {
        var rng = RNG(seed: 2)
        let small = GPT(config: .gpt2(vocabularySize: 12, contextLength: 8, embeddingSize: 16, layers: 2, heads: 2), rng: &rng)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tinytune-nf4-fuzz-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        try QuantizedCheckpoint.save(small, to: directory, blockSize: 16)
        let fileURL = directory.appendingPathComponent(QuantizedCheckpoint.fileName), configURL = directory.appendingPathComponent("config.json")
        let (tensors, config) = (try Data(contentsOf: fileURL), try String(contentsOf: configURL, encoding: .utf8))
        var mutator = FileMutator(seed: 31)
        var (loaded, refused) = (0, 0)
        for round in 0..<2000 {
            let kind: FileMutator.Mutation
            if round % 4 == 3 {
                let (data, k) = mutator.mutateText(config); kind = k
                try data.write(to: configURL); try tensors.write(to: fileURL)
            } else {
                let (data, k) = mutator.mutate(tensors); kind = k
                try data.write(to: fileURL); try Data(config.utf8).write(to: configURL)
            }
            do {
                let model = try QuantizedCheckpoint.load(directory: directory)
                loaded += 1
                let steps = min(4, model.config.contextLength)
                let ids = (0..<steps).map { Int32($0 % model.config.vocabularySize) }
                let logits = Tensor.withNoGrad { model(ids, batch: 1, steps: steps) }
                // A flipped bit in a float can make it huge or NaN: the loader takes stored floats as they are,
                // so only the structure (no crash, right shape) is asserted here.
                #expect(logits.shape == [steps, model.config.vocabularySize], "round \(round) (\(kind))")
            } catch {
                refused += 1
            }
        }
        #expect(loaded > 0 && refused > 0, "loaded \(loaded), refused \(refused)")
    }
}
