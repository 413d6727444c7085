// FineTuningTests.swift — the SFT loop and the task evaluator at toy scale, with fixed seeds and budgets.
import Foundation
import Testing
import Kernels
@testable import Autodiff
import NN
import Tokenizers
import Datasets
import Training
import TestSupport

@Suite struct FineTuningTests {
    @Test func sftRaisesTaskAccuracyFromNearZero() {
        let base = TinyModels.pretrainedBase()
        let tokenizer = CharTokenizer.builtIn
        let train = SFTTask.reverse.examples(split: .train, count: 400, seed: 1, world: base.world)
        let test = SFTTask.reverse.examples(split: .test, count: 40, seed: 2, world: base.world)
        let before = TaskEvaluator.score(base.model, tokenizer: tokenizer, examples: test)
        let tuned = FineTuning.run(base: base.model, tokenizer: tokenizer, examples: train,
                                   recipe: SFTRecipe(steps: 700, batchSize: 16, learningRate: 1e-2))
        let after = TaskEvaluator.score(tuned.model, tokenizer: tokenizer, examples: test)
        #expect(before.accuracy <= 0.05, "base: \(before)")
        #expect(after.accuracy >= 0.5, "after SFT: \(after)")
        #expect(after.loss < before.loss / 4)
        // The one-pass teacher-forced check agrees with generating, example by example, before and after.
        for model in [base.model, tuned.model] {
            let fast = TaskEvaluator.score(model, tokenizer: tokenizer, examples: test, check: .teacherForced)
            #expect(fast == TaskEvaluator.score(model, tokenizer: tokenizer, examples: test))
            for example in test {
                let generated = TaskEvaluator.generate(model, tokenizer: tokenizer, prompt: example.prompt,
                                                       maxNewTokens: example.response.count + 2)
                #expect(TaskEvaluator.greedyReproduces(model, tokenizer: tokenizer, example: example)
                        == SFTTask.isCorrect(generated: generated, expected: example.response), "\(example.prompt) → \(generated)")
            }
        }
    }

    @Test func promptTokensGiveZeroGradientAtWeightZero() {
        // Logits as a leaf: the gradient row of every prompt position must be exactly zero.
        let tokenizer = CharTokenizer.builtIn
        let example = TokenizedExample(SFTExample(prompt: "reverse: abc\n", response: "cba"), tokenizer: tokenizer, promptLossWeight: 0)
        let row = example.row(contextLength: 20)
        var rng = RNG(seed: 1)
        let logits = Tensor.randomNormal([20, tokenizer.vocabularySize], rng: &rng, requiresGrad: true)
        Tensor.crossEntropy(logits, targets: row.targets, weights: row.weights).backward()
        let v = tokenizer.vocabularySize
        let promptTargets = "reverse: abc\n".count - 1   // targets 0..<12 are prompt characters
        for position in 0..<20 {
            let gradientRow = logits.grad!.values[(position * v)..<((position + 1) * v)]
            let isResponse = position >= promptTargets && position < promptTargets + 4   // "cba" + end-of-text
            #expect(gradientRow.contains { $0 != 0 } == isResponse, "position \(position)")
        }
    }

    @Test func changingTheStepCountKeepsTheWarmupShare() {
        // The initialiser derives 10% warmup: 300 steps → 30. Cut to 150 / 250 / 5 steps, the warmup
        // follows (15 / 25 / 1, never 0); an explicit warmup keeps its share (40 of 200 → 10 of 50).
        let recipe = SFTRecipe(steps: 300, batchSize: 32, learningRate: 3e-4)
        #expect(recipe.warmupSteps == 30)
        #expect([150, 250, 5].map { recipe.withSteps($0).warmupSteps } == [15, 25, 1])
        #expect(recipe.withSteps(150).warmupSteps == SFTRecipe(steps: 150, batchSize: 32, learningRate: 3e-4).warmupSteps)
        let shortened = recipe.withSteps(150)
        #expect(shortened.steps == 150 && shortened.batchSize == 32 && shortened.learningRate == 3e-4)
        #expect(SFTRecipe(steps: 200, warmupSteps: 40).withSteps(50).warmupSteps == 10)
    }
}
