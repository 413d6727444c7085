// FineTuningTests.swift — the learning claims of Chapter 5 at toy scale, with fixed seeds and budgets.
import Foundation
import Testing
@testable import Autodiff
import NN
import Tokenizers
import Datasets
import Training
@testable import FullFineTuning

/// A small base model pretrained for a few seconds (context 32, width 48, 2 blocks).
func smallBase() -> BaseModel {
    var recipe = PretrainingRecipe.tiny
    recipe.model = .gpt2(vocabularySize: CharTokenizer.builtIn.vocabularySize, contextLength: 32, embeddingSize: 48, layers: 2, heads: 4)
    recipe.steps = 150
    recipe.corpusCharacters = 60_000
    return Pretraining.train(recipe)
}

@Suite struct FineTuningTests {
    @Test func sftRaisesTaskAccuracyFromNearZero() {
        let base = smallBase()
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

    @Test func fullFineTuningForgetsMoreThanPartial() {
        let base = smallBase()
        let tokenizer = CharTokenizer.builtIn
        let (_, _, validationTokens) = Pretraining.corpus({ var r = PretrainingRecipe.tiny; r.corpusCharacters = 60_000; return r }())
        let corpus = PretrainingBatchSource(tokens: validationTokens, batchSize: 8, contextLength: 32, seed: 0).sequentialBatches(2)
        let train = SFTTask.reverse.examples(split: .train, count: 200, seed: 1, world: base.world)
        let test = SFTTask.reverse.examples(split: .test, count: 10, seed: 2, world: base.world)
        let taskA = SFTTask.facts.examples(split: .test, count: 10, seed: 3, world: base.world)
        let reports = Forgetting.measure(base: base.model, tokenizer: tokenizer, corpus: corpus, taskA: taskA,
                                         taskBTrain: train, taskBTest: test,
                                         recipe: SFTRecipe(steps: 150, batchSize: 16, learningRate: 1e-2),
                                         rules: [.none, .lastBlocks(1, trainEmbeddings: false)])
        let (full, partial) = (reports[0], reports[1])
        #expect(full.corpusForgetting > 0, "full fine-tuning should forget: \(full.corpusForgetting)")
        #expect(full.corpusForgetting > 2 * partial.corpusForgetting,
                "full \(full.corpusForgetting) vs partial \(partial.corpusForgetting)")
        #expect(partial.trainableParameters < full.trainableParameters / 2)
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

    @Test func freezeRuleCountsParameters() {
        var rng = RNG(seed: 1)
        let config = GPTConfig.gpt2(vocabularySize: 20, contextLength: 8, embeddingSize: 16, layers: 3, heads: 2)
        let model = GPT(config: config, rng: &rng)
        let perBlock = model.namedParameters().filter { $0.name.hasPrefix("h.0.") }.map(\.tensor.count).reduce(0, +)
        #expect(FreezeRule.lastBlocks(1, trainEmbeddings: false).apply(to: model) == perBlock + 2 * 16)   // + ln_f
        #expect(FreezeRule.lastBlocks(2, trainEmbeddings: true).apply(to: model) == 2 * perBlock + 2 * 16 + 20 * 16 + 8 * 16)
        #expect(FreezeRule.none.apply(to: model) == model.parameterCount())
        #expect(model.namedParameters().filter { $0.name.hasPrefix("h.0.") }.allSatisfy { $0.tensor.requiresGrad })
    }

    @Test func copyIsIndependent() {
        var rng = RNG(seed: 2)
        let model = GPT(config: .gpt2(vocabularySize: 20, contextLength: 8, embeddingSize: 16, layers: 1, heads: 2), rng: &rng)
        let clone = model.copy()
        #expect(clone.parameters.map(\.values) == model.parameters.map(\.values))
        clone.parameters[0].data[0] += 1
        #expect(clone.parameters[0].data[0] != model.parameters[0].data[0])
    }
}

@Suite struct RetrievalTests {
    @Test func bm25RanksByRareTermsByHand() {
        let index = BM25Index(documents: ["Ana lives in Oslo.", "Ben lives in Rome.", "Ana works as a baker."])
        #expect(index.search("Where does Ana live?") == ["Ana lives in Oslo."])
        #expect(index.search("Who is a baker?") == ["Ana works as a baker."])
        // idf of "ana" (in 2 of 3 documents) = ln(1 + 1.5/2.5); "lives" is in 2 documents too.
        let idf = Foundation.log(1 + (3 - 2 + 0.5) / (2 + 0.5))
        let length = 4.0, average = (4.0 + 4 + 5) / 3
        let term = idf * 1 * 2.5 / (1 + 1.5 * (1 - 0.75 + 0.75 * length / average))
        #expect(abs(index.score("ana live", document: 0) - 2 * term) < 1e-12)
    }
}
