// Pretraining.swift — the built-in base model: a small GPT trained on the synthetic corpus.
//
// Teaches: pretraining is the same loop as fine-tuning — next-token loss on text — run longer, from
// random weights, on a broad corpus. Every later chapter fine-tunes *this* model, so it is cached:
// the first run trains it (a few minutes on 2 cores in release) and writes an HF-layout checkpoint
// plus the tokenizer and loss log; later runs load it.
// Leaves out: data deduplication, curriculum, mixed precision.
import Foundation
import Kernels
import Autodiff
import NN
import Optim
import Tokenizers
import Datasets
import Checkpoints

/// Everything that determines the base model. Its fingerprint names the cache folder, so changing
/// any field trains a new model instead of loading a stale one.
public struct PretrainingRecipe: Codable, Sendable, Equatable {
    public var model: GPTConfig
    public var steps: Int
    public var batchSize: Int
    public var learningRate: Float
    /// Characters of synthetic text to generate (90% train, 10% validation).
    public var corpusCharacters: Int
    /// Seeds the world's facts.
    public var worldSeed: UInt64
    /// Seeds the corpus, initialisation, batches and dropout.
    public var seed: UInt64

    /// The default base model: GPT-2 flavour, width 128, 4 layers, 4 heads, context 128.
    public static let standard = PretrainingRecipe(
        model: .gpt2(vocabularySize: CharTokenizer.builtIn.vocabularySize, contextLength: 128, embeddingSize: 128,
                     layers: 4, heads: 4),
        steps: 800, batchSize: 16, learningRate: 3e-3, corpusCharacters: 2_000_000, worldSeed: 1, seed: 1)

    /// A wider base (width 256) for claims that depend on width, such as LoRA's parameter share:
    /// r·(in + out)/(in·out) halves when the width doubles.
    public static let wide = PretrainingRecipe(
        model: .gpt2(vocabularySize: CharTokenizer.builtIn.vocabularySize, contextLength: 64, embeddingSize: 256,
                     layers: 4, heads: 4),
        steps: 500, batchSize: 16, learningRate: 2e-3, corpusCharacters: 2_000_000, worldSeed: 1, seed: 1)

    /// A seconds-long recipe for tests and smoke runs.
    public static let tiny = PretrainingRecipe(
        model: .gpt2(vocabularySize: CharTokenizer.builtIn.vocabularySize, contextLength: 32, embeddingSize: 32,
                     layers: 2, heads: 2),
        steps: 60, batchSize: 8, learningRate: 3e-3, corpusCharacters: 40_000, worldSeed: 1, seed: 1)

    /// A short stable hash of the recipe (FNV-1a over its sorted-key JSON).
    public var fingerprint: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let bytes = (try? encoder.encode(self)) ?? Data()
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return String(hash, radix: 16)
    }
}

/// A pretrained model with what it was trained on.
public struct BaseModel {
    public let model: GPT
    public let tokenizer: CharTokenizer
    public let world: SyntheticWorld
    public let recipe: PretrainingRecipe
    /// Per-step training log (with validation losses).
    public let log: [TrainingLogEntry]
    /// Validation loss after pretraining, and the unigram-entropy baseline of the same text.
    public let validationLoss: Float
    public let unigramBaseline: Double
}

/// Training and caching the base model (caseless namespace).
public enum Pretraining {
    /// The corpus token streams (train, validation) for a recipe.
    public static func corpus(_ recipe: PretrainingRecipe) -> (world: SyntheticWorld, train: [Int32], validation: [Int32]) {
        let world = SyntheticWorld(seed: recipe.worldSeed)
        let text = SyntheticCorpus.text(world: world, characters: recipe.corpusCharacters, seed: recipe.seed)
        let ids = CharTokenizer.builtIn.encode(text).map(Int32.init)
        let split = ids.count * 9 / 10
        return (world, Array(ids[..<split]), Array(ids[split...]))
    }

    /// A fixed evaluation set: `count` consecutive [batchSize, contextLength] windows from the start of
    /// `tokens` (validation text), the same on every call.
    public static func validationBatches(_ tokens: [Int32], batchSize: Int, contextLength: Int, count: Int) -> [Batch] {
        PretrainingBatchSource(tokens: tokens, batchSize: batchSize, contextLength: contextLength, seed: 0).sequentialBatches(count)
    }

    /// The same from the validation text of `recipe`'s corpus, rows of its model's context length.
    public static func validationBatches(_ recipe: PretrainingRecipe, batchSize: Int, count: Int) -> [Batch] {
        validationBatches(corpus(recipe).validation, batchSize: batchSize, contextLength: recipe.model.contextLength, count: count)
    }

