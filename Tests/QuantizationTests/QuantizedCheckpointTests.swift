// QuantizedCheckpointTests.swift — an NF4 checkpoint reloads to the same packed bytes and outputs, is
// ~8x smaller on disk for its linear weights, trains QLoRA adapters, and reports bad files by name.
import Foundation
import Testing
import Autodiff
import NN
import Checkpoints
import PEFT
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
        let loaded = try QuantizedCheckpoint.load(directory: directory)
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
