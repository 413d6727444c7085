// Chapter03Pretraining.swift — Chapter 3: a tiny GPT and pretraining.
//
// The claim: a language model learns from nothing but next-token prediction — spelling first, then
// the templates of the text, then the facts it states. We sample from a random model, pretrain the
// built-in base GPT on the synthetic corpus, plot its loss against the unigram baseline (the best a
// model without context can do), sample again, and measure how many of the world's facts it recalls.
// This model is the base that every later chapter fine-tunes.
// Leaves out: scaling laws, tokenizer choice (a character-level vocabulary keeps the model tiny).
import Foundation
import Kernels
import Autodiff
import NN
import Datasets
import Training
import Optim
import Tokenizers

/// Chapter 3 — pretraining the base model.
public enum Chapter03Pretraining {
    /// The experiment's knobs.
    public struct Config: Sendable {
        public var recipe: PretrainingRecipe
        /// Load the cached base model if there is one (and cache a new one).
        public var useCache: Bool
        /// Where the loss-curve SVG is written.
        public var outputDirectory: URL

        /// The book's run: the standard recipe, cached (a few minutes the first time, in release).
        public static let standard = Config(recipe: .standard, useCache: true,
                                            outputDirectory: URL(fileURLWithPath: "runs/chapter03"))
        /// A seconds-long run for the smoke test (not cached).
        public static let tiny = Config(recipe: .tiny, useCache: false,
                                        outputDirectory: FileManager.default.temporaryDirectory.appendingPathComponent("tinytune-chapter03"))
    }

    /// The chapter's numbers.
    public struct Report: Sendable {
        public var parameters: Int
        /// Validation loss (nats per character) of the random model and of the trained one.
        public var initialValidationLoss: Float, finalValidationLoss: Float
        /// Entropy of the validation text's character distribution: the no-context baseline.
        public var unigramBaseline: Double
        /// Fraction of the world's home towns the model completes correctly ("Ana lives in …").
        public var townRecall: Double
        public var samplesBefore: [String], samplesAfter: [String]
        /// The loss-curve SVG.
        public var lossCurve: URL
    }

    static let prompts = ["Ana lives in", "Q: What is the job of Ben?\nA: ", "One day"]

