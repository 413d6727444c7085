// Chapter09Serving.swift — Chapter 9: serving many adapters from one base model.
//
// The claims, measured:
// 1. One batch can mix requests for different adapters (and the plain base model); each row's output
//    equals running it alone with its adapter.
// 2. Swapping adapters moves kilobytes, not the model: an adapter is a few percent of the base's bytes.
// 3. For N tasks, one shared base + N adapters needs far less memory than N merged models.
// Leaves out: paging adapters between CPU and GPU memory, request scheduling.
import Foundation
import Autodiff
import NN
import Datasets
import Training
import PEFT
import Experiments

/// Chapter 9 — serving many adapters.
public enum Chapter09Serving {
    /// The experiment's knobs.
    public struct Config: Sendable {
        public var base: PretrainingRecipe
        public var useCache: Bool
        /// Training recipe for each task's adapter.
        public var recipe: SFTRecipe
        public var trainExamples: Int
        public var rank: Int
        /// The two tasks that get adapters (their prompts must fit the base model's context).
        public var tasks: [SFTTask]

        public static let standard = Config(base: .standard, useCache: true,
                                            recipe: SFTRecipe(steps: 500, batchSize: 32, learningRate: 1.5e-3),
                                            trainExamples: 3000, rank: 8, tasks: [.reverse, .record])
        public static let tiny = Config(base: .tiny, useCache: false, recipe: SFTRecipe(steps: 10, batchSize: 8, learningRate: 3e-3),
                                        trainExamples: 40, rank: 2, tasks: [.reverse, .arithmetic])
    }

    /// The chapter's numbers.
    public struct Report: Sendable {
        /// Largest |mixed-batch logit − separate-run logit| over the batch.
        public var mixedBatchDifference: Float
        /// The mixed batch's answers, with their expected responses.
        public var answers: [(adapter: String, expected: String, produced: String)]
        public var adapterBytes: Int, baseBytes: Int
    }

    /// Runs the chapter, printing through `output`.
    @discardableResult
    public static func run(_ config: Config, output: @escaping (String) -> Void = { print($0) }) throws -> Report {
        output("Chapter 9 — Serving many adapters\n")
        let setup = try ExperimentSetup.open(config.base, cached: config.useCache)
        let (base, tokenizer) = (setup.base, setup.tokenizer)
        let model = base.model.copy()
        // 1. One adapter per task, trained on the shared (frozen) base.
        for task in config.tasks {
            LoRA.add(task.rawValue, to: model, config: LoRAConfig(rank: config.rank, alpha: Float(2 * config.rank)), seed: 3)
            let train = task.examples(split: .train, count: config.trainExamples, seed: 1, world: base.world)
            _ = FineTuning.train(model, tokenizer: tokenizer, examples: train, recipe: config.recipe)
            output("trained adapter \"\(task.rawValue)\": \(LoRA.parameterCount(task.rawValue, in: model)) parameters")
        }

        // 2. A mixed batch: one request per adapter, and a question for the plain base model.
        let requests: [(adapter: String?, example: SFTExample)] = config.tasks.map {
            ($0.rawValue, $0.examples(split: .test, count: 1, seed: 5, world: base.world)[0])
        } + [(nil, SFTTask.facts.examples(split: .test, count: 1, seed: 5, world: base.world)[0])]
        let prompts = requests.map { tokenizer.encode($0.example.prompt) }
        let produced = MultiAdapterServing.generate(model, prompts: prompts, adapters: requests.map(\.adapter),
                                                    maxNewTokens: 48, stop: tokenizer.endOfText)
        output("\nOne batch, three requests, three different adapters:")
        var answers: [(String, String, String)] = []
        for (request, tokens) in zip(requests, produced) {
            let text = tokenizer.decode(tokens.filter { $0 != tokenizer.endOfText }).split(separator: "\n").first.map(String.init) ?? ""
            answers.append((request.adapter ?? "base", request.example.response, text))
            output("  [\((request.adapter ?? "base").padding(toLength: 7, withPad: " ", startingAt: 0))] "
                   + "\(request.example.prompt.replacingOccurrences(of: "\n", with: "⏎"))▸\(text)   (expected \(request.example.response))")
        }
        // Exactness: the mixed batch's logits against each row run alone.
        let length = prompts.map(\.count).max()!
        let ids = prompts.flatMap { ($0 + [Int](repeating: 0, count: length - $0.count)).map(Int32.init) }
        let mixed = MultiAdapterServing.logits(model, ids: ids, batch: prompts.count, steps: length, adapters: requests.map(\.adapter))
        var worst: Float = 0
        for (row, request) in requests.enumerated() {
            LoRA.setActive(request.adapter.map { [$0] } ?? [], on: model)
            let alone = Tensor.withNoGrad { model(prompts[row].map(Int32.init), batch: 1, steps: prompts[row].count) }
            let v = model.config.vocabularySize
            for i in 0..<(prompts[row].count * v) { worst = max(worst, abs(alone.data[i] - mixed.data[row * length * v + i])) }
        }
        output(String(format: "  mixed batch vs each row alone: max |logit difference| = %.2e\n", worst))

        // 3. What moves and what is stored.
        let adapterBytes = MultiAdapterServing.adapterBytes("reverse", in: model)
        let baseBytes = base.model.parameterCount() * 4
        output(String(format: "Swapping an adapter moves %d bytes (%.1f%% of the %d-byte base model).", adapterBytes,
                      100 * Double(adapterBytes) / Double(baseBytes), baseBytes))
        output("Memory for N task-specific models (fp32):")
        output("      N   N merged models   shared base + N adapters")
        for n in [1, 10, 100, 1000] {
            output(String(format: "  %5d   %12.1f MB   %14.1f MB", n, Double(n * baseBytes) / 1e6, Double(baseBytes + n * adapterBytes) / 1e6))
        }
        return Report(mixedBatchDifference: worst, answers: answers, adapterBytes: adapterBytes, baseBytes: baseBytes)
    }
}
