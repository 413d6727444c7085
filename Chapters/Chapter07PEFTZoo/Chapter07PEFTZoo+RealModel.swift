// Chapter07PEFTZoo+RealModel.swift — the same zoo on a real pretrained model, SmolLM2-135M-Instruct.
//
// Teaches: whether a method "works" depends on what the base already knows. Soft prompts, prefixes and
// bias-only tuning train no new computation: they can only steer features the base already has. Our
// 0.8M-parameter character model was trained from scratch on one small corpus, so it has little to
// steer; a 135M model pretrained on trillions of tokens has a great deal. So the zoo is run again, when
// the model is in models/, on chapter 15's contact-card task (sentence → one-line JSON), every method at
// the same short budget (chapter 15's recipe: the same chats in the same order, loss on the answer only)
// and at its own learning rate, chosen on the validation cards. Then, method by method, the gap to full
// fine-tuning on the pretrained base is set next to the gap on the toy base — the measured reason a
// method trails on the toy, or the measurement that it trails anyway. The sentences are computed.
// BitFit on SmolLM2: Llama layers have no biases, so BitFit first gives each block linear a zero bias
// (PEFTZoo.addZeroBiasesIfAbsent) — the model still starts as the base.
// Leaves out: more than one seed, longer budgets, the rank / prefix-length knobs, the memory table
// (chapter 15 measures memory on this model).
import Foundation
import Datasets
import Training
import PEFT
import Experiments

extension Chapter07PEFTZoo {
    /// The zoo on the real model: its data, budget and each method's learning rates.
    public struct RealModelZoo: Sendable {
        public var source: RealModel.Source
        /// Contact cards (seed 15, chapter 15's split): training, validation (choosing rates), test.
        public var trainExamples: Int, validationExamples: Int, testExamples: Int
        /// The shared recipe; each run replaces its learning rate.
        public var recipe: SFTRecipe
        public var fullLearningRates: [Float]
        public var methods: [(method: PEFTMethod, learningRates: [Float])]

        /// Chapter 15's recipe (30 steps × 4 chats, bucketed), 40 validation and 40 test cards. Full fine-
        /// tuning and LoRA at the rates chapter 15's own sweep chose (1e-5, 4e-4: the lowest reaching 90% of its
        /// validation cards); every other method sweeps three rates 3× apart, from its paper's rate upward,
        /// because 30 steps is a short budget (papers train for epochs) — and prefix and prompt tuning a fourth
        /// below (two for prompt tuning), added after the first run chose their lowest rate (1e-3 and 0.03: the edge).
        public static let standard = RealModelZoo(
            source: .gguf(RealModel.defaultPath), trainExamples: 400, validationExamples: 40, testExamples: 40,
            recipe: SFTRecipe(steps: 30, batchSize: 4, seed: 15, bucketed: true), fullLearningRates: [1e-5],
            methods: [(.lora(LoRAConfig(rank: 8, alpha: 16)), [4e-4]),
                      (.houlsby(bottleneck: 16), [1e-3, 3e-3, 1e-2]),
                      (.ia3, [3e-3, 1e-2, 3e-2]),
                      (.bitFit, [1e-3, 3e-3, 1e-2]),
                      (.prefixTuning(tokens: 8), [3e-4, 1e-3, 3e-3, 1e-2]),
                      (.promptTuning(tokens: 8), [3e-3, 1e-2, 3e-2, 0.1, 0.3])])
        /// Seconds, on the synthetic stand-in (tests): every method, one rate, two steps.
        public static let tiny = RealModelZoo(
            source: .synthetic, trainExamples: 8, validationExamples: 2, testExamples: 3,
            recipe: SFTRecipe(steps: 2, batchSize: 2, seed: 15, bucketed: true), fullLearningRates: [1e-3],
            methods: [(.lora(LoRAConfig(rank: 2)), [2e-3]), (.houlsby(bottleneck: 4), [3e-3]), (.ia3, [1e-2]), (.bitFit, [1e-2]),
                      (.prefixTuning(tokens: 2), [1e-2]), (.promptTuning(tokens: 2), [0.1])])
    }

    /// What the real-model zoo measured.
    public struct RealModelReport: Sendable {
        public var modelSummary: String
        /// Full fine-tuning first, then the methods, each at its chosen rate.
        public var rows: [Row]
        /// Method by method: the gap to full fine-tuning (points, 0…1) on the toy base and on the real one.
        public var gaps: [(method: String, toy: Double, real: Double)]
        public var conclusions: [String]
        public var seconds: Double
    }