    /// Runs the chapter, printing through `output`.
    @discardableResult
    public static func run(_ config: Config, output: @escaping (String) -> Void = { print($0) }) throws -> Report {
        output("Chapter 3 — A tiny GPT and pretraining\n")
        let recipe = config.recipe
        let (world, _, validationTokens) = Pretraining.corpus(recipe)
        let validation = Pretraining.validationBatches(validationTokens, batchSize: recipe.batchSize,
                                                       contextLength: recipe.model.contextLength, count: 4)

        // 1. Before training: a random model.
        var rng = RNG(seed: recipe.seed)
        let untrained = GPT(config: recipe.model, rng: &rng)
        let tokenizer = CharTokenizer.builtIn
        let before = Trainer(model: untrained, optimizer: NoOptimizer(), options: TrainerOptions(steps: 0, learningRate: 0))
            .evaluate(validation)
        output("Model: \(recipe.model.flavour) flavour, \(recipe.model.layers) layers, width \(recipe.model.embeddingSize), "
               + "\(recipe.model.heads) heads, context \(recipe.model.contextLength), vocabulary \(recipe.model.vocabularySize) characters "
               + "— \(untrained.parameterCount()) parameters.")
        output(String(format: "Untrained validation loss: %.3f nats/char (uniform guessing: ln %d = %.3f).",
                      before, recipe.model.vocabularySize, Foundation.log(Double(recipe.model.vocabularySize))))
        let samplesBefore = samples(untrained, tokenizer: tokenizer)
        for (prompt, sample) in zip(prompts, samplesBefore) { output("  \(show(prompt))▸\(show(sample))") }

        // 2. Pretrain (or load the cached base model).
        output("\nPretraining for \(recipe.steps) steps of \(recipe.batchSize)×\(recipe.model.contextLength) characters…")
        let progress = ProgressReporter(label: "pretrain", every: max(recipe.steps / 10, 1), write: { output($0.trimmingCharacters(in: .newlines)) })
        let base = try Pretraining.base(recipe, cached: config.useCache, progress: progress)

        // 3. The loss curve, in the terminal and as an SVG file.
        let trainLoss = base.log.map { Double($0.loss) }
        output("\nTraining loss by step:")
        for line in Plots.terminalSketch(trainLoss) { output(line) }
        let validationPoints = base.log.compactMap { e in e.validationLoss.map { (x: Double(e.step), y: Double($0)) } }
        let svg = Plots.svg(title: "Pretraining the base model", series: [
            Plots.Series(label: "train loss", colour: "#1f77b4", points: base.log.map { (x: Double($0.step), y: Double($0.loss)) }),
            Plots.Series(label: "validation loss", colour: "#d62728", points: validationPoints),
            Plots.Series(label: "unigram baseline", colour: "#7f7f7f",
                         points: [(x: 1, y: base.unigramBaseline), (x: Double(recipe.steps), y: base.unigramBaseline)]),
        ], xLabel: "step", yLabel: "nats per character")
        try FileManager.default.createDirectory(at: config.outputDirectory, withIntermediateDirectories: true)
        let curve = config.outputDirectory.appendingPathComponent("pretraining-loss.svg")
        try Data(svg.utf8).write(to: curve, options: .atomic)
        output(String(format: "\nValidation loss %.3f nats/char vs unigram baseline %.3f: the model uses context. (curve: %@)",
                      base.validationLoss, base.unigramBaseline, curve.path))

        // 4. After training: samples and fact recall.
        let samplesAfter = samples(base.model, tokenizer: tokenizer)
        for (prompt, sample) in zip(prompts, samplesAfter) { output("  \(show(prompt))▸\(show(sample))") }
        let recall = townRecall(base.model, world: world, tokenizer: tokenizer)
        output(String(format: "\nFact recall: completes \"<name> lives in\" with the right town for %.0f%% of the %d people.",
                      recall * 100, world.people.count))
        return Report(parameters: base.model.parameterCount(), initialValidationLoss: before,
                      finalValidationLoss: base.validationLoss, unigramBaseline: base.unigramBaseline, townRecall: recall,
                      samplesBefore: samplesBefore, samplesAfter: samplesAfter, lossCurve: curve)
    }

    /// Greedy continuations of the chapter's prompts (up to a newline or 50 characters).
    static func samples(_ model: GPT, tokenizer: CharTokenizer) -> [String] {
        var rng = RNG(seed: 0)
        return prompts.map { prompt in
            tokenizer.decode(model.generate(prompt: tokenizer.encode(prompt), maxNewTokens: 50,
                                            stop: tokenizer.encode("\n").first, rng: &rng))
        }
    }

    /// Fraction of people whose town the model produces after "<name> lives in ".
    public static func townRecall(_ model: GPT, world: SyntheticWorld, tokenizer: CharTokenizer) -> Double {
        var rng = RNG(seed: 0)
        let correct = world.people.filter { person in
            let continuation = tokenizer.decode(model.generate(prompt: tokenizer.encode("\(person.name) lives in "),
                                                               maxNewTokens: 6, rng: &rng))
            return continuation.hasPrefix(person.town + ".")
        }.count
        return Double(correct) / Double(world.people.count)
    }

    static func show(_ text: String) -> String { text.replacingOccurrences(of: "\n", with: "⏎") }
}

/// An optimizer that never steps (used to evaluate a model through the Trainer).
final class NoOptimizer: Optimizer {
    let parameters: [(name: String, tensor: Tensor)] = []
    let stateValuesPerParameter = 0
    let stepCount = 0
    func step(learningRate: Float) {}
    func stateTensors() -> [(name: String, tensor: Tensor)] { [] }
    func loadState(_ tensors: [String: [Float]], stepCount: Int) throws {}
}
