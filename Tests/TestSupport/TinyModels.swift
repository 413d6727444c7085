// TinyModels.swift — the small models the tests build, named once.
//
// Teaches: tests that train need a model small enough to train in seconds and big enough to learn
// the task; naming the sizes once keeps every test on the same few, so a change of size is one edit.
// Leaves out: anything needing the real model (those tests skip when it is absent).
import Kernels
import NN
import Tokenizers
import Datasets
import Training

/// Model configurations and pretrained bases shared by the tests (caseless namespace).
public enum TinyModels {
    /// A GPT-2-flavour model small enough to check by hand: vocabulary 11, context 8, width 12, 2 blocks of 3 heads.
    public static let gpt2 = GPTConfig.gpt2(vocabularySize: 11, contextLength: 8, embeddingSize: 12, layers: 2, heads: 3)
    /// A Llama-flavour model of the same size: width 16, 4 query heads sharing 2 key/value heads, MLP 24.
    public static let llama = GPTConfig.llama(vocabularySize: 11, contextLength: 8, embeddingSize: 16, layers: 2, heads: 4,
                                              kvHeads: 2, mlpSize: 24)

    /// The built-in tiny recipe with a wider model (context 32, width 48, 2 blocks, 4 heads), 150 steps
    /// on 60,000 characters: a base that has learned the corpus well enough to fine-tune, in seconds.
    public static var pretrainingRecipe: PretrainingRecipe {
        var recipe = PretrainingRecipe.tiny
        recipe.model = .gpt2(vocabularySize: CharTokenizer.builtIn.vocabularySize, contextLength: 32, embeddingSize: 48, layers: 2, heads: 4)
        recipe.steps = 150
        recipe.corpusCharacters = 60_000
        return recipe
    }

    /// A small base model pretrained with `pretrainingRecipe` (a few seconds).
    public static func pretrainedBase() -> BaseModel { Pretraining.train(pretrainingRecipe) }
}
