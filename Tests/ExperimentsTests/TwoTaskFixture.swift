// TwoTaskFixture.swift — the small two-task setup the multi-task tests share: a fresh GPT-2-style base
// on the built-in characters, and reverse + arithmetic data from one synthetic world.
import Kernels
import NN
import Tokenizers
import Datasets
import Experiments

/// A seeded base model and the reverse/arithmetic task data for the multi-task and merge tests.
struct TwoTaskFixture {
    let tokenizer = CharTokenizer.builtIn
    let base: GPT
    let data: MultiTaskExperiment.TaskData

    /// A base of `layers` blocks of width `width` (4 heads, context `contextLength`, seed 1) and 96
    /// training / `testExamples` test examples of each task (world seed 1).
    init(contextLength: Int, width: Int, layers: Int, testExamples: Int) {
        var rng = RNG(seed: 1)
        base = GPT(config: .gpt2(vocabularySize: tokenizer.vocabularySize, contextLength: contextLength, embeddingSize: width,
                                 layers: layers, heads: 4), rng: &rng)
        data = MultiTaskExperiment.TaskData(tasks: (.reverse, .arithmetic), world: SyntheticWorld(seed: 1),
                                            trainExamples: 96, testExamples: testExamples)
    }
}
