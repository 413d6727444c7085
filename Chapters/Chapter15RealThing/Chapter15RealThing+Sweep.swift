// Chapter15RealThing+Sweep.swift — the learning-rate sweep behind the chapter's rates, and the one
// training trial both the sweep and the chapter's run are made of.
//
// Teaches: forgetting is a function of how far the weights moved, and the learning rate sets that
// distance. A fair forgetting comparison therefore needs each method at the *lowest* rate that learns
// the task, found on grids of the same resolution (here steps of 1.3–2× for both methods), and it
// helps to see the whole curve: for every rate, the validation score (did it learn?) next to the
// general-text perplexity (what did it cost?). `chapter15 --sweep` prints that curve; the default run
// then trains each method once, at the rate the sweep chose, and checks the rate still reaches the bar.
// Leaves out: several seeds per point, and the test set — the sweep sees validation cards only, so the
// test score of the default run stays an honest held-out figure.
import Foundation
import NN
import Datasets
import Training
import PEFT
import Quantization
import Experiments

extension Chapter15RealThing {
    /// How one method is set up: its table name, whether the base stays packed, and what it trains.
    struct MethodSetup {
        let method: Method
        let name: String
        let packed: Bool
        let prepare: (GPT) throws -> Void
    }

    /// The setup of `method` at the chapter's rank (α = 2r; adapters seeded 3 for every method).
    static func methodSetup(_ method: Method, config: Config) -> MethodSetup {
        let lora = LoRAConfig(rank: config.rank, alpha: Float(2 * config.rank), targets: config.loraTargets)
        let addLoRA: (GPT) throws -> Void = { _ = try LoRA.add("default", to: $0, config: lora, seed: 3) }
        // The adapted layers are named only when they are not every linear layer.
        let rank = "r=\(config.rank)" + (config.loraTargets == ["all-linear"] ? "" : " (\(config.loraTargets.joined(separator: ", ")))")
        switch method {
        case .lora: return MethodSetup(method: method, name: "LoRA \(rank), fp32 base", packed: false, prepare: addLoRA)
        case .qlora: return MethodSetup(method: method, name: "QLoRA \(rank), Q4_1 GGUF base (packed)", packed: true, prepare: addLoRA)
        case .nf4: return MethodSetup(method: method, name: "QLoRA \(rank), NF4 base", packed: false, prepare: {
            _ = try QLoRA.prepare($0, adapter: "default", config: QLoRAConfig(lora: lora), seed: 3)
        })
        case .full: return MethodSetup(method: method, name: "full fine-tuning", packed: false, prepare: { $0.setTrainable(true) })
        }
    }

    /// Trains one method at one rate on the shared recipe (same examples, order, steps and batch) and
    /// scores the result on the validation cards. Returns the run, that score and — for a packed base —
    /// the packed weights' bytes.
    static func trainTrial(_ setup: MethodSetup, rate: Float, real: RealModel, train: [SFTExample], validation: [SFTExample],
                           config: Config, output: (String) -> Void) throws -> (Experiment.Run, TaskScore, Int) {
        output("training: \(setup.name), lr \(rate)")
        var recipe = config.recipe
        recipe.learningRate = rate
        var packedBytes = 0
        let run = try Experiment.measure(setup.name, loading: { () throws -> GPT in
            guard setup.packed else { return try real.loadFP32() }
            let loaded = try real.loadPacked()
            packedBytes = loaded.packedBytes
            return loaded.model
        }, tokenizer: real.tokenizer, examples: train, validation: validation, recipe: recipe, template: real.template,
           progress: ProgressReporter(label: "  \(setup.name)", every: max(recipe.steps / 8, 1)), prepare: setup.prepare)
        let check = TaskEvaluator.score(run.model, tokenizer: real.tokenizer, examples: validation, check: .teacherForced,
                                        template: real.template)
        return (run, check, packedBytes)
    }

    /// The chapter's model: the GGUF file, or the synthetic stand-in written into `scratch`.
    static func openModel(_ model: Model, scratch: URL) throws -> RealModel { try model.open(scratch: scratch) }

    /// One point of the sweep: a method at a rate, what it learned and what it cost.
    public struct SweepPoint: Sendable {
        public var method: String
        public var learningRate: Float
        /// Exact match on the validation cards (the rule's measure) and its response loss.
        public var validation: TaskScore
        /// General-text perplexity after training (the base's is in the sweep's header).
        public var perplexity: Double
        /// ‖ΔW‖/‖W‖ over the linear layers (Chapter15RealThing+Distance.swift; nil for a packed base).
        public var weightDistance: Double?
        public var seconds: Double
    }