    /// Trains a base model from scratch.
    public static func train(_ recipe: PretrainingRecipe, progress: ProgressReporter? = nil) -> BaseModel {
        let (world, trainTokens, validationTokens) = corpus(recipe)
        var rng = RNG(seed: recipe.seed)
        let model = GPT(config: recipe.model, rng: &rng)
        let optimizer = AdamW(model.namedParameters(), beta2: 0.99, weightDecay: 0.1)
        let options = TrainerOptions(steps: recipe.steps, learningRate: recipe.learningRate,
                                     warmupSteps: max(recipe.steps / 20, 1), evaluateEvery: max(recipe.steps / 10, 1),
                                     seed: recipe.seed)
        let trainer = Trainer(model: model, optimizer: optimizer, options: options)
        var source = PretrainingBatchSource(tokens: trainTokens, batchSize: recipe.batchSize,
                                            contextLength: recipe.model.contextLength, seed: recipe.seed)
        let validation = validationBatches(validationTokens, batchSize: recipe.batchSize, contextLength: recipe.model.contextLength,
                                           count: 4)
        // The loop cannot throw here: the after-step hook does nothing.
        try? trainer.run(source: &source, validation: validation, progress: progress)
        let finalLoss = trainer.evaluate(validation)
        let baseline = SyntheticCorpus.unigramEntropy(validationTokens.map(Int.init))
        return BaseModel(model: model, tokenizer: .builtIn, world: world, recipe: recipe, log: trainer.log,
                         validationLoss: finalLoss, unigramBaseline: baseline)
    }

    /// The default cache folder: `$TINYTUNE_CACHE`, else `.tinytune-cache` in the current directory.
    public static var defaultCache: URL {
        if let path = ProcessInfo.processInfo.environment["TINYTUNE_CACHE"], !path.isEmpty {
            return URL(fileURLWithPath: path)
        }
        return URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent(".tinytune-cache")
    }

    /// The folder a recipe's model is cached in.
    public static func folder(for recipe: PretrainingRecipe, cache: URL) -> URL {
        cache.appendingPathComponent("base-\(recipe.fingerprint)")
    }

    /// The base model for `recipe`: from the default cache when `cached` (trained and cached on a miss),
    /// else trained afresh and kept only in memory (the chapters' tiny test configurations).
    public static func base(_ recipe: PretrainingRecipe, cached: Bool, progress: ProgressReporter? = nil) throws -> BaseModel {
        cached ? try loadOrTrain(recipe, progress: progress) : train(recipe, progress: progress)
    }

    /// Loads the cached base model for `recipe`, or trains and caches it.
    public static func loadOrTrain(_ recipe: PretrainingRecipe, cache: URL = defaultCache,
                                   progress: ProgressReporter? = nil) throws -> BaseModel {
        let folder = folder(for: recipe, cache: cache)
        let summaryURL = folder.appendingPathComponent("pretraining.json")
        if FileManager.default.fileExists(atPath: summaryURL.path) {
            let summary = try JSONDecoder().decode(PretrainingSummary.self, from: Data(contentsOf: summaryURL))
            let model = try ModelCheckpoint.load(directory: folder)
            return BaseModel(model: model, tokenizer: .builtIn, world: SyntheticWorld(seed: recipe.worldSeed),
                             recipe: recipe, log: summary.log, validationLoss: summary.validationLoss,
                             unigramBaseline: summary.unigramBaseline)
        }
        let base = train(recipe, progress: progress)
        try save(base, to: folder)
        return base
    }

    /// Writes the model (HF layout), tokenizer, loss log and summary, replacing the folder as a whole
    /// (AtomicDirectory), so an interrupted save leaves no folder, or the previous one, and is retrained.
    public static func save(_ base: BaseModel, to folder: URL) throws {
        let summary = PretrainingSummary(recipe: base.recipe, log: base.log, validationLoss: base.validationLoss,
                                         unigramBaseline: base.unigramBaseline)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicDirectory.write(to: folder) { staging in
            try ModelCheckpoint.save(base.model, to: staging, metadata: ["tinytune_recipe": base.recipe.fingerprint])
            // Sorted keys: the same base writes the same bytes in every process (a Swift dictionary's order is not).
            try AtomicFile.write(try encoder.encode(base.tokenizer), to: staging.appendingPathComponent("tokenizer.json"))
            try TrainingLogFile.write(base.log, to: staging.appendingPathComponent("loss.csv"))
            try AtomicFile.write(try encoder.encode(summary), to: staging.appendingPathComponent("pretraining.json"))
        }
    }
}

/// What `pretraining.json` records next to the cached weights.
struct PretrainingSummary: Codable {
    var recipe: PretrainingRecipe
    var log: [TrainingLogEntry]
    var validationLoss: Float
    var unigramBaseline: Double
}
