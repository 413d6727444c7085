// ExportCheckTests.swift — a LoRA fine-tune, merged and exported (GGUF F32, GGUF F16, HF safetensors),
// loads back with our loaders and gives the in-memory fine-tune's greedy token ids; no real model needed
// (the synthetic tiny Llama chapter 15's smoke test uses).
//
// The reference is the in-memory model with its adapters unmerged (W·x + s·B·(A·x)); every reloaded copy
// is decoded here, independently of `ExportCheck.run`, and must produce the same ids. The check can fail:
// the base's answers differ from the fine-tune's, and an unmerged model is refused by the GGUF writer.
import Foundation
import Testing
import NN
import Tokenizers
import Checkpoints
import Datasets
import Training
import PEFT
@testable import Experiments

@Suite struct ExportCheckTests {
    @Test func mergedExportsGiveTheInMemoryFineTunesGreedyAnswers() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("export-check-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let real = try RealModel.synthetic(in: directory)
        let (tokenizer, template) = (real.tokenizer, real.template)
        let test = ContactExtraction.examples(.test, count: 3, seed: 15).map(\.chatExample)
        let prompts = test.map { $0.rendered(with: template).prompt }
        let limits = [12, 12, 12]

        let baseAnswers = ExportCheck.answers(try real.loadFP32(), tokenizer: tokenizer, template: template, prompts: prompts, maxNewTokens: limits)
        // A few LoRA steps at a high rate, so the answers change and the logits are not near-ties.
        let model = try real.loadFP32()
        _ = try LoRA.add("default", to: model, config: LoRAConfig(rank: 4, alpha: 8), seed: 3)
        let train = ContactExtraction.examples(.train, count: 16, seed: 15).map(\.chatExample)
        let result = FineTuning.train(model, tokenizer: tokenizer, examples: train,
                                      recipe: SFTRecipe(steps: 12, batchSize: 4, learningRate: 1e-2, seed: 15, bucketed: true),
                                      template: template)
        #expect(result.log.count == 12)
        let inMemory = ExportCheck.answers(model, tokenizer: tokenizer, template: template, prompts: prompts, maxNewTokens: limits)
        #expect(inMemory != baseAnswers, "the fine-tune should answer differently from the base")
        #expect(inMemory.allSatisfy { !$0.isEmpty })

        // Unmerged adapters have no llama.cpp name: the writer refuses, naming the parameter.
        let refused = #expect(throws: GGUF.Error.self) {
            try ModelCheckpoint.saveGGUF(model, to: directory.appendingPathComponent("unmerged.gguf"), type: .f32)
        }
        #expect("\(refused.map { "\($0)" } ?? "")".contains("merge or drop adapters first"))

        try LoRA.mergeAndUnload("default", from: model)
        let exportDirectory = directory.appendingPathComponent("export")
        let results = try ExportCheck.run(model, tokenizer: tokenizer, template: template, prompts: prompts, maxNewTokens: limits,
                                          reference: inMemory, directory: exportDirectory, name: "tiny-merged")
        #expect(results.map(\.format) == ["GGUF F32", "GGUF F16", "HF safetensors F32"])
        #expect(results.map(\.same) == [3, 3, 3])

        // Independently: each file loaded back by our loaders answers with the in-memory ids.
        let reloaded: [(String, GPT)] = [
            ("F32 GGUF", try ModelCheckpoint.model(from: GGUF.File(contentsOf: exportDirectory.appendingPathComponent("tiny-merged.F32.gguf")))),
            ("F16 GGUF", try ModelCheckpoint.model(from: GGUF.File(contentsOf: exportDirectory.appendingPathComponent("tiny-merged.F16.gguf")))),
            ("HF", try ModelCheckpoint.load(directory: exportDirectory.appendingPathComponent("tiny-merged-hf"))),
        ]
        for (label, copy) in reloaded {
            #expect(copy.parameterCount() == model.parameterCount(), "\(label)")
            for (index, prompt) in prompts.enumerated() {
                let ids = TaskEvaluator.generateIDs(copy, tokenizer: tokenizer, prompt: prompt, maxNewTokens: limits[index], template: template)
                #expect(ids == inMemory[index], "\(label), prompt \(index + 1)")
            }
        }
        // The F16 file stores the matrices as F16 (half the bytes of the F32 file, give or take the F32 norms).
        let size = { (name: String) in try FileManager.default.attributesOfItem(atPath: exportDirectory.appendingPathComponent(name).path)[.size] as? Int ?? 0 }
        let (f16Bytes, f32Bytes) = (try size("tiny-merged.F16.gguf"), try size("tiny-merged.F32.gguf"))
        #expect(f16Bytes < f32Bytes * 6 / 10)

        // answers.json holds the prompts' ids and the reference for other readers (the transformers script).
        let record = try JSONDecoder().decode(ExportCheck.Record.self, from: Data(contentsOf: exportDirectory.appendingPathComponent("answers.json")))
        #expect(record.referenceAnswers == inMemory && record.promptIDs == prompts.map { tokenizer.encode($0) })
        #expect(record.exports == results)

        // The same comparison against the base's answers counts fewer than 3: the check can fail.
        let against = try ExportCheck.run(model, tokenizer: tokenizer, template: template, prompts: prompts, maxNewTokens: limits,
                                          reference: baseAnswers, directory: directory.appendingPathComponent("against-base"),
                                          name: "tiny-merged", ggufTypes: [.f32])
        #expect(against.allSatisfy { $0.same < 3 })
    }
}