    /// The sweep (`chapter15 --sweep`): every rate of each method's grid (LoRA and full fine-tuning;
    /// QLoRA trains LoRA's adapters on the same weights and takes LoRA's rate), trained on the chapter's
    /// recipe, with validation exact match and general-text perplexity. Prints the curve, the rate the
    /// rule picks per method (the lowest reaching `validationTarget`), and the forgetting comparison at
    /// those rates — computed, so it says "contradicts the book" when the numbers do.
    @discardableResult
    public static func sweep(_ config: Config, output: @escaping (String) -> Void = { print($0) }) throws -> [SweepPoint] {
        let begin = Date()
        output("Chapter 15 — the learning-rate sweep behind the chapter's rates\n")
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("chapter15-sweep-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let real = try openModel(config.model, scratch: scratch)
        output(real.summary)
        let train = ContactExtraction.examples(.train, count: config.trainExamples, seed: 15).map(\.chatExample)
        let validation = ContactExtraction.examples(.validation, count: config.validationExamples, seed: 15).map(\.chatExample)
        let passages = Array(GeneralProbe.passages.prefix(config.passages))
        // One float copy of the base, for the perplexity it starts from and each point's distance from it.
        let base = try real.loadFP32()
        let basePerplexity = real.perplexity(base, passages: passages)
        output("Recipe: \(config.recipe.steps) steps × \(config.recipe.batchSize) chats; bar: \(percent(config.validationTarget)) exact on "
               + "\(validation.count) validation cards; base perplexity on \(passages.count) general passages "
               + String(format: "%.2f.\n", basePerplexity))
        var points: [SweepPoint] = []
        let methods = config.methods.filter { $0 == .lora || $0 == .full }
        for method in methods {
            let setup = methodSetup(method, config: config)
            for rate in (method == .full ? config.fullRates : config.loraRates).sorted() {
                let started = Date()
                let (run, check, _) = try trainTrial(setup, rate: rate, real: real, train: train, validation: validation,
                                                     config: config, output: output)
                let point = SweepPoint(method: setup.name, learningRate: rate, validation: check,
                                       perplexity: real.perplexity(run.model, passages: passages),
                                       weightDistance: try linearWeightDistance(run.model, base: base),
                                       seconds: Date().timeIntervalSince(started))
                points.append(point)
                output(String(format: "  → validation %.0f%% (loss %.4f), perplexity %.2f (%+.2f), distance %@, %.0f s\n",
                              100 * check.accuracy, check.loss, point.perplexity, point.perplexity - basePerplexity,
                              distanceText(point.weightDistance), point.seconds))
            }
        }
        printSweep(points, basePerplexity: basePerplexity, config: config, seconds: Date().timeIntervalSince(begin), output: output)
        return points
    }

    /// The rule applied to a method's sweep points: the lowest rate reaching the bar (nil: none did).
    static func chosenPoint(_ points: [SweepPoint], target: Double) -> SweepPoint? {
        points.sorted { $0.learningRate < $1.learningRate }.first { $0.validation.accuracy >= target }
    }

    /// The sweep's table, its computed conclusions and (with `config.json`) one JSON line per point.
    static func printSweep(_ points: [SweepPoint], basePerplexity: Double, config: Config, seconds: Double,
                           output: (String) -> Void) {
        output("method                            lr   validation   val. loss   perplexity   change   ‖ΔW‖/‖W‖")
        for point in points {
            output(point.method.padding(toLength: 28, withPad: " ", startingAt: 0)
                   + String(format: "%.0e", point.learningRate).leftPadded(8)
                   + String(format: "%.0f%% (n=%d)", 100 * point.validation.accuracy, point.validation.count).leftPadded(13)
                   + String(format: "%.4f", point.validation.loss).leftPadded(12)
                   + String(format: "%.2f", point.perplexity).leftPadded(13)
                   + String(format: "%+.2f", point.perplexity - basePerplexity).leftPadded(9)
                   + distanceText(point.weightDistance).leftPadded(11))
        }
        output("\nConclusions (computed from the sweep):")
        var chosen: [(String, SweepPoint)] = []
        for name in points.map(\.method).uniqued() {
            let own = points.filter { $0.method == name }.sorted { $0.learningRate < $1.learningRate }
            guard let pick = chosenPoint(own, target: config.validationTarget) else {
                output("  • \(name): no rate of the grid reaches \(percent(config.validationTarget)) — widen the grid upward.")
                continue
            }
            chosen.append((name, pick))
            let atEdge = pick.learningRate == own.first?.learningRate
            output("  • \(name): the lowest rate reaching \(percent(config.validationTarget)) is "
                   + String(format: "%.0e (perplexity %+.2f)", pick.learningRate, pick.perplexity - basePerplexity)
                   + (atEdge ? " — the grid's lowest point: a lower rate might also reach the bar." : "."))
            // Does forgetting grow with the rate? Counted over consecutive points, not assumed.
            let rises = zip(own, own.dropFirst()).filter { $1.perplexity > $0.perplexity }.count
            if own.count > 1 {
                output("    Perplexity rises with the rate at \(rises) of \(own.count - 1) steps up the grid.")
            }
        }
        let lora = chosen.first { $0.0.hasPrefix("LoRA") }?.1, full = chosen.first { $0.0.hasPrefix("full") }?.1
        if let lora, let full {
            let (l, f) = (lora.perplexity - basePerplexity, full.perplexity - basePerplexity)
            output(String(format: "  • At the rates the rule picks, perplexity changes by %+.2f with LoRA and %+.2f with full fine-tuning: ", l, f)
                   + (l < f ? "LoRA forgets less, as the book says." : "LoRA does not forget less here: contradicts the book.")
                   + forgettingScale(l, f, base: basePerplexity))
        }
        output(String(format: "\nThe sweep took %.0f s (%.1f min).", seconds, seconds / 60))
        guard config.json else { return }
        for point in points {
            var object: [String: Any] = ["chapter": 15, "sweep": true, "model": point.method, "learning_rate": Double(point.learningRate),
                                         "validation_exact_match": point.validation.accuracy, "validation_loss": Double(point.validation.loss),
                                         "validation_examples": point.validation.count, "perplexity": point.perplexity,
                                         "perplexity_base": basePerplexity, "seconds": point.seconds]
            if let distance = point.weightDistance { object["linear_weight_distance"] = distance }
            output(jsonLine(object))
        }
    }
}

extension Array where Element: Hashable {
    /// The elements in order, each kept at its first occurrence.
    func uniqued() -> [Element] {
        var seen = Set<Element>()
        return filter { seen.insert($0).inserted }
    }
}