    /// Runs the zoo on the real model, comparing with the toy base's rows when given. Returns nil (after one
    /// line saying how to fetch it) when the model file is absent.
    @discardableResult
    public static func runRealModel(_ zoo: RealModelZoo, toyRows: [Row]?, output: (String) -> Void) throws -> RealModelReport? {
        let begin = Date()
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("chapter07-real-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let real: RealModel
        do { real = try zoo.source.open(scratch: scratch) } catch let missing as RealModel.Missing {
            output("\nThe real model is not here, so the zoo on it is skipped: \(missing)")
            return nil
        }
        output("\nThe zoo on a real pretrained model — \(real.summary)")
        let cards = { (part: ContactExtraction.Part, count: Int) in
            ContactExtraction.examples(part, count: count, seed: 15).map(\.chatExample)
        }
        let (train, validation, test) = (cards(.train, zoo.trainExamples), cards(.validation, zoo.validationExamples),
                                         cards(.test, zoo.testExamples))
        let budget = zoo.recipe.steps * zoo.recipe.batchSize * zoo.recipe.gradientAccumulation
        output("Task: chapter 15's contact cards (sentence → one-line JSON), exact match, teacher-forced. Budget for every run: "
               + "\(zoo.recipe.steps) steps × \(zoo.recipe.batchSize) chats = \(budget) chats, loss on the answer only. Rates chosen on "
               + "\(validation.count) validation cards; the table reports \(test.count) test cards.\n")
        // Full fine-tuning is the reference row (left out only when it has no rate: `chapter07 --only`).
        let setups: [(String, PEFTMethod?, [Float])] = (zoo.fullLearningRates.isEmpty ? [] : [("full fine-tuning", nil, zoo.fullLearningRates)])
            + zoo.methods.map { ($0.method.description, $0.method, $0.learningRates) }
        let rows = try sweep(setups, output: output) { label, method, rate in
            var recipe = zoo.recipe
            recipe.learningRate = rate
            return try Experiment.measure(label, loading: { try real.loadFP32() }, tokenizer: real.tokenizer, examples: train,
                                          recipe: recipe, template: real.template, tests: [validation, test], check: .teacherForced,
                                          progress: ProgressReporter(label: "  \(label), lr \(formatRate(rate))",
                                                                     every: max(recipe.steps / 6, 1))) { model in
                if let method { try PEFTZoo.apply(method, to: model, seed: 3) } else { model.setTrainable(true) }
            }
        }
        printTable(rows, output: output)
        let gaps = toyRows.map { realModelGaps(toy: $0, real: rows) } ?? []
        var conclusions = zoo.fullLearningRates.isEmpty ? [] : Self.conclusions(rows, trend: []).map { "On SmolLM2-135M: " + $0 }
        conclusions += gapConclusions(gaps)
        output("")
        conclusions.forEach(output)
        let seconds = Date().timeIntervalSince(begin)
        output(String(format: "(the zoo on the real model ran in %.1f min)", seconds / 60))
        return RealModelReport(modelSummary: real.summary, rows: rows, gaps: gaps, conclusions: conclusions, seconds: seconds)
    }

    /// For each method on both bases (matched by method, size knobs aside): its gap to full fine-tuning
    /// on each, in points of test accuracy (0…1).
    static func realModelGaps(toy: [Row], real: [Row]) -> [(method: String, toy: Double, real: Double)] {
        guard let toyFull = toy.first, let realFull = real.first else { return [] }
        return real.dropFirst().compactMap { row in
            guard let kind = row.peft?.kind, let match = toy.dropFirst().first(where: { $0.peft?.kind == kind }) else { return nil }
            return (row.method, toyFull.score.accuracy - match.score.accuracy, realFull.score.accuracy - row.score.accuracy)
        }
    }

    /// One sentence per method: does its gap to full fine-tuning shrink on the pretrained base?
    static func gapConclusions(_ gaps: [(method: String, toy: Double, real: Double)]) -> [String] {
        gaps.map { gap in
            let verdict = gap.real < gap.toy - 0.05
                ? (gap.real <= 0.2 ? "on the pretrained base it is within 20 points: the method works where there are pretrained features to steer"
                                   : "it narrows on the pretrained base but stays above 20 points")
                : gap.real > gap.toy + 0.05 ? "it is wider on the pretrained base: the toy's gap is not explained by the base being untrained"
                : "about the same on both bases: pretraining does not explain this gap"
            return String(format: "%@: %.0f points behind full fine-tuning on the toy base, %.0f on SmolLM2-135M — %@.",
                          gap.method, gap.toy * 100, gap.real * 100, verdict)
        }
    }
}

extension PEFTMethod {
    /// The method without its size knob (LoRA at any rank is LoRA), to match rows across bases:
    /// "LoRA", "BitFit", "IA3", "Houlsby", "prompt", "prefix".
    public var kind: String { description.split(separator: " ").first.map(String.init) ?? description }
}
