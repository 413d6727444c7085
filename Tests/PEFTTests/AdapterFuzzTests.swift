// AdapterFuzzTests.swift — seeded mutations of a valid adapter directory: every load either succeeds
// with finite outputs or throws, and a load that throws leaves the model exactly as it was.
import Foundation
import Testing
import TestSupport
@testable import Autodiff
import NN
import Checkpoints
@testable import PEFT

@Suite struct AdapterFuzzTests {
    @Test func mutatedAdapterFilesNeverCrashOrHalfApply() throws {
        let source = PEFTFixtures.root.appendingPathComponent("ours-gpt2")
        let configText = try String(contentsOf: source.appendingPathComponent("adapter_config.json"), encoding: .utf8)
        let weights = try Data(contentsOf: source.appendingPathComponent("adapter_model.safetensors"))
        let model = try PEFTFixtures.base("gpt2")
        try LoRA.add("other", to: model, config: LoRAConfig(rank: 2, targets: ["c_proj"]), seed: 1)
        let pristine = fingerprint(model)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("tinytune-adapter-fuzz-\(UUID())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        var mutator = FileMutator(seed: 17)
        var (loaded, refused) = (0, 0)
        let ids: [Int32] = [1, 17, 42, 5]
        for round in 0..<2000 {
            // Two thirds of the rounds damage the config text, the rest the tensor file.
            let (config, tensors): (Data, Data)
            let kind: FileMutator.Mutation
            if round % 3 != 2 { (config, kind) = mutator.mutateText(configText); tensors = weights }
            else { (tensors, kind) = mutator.mutate(weights); config = Data(configText.utf8) }
            try config.write(to: folder.appendingPathComponent("adapter_config.json"))
            try tensors.write(to: folder.appendingPathComponent("adapter_model.safetensors"))
            do {
                try AdapterFiles.load("default", into: model, from: folder)
                loaded += 1
                let finite = model(ids, batch: 1, steps: 4).values.allSatisfy { $0.isFinite }
                #expect(finite, "round \(round) (\(kind)): non-finite logits")
                LoRA.remove("default", from: model)
                LoRA.trainOnly("other", on: model)
                #expect(sameFingerprint(pristine, fingerprint(model)), "round \(round) (\(kind)): removing the adapter did not restore the model")
            } catch {
                refused += 1
                #expect(sameFingerprint(pristine, fingerprint(model)), "round \(round) (\(kind)): a failed load changed the model: \(error)")
            }
            if !sameFingerprint(pristine, fingerprint(model)) { break }   // one report, not 2500
        }
        #expect(loaded > 0 && refused > 0, "loaded \(loaded), refused \(refused)")
    }
}
