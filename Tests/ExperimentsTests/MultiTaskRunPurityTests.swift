// MultiTaskRunPurityTests.swift — running the merge matrix must not change its starting model, and a
// fine-tune made after it must equal one made before it, bit for bit: Chapter 13 trains its generalist
// after part 1 from the same base, and `--parts 3` alone must then give what the whole chapter gives.
// (At the chapter's own sizes this was also checked by hand, 2026-12-03: part 3 alone and after parts 1
// and 2 print the same generalist.)
import Foundation
import Testing
import Kernels
import NN
import Tokenizers
import Datasets
import Training
import Experiments

@Suite struct MultiTaskRunPurityTests {
    static func weights(_ model: GPT) -> [String: [Float]] {
        Dictionary(uniqueKeysWithValues: model.namedParameters().map { ($0.0, $0.1.values) })
    }

    @Test func theMatrixLeavesItsStartUntouchedAndLaterFineTunesReproduce() throws {
        let fixture = TwoTaskFixture(contextLength: 128, width: 128, layers: 4, testExamples: 4)
        let (tokenizer, base, data) = (fixture.tokenizer, fixture.base, fixture.data)
        let recipe = SFTRecipe(steps: 3, batchSize: 32, learningRate: 3e-3)
        let before = Self.weights(base)
        let first = Self.weights(MultiTaskExperiment.generalist(base: base, tokenizer: tokenizer, data: data, recipe: recipe))
        _ = try MultiTaskExperiment.run(start: base, tokenizer: tokenizer, data: data, recipe: recipe)
        let after = Self.weights(base)
        let changed = before.keys.filter { before[$0] != after[$0] }.sorted()
        #expect(changed.isEmpty, "the matrix changed its start: \(changed)")
        let second = Self.weights(MultiTaskExperiment.generalist(base: base, tokenizer: tokenizer, data: data, recipe: recipe))
        let differ = first.keys.filter { first[$0] != second[$0] }.sorted()
        #expect(differ.isEmpty, "a generalist made after the matrix differs: \(differ)")
    }
}
