// MergeLearningTests.swift — Chapter 13's claim at toy scale, seeded and with a fixed step budget:
// merging the A and B fine-tunes of a shared checkpoint keeps part of both skills, where each
// fine-tune alone has forgotten the other task — so the merge beats both on A ∪ B.
//
// Measured by response loss (at this size and budget no model answers exactly; Chapter 13 measures
// exact-match accuracy on the pretrained base: best merge 97% vs 62% for the better single model).
import Foundation
import Testing
import Kernels
import NN
import Tokenizers
import Datasets
import Training
import Merging
import Experiments

@Suite struct MergeLearningTests {
    @Test func mergesOfTwoFineTunesBeatEachOnTheUnionOfTheirTasks() throws {
        let fixture = TwoTaskFixture(contextLength: 48, width: 64, layers: 2, testExamples: 32)
        let (tokenizer, base, data) = (fixture.tokenizer, fixture.base, fixture.data)
        // A shared start (60 multi-task steps), then 40 steps on each task alone.
        let start = MultiTaskExperiment.generalist(base: base, tokenizer: tokenizer, data: data,
                                                   recipe: SFTRecipe(steps: 60, batchSize: 16, learningRate: 3e-3))
        let recipe = SFTRecipe(steps: 40, batchSize: 16, learningRate: 3e-3)
        let modelA = FineTuning.run(base: start, tokenizer: tokenizer, examples: data.trainA, recipe: recipe).model
        let modelB = FineTuning.run(base: start, tokenizer: tokenizer, examples: data.trainB, recipe: recipe).model
        func losses(_ model: GPT) -> (a: Float, b: Float, union: Float) {
            let a = TaskEvaluator.responseLoss(model, tokenizer: tokenizer, examples: data.testA)
            let b = TaskEvaluator.responseLoss(model, tokenizer: tokenizer, examples: data.testB)
            return (a, b, (a + b) / 2)
        }
        let (lossA, lossB, lossStart) = (losses(modelA), losses(modelB), losses(start))
        // Each fine-tune improved its own task and forgot the other.
        #expect(lossA.a < lossStart.a && lossA.b > lossStart.b, "A: \(lossA), start: \(lossStart)")
        #expect(lossB.b < lossStart.b && lossB.a > lossStart.a, "B: \(lossB), start: \(lossStart)")
        let models = ["base": start, "A": modelA, "B": modelB]
        let checked = MultiTaskExperiment.merges.filter { $0.label.hasPrefix("soup") || $0.label.hasPrefix("SLERP") }
        // Both merges must be found: a renamed label must fail here, not skip the checks below.
        #expect(checked.map(\.json).map { $0.contains("\"linear\"") || $0.contains("\"slerp\"") } == [true, true],
                "merges checked: \(checked.map(\.label))")
        for (label, json) in checked {
            let merged = losses(try ModelMerge.run(MergeConfig(json: Data(json.utf8), file: label)) { models[$0]! })
            // The merge is better at B than the A model and better at A than the B model …
            #expect(merged.b < lossA.b && merged.a < lossB.a, "\(label): \(merged); A: \(lossA); B: \(lossB)")
            // … and better than either on the union.
            #expect(merged.union < min(lossA.union, lossB.union), "\(label): \(merged); A: \(lossA); B: \(lossB)")
        }
    }
}
