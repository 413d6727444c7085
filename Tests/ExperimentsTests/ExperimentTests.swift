// ExperimentTests.swift — the forgetting experiment and BM25 retrieval, checked at toy scale and by hand.
import Foundation
import Testing
import Tokenizers
import Datasets
import Training
import TestSupport
@testable import Experiments

@Suite struct ForgettingTests {
    @Test func fullFineTuningForgetsMoreThanPartial() {
        let base = TinyModels.pretrainedBase()
        let tokenizer = CharTokenizer.builtIn
        let corpus = Pretraining.validationBatches(TinyModels.pretrainingRecipe, batchSize: 8, count: 2)
        let train = SFTTask.reverse.examples(split: .train, count: 200, seed: 1, world: base.world)
        let test = SFTTask.reverse.examples(split: .test, count: 10, seed: 2, world: base.world)
        let taskA = SFTTask.facts.examples(split: .test, count: 10, seed: 3, world: base.world)
        let reports = Forgetting.measure(base: base.model, tokenizer: tokenizer, corpus: corpus, taskA: taskA,
                                         taskBTrain: train, taskBTest: test,
                                         recipe: SFTRecipe(steps: 150, batchSize: 16, learningRate: 1e-2),
                                         rules: [.none, .lastBlocks(1, trainEmbeddings: false)])
        let (full, partial) = (reports[0], reports[1])
        #expect(full.corpusForgetting > 0, "full fine-tuning should forget: \(full.corpusForgetting)")
        // Measured 4.49 vs 2.28 (seeded). The ratio moves by a few percent with rounding (the fused
        // Linear op sums the bias gradient in another order than the broadcast add did), so the bound
        // is 1.5x rather than a knife-edge 2x.
        #expect(full.corpusForgetting > 1.5 * partial.corpusForgetting,
                "full \(full.corpusForgetting) vs partial \(partial.corpusForgetting)")
        #expect(partial.trainableParameters < full.trainableParameters / 2)
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
