// PretrainCommand.swift — `tinytune pretrain`: train (or load) the built-in base model and show it.
import Foundation
import CommandLineOptions
import Kernels
import Training
import NN
import Autodiff

enum PretrainCommand {
    static let command = Command(
        name: "pretrain", summary: "train the built-in base model on the synthetic corpus (cached)",
        help: """
        Usage: tinytune pretrain [--steps N] [--cache DIR] [--force] [--tiny]

        Trains the built-in base GPT on the synthetic corpus and caches it (config.json, model.safetensors,
        tokenizer.json, loss.csv) under the cache folder, so later commands and chapters reuse it.

          --steps N     optimizer steps (default: the standard recipe's 800)
          --cache DIR   cache folder (default: $TINYTUNE_CACHE or ./.tinytune-cache)
          --force       retrain even if a cached model exists
          --tiny        use the seconds-long tiny recipe (for trying things out)
        """,
        run: run)

    static func run(_ arguments: [String]) throws {
        let options = try Options(arguments, valued: ["steps", "cache"], switches: ["force", "tiny"])
        var recipe = options.flag("tiny") ? PretrainingRecipe.tiny : PretrainingRecipe.standard
        recipe.steps = try options.int("steps", default: recipe.steps, in: 1...1_000_000)
        let cache = options.string("cache").map { URL(fileURLWithPath: $0) } ?? Pretraining.defaultCache
        let folder = Pretraining.folder(for: recipe, cache: cache)
        if options.flag("force") { try? FileManager.default.removeItem(at: folder) }
        let start = Date()
        let base = try Pretraining.loadOrTrain(recipe, cache: cache, progress: ProgressReporter(label: "pretrain", every: 50))
        print(String(format: "base model: %d parameters, validation loss %.3f nats/char (unigram baseline %.3f) — %.0f s",
                     base.model.parameterCount(), base.validationLoss, base.unigramBaseline, Date().timeIntervalSince(start)))
        print("cached in \(folder.path)")
        var rng = RNG(seed: 7)
        for prompt in ["Ana lives in", "Q: What is the job of Ben?\nA:", "Three plus four is"] {
            let ids = base.tokenizer.encode(prompt)
            let continuation = base.model.generate(prompt: ids, maxNewTokens: 60, stop: base.tokenizer.encode("\n").first, rng: &rng)
            print("  \(prompt.replacingOccurrences(of: "\n", with: "⏎"))▸\(base.tokenizer.decode(continuation).replacingOccurrences(of: "\n", with: "⏎"))")
        }
    }
}
