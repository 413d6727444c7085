// Chapter13Merging.swift — Chapter 13: merging by summing and pruning.
//
// The claim: two models fine-tuned from the same checkpoint on different tasks can be combined
// *without training* into one that does both. One accuracy matrix over task A, task B and their union,
// run twice:
//   1. from the raw pretrained base, which has neither skill — each fine-tune builds its skill from
//      scratch, the two task vectors are large and rewrite the same weights, and every merge fails;
//   2. from a shared "generalist" checkpoint (a brief multi-task fine-tune that has begun both skills)
//      — each full fine-tune sharpens one skill and forgets part of the other, and the merges get both back;
//   3. from the same generalist with gentle LoRA fine-tunes (half the steps at a low rate, merged into
//      dense models before merging), which move the weights less and forget less: the fair comparison,
//      since "the merge beats its parts" means little when the parts have forgotten the other task.
//      (`loraTargets` narrows the adapters, e.g. to the attention projections, for trying other recipes.)
// Every row also carries the corpus loss (general ability kept), next to the unigram baseline, and the
// multi-task model (trained on A ∪ B together) is the bar a merge is measured against. The closing
// sentences are computed from the numbers: they say which merge won, by how much, and when the result
// does not hold.
// The contrast is the lesson: merging is for fine-tunes that are small moves from a capable common
// ancestor, which is how it is used in practice (many fine-tunes of one instruct model).
// Leaves out: stacking and adapter concatenation (Chapter 14); per-task merge hyperparameter search.
import Foundation
import NN
import Datasets
import Training
import PEFT
import Experiments

/// Chapter 13 — merging.
public enum Chapter13Merging {
    public struct Config: Sendable {
        public var base: PretrainingRecipe
        public var useCache: Bool
        public var tasks: (SFTTask, SFTTask)
        /// Every fine-tune of the matrix (the multi-task row: twice the steps on both sets).
        public var recipe: SFTRecipe
        /// The multi-task fine-tune that makes the shared generalist checkpoint.
        public var generalistRecipe: SFTRecipe
        /// The LoRA fine-tunes of part 3: rank, and a gentle recipe (in the standard config half the
        /// full fine-tunes' steps at a lower rate), so that each keeps the skill it is not trained on.
        public var loraRank: Int
        public var loraRecipe: SFTRecipe
        /// The linear layers the part-3 adapters wrap (`LoRAConfig.targets` names: "all-linear", or
        /// suffixes such as "attn.query").
        public var loraTargets: [String] = ["all-linear"]
        public var trainExamples: Int, testExamples: Int
        /// Pretraining text mixed into every fine-tune (the generalist's too), Chapter 5's remedy for
        /// forgetting; nil trains on the tasks alone.
        public var replay: ReplayMix? = nil
        /// Which of the three parts to run (1 from the base, 2 full fine-tunes of the generalist, 3 LoRA
        /// fine-tunes of it); a part left out has an empty matrix in the result.
        public var parts: Set<Int> = [1, 2, 3]

        public static let standard = Config(base: .standard, useCache: true, tasks: (.reverse, .record),
                                            recipe: SFTRecipe(steps: 300, batchSize: 32, learningRate: 5e-4),
                                            generalistRecipe: SFTRecipe(steps: 250, batchSize: 32, learningRate: 5e-4),
                                            loraRank: 8, loraRecipe: SFTRecipe(steps: 150, batchSize: 32, learningRate: 3e-4),
                                            trainExamples: 3000, testExamples: 50)
        public static let tiny = Config(base: .tiny, useCache: false, tasks: (.reverse, .arithmetic),
                                        recipe: SFTRecipe(steps: 10, batchSize: 8, learningRate: 3e-3),
                                        generalistRecipe: SFTRecipe(steps: 10, batchSize: 8, learningRate: 3e-3),
                                        loraRank: 2, loraRecipe: SFTRecipe(steps: 10, batchSize: 8, learningRate: 3e-3),
                                        trainExamples: 40, testExamples: 4)

        /// This config with `mix` replayed in every fine-tune; the recipes become bucketed, so the short
        /// task rows are not padded to the replayed windows' length.
        public func replaying(_ mix: ReplayMix?) -> Config {
            var copy = self
            copy.replay = mix
            for keyPath in [\Config.recipe, \Config.generalistRecipe, \Config.loraRecipe] { copy[keyPath: keyPath].bucketed = mix != nil }
            return copy
        }
    }

    /// The three accuracy matrices.
    public struct Result: Sendable {
        /// Fine-tunes (and merges) starting from the raw pretrained base.
        public var fromBase: [MultiTaskRow]
        /// Full fine-tunes (and merges) starting from the shared generalist checkpoint.
        public var fromGeneralist: [MultiTaskRow]
        /// LoRA fine-tunes of the generalist (merged into dense models), and their merges.
        public var loraFromGeneralist: [MultiTaskRow]
        /// The unigram baseline of the corpus: a corpus loss above it means general ability is gone.
        public var unigramBaseline: Double
    }

    /// Runs the chapter, printing both matrices and the best merge of each through `output`.
    @discardableResult
    public static func run(_ config: Config, output: @escaping (String) -> Void = { print($0) }) throws -> Result {
        output("Chapter 13 — Merging by summing and pruning\n")
        let setup = try ExperimentSetup.open(config.base, cached: config.useCache)
        let (base, tokenizer) = (setup.base, setup.tokenizer)
        let data = MultiTaskExperiment.TaskData(tasks: config.tasks, world: base.world,
                                                trainExamples: config.trainExamples, testExamples: config.testExamples)
            .replaying(config.replay, corpus: config.base)
        output("Task A: \(config.tasks.0.rawValue); task B: \(config.tasks.1.rawValue). Every fine-tune: \(config.recipe.steps) steps, "
               + "lr \(config.recipe.learningRate) (multi-task: twice the steps on both sets), "
               + (config.replay.map { $0.description } ?? "the tasks alone, no replay") + ". Merges use the starting checkpoint as base.\n")

        let corpus = Pretraining.validationBatches(config.base, batchSize: 16, count: 4)
        let baseline = base.unigramBaseline
        output(String(format: "Corpus loss: the base's next-token loss on pretraining text (base %.3f; the unigram baseline, "
                      + "a model that knows only letter frequencies, %.3f).\n", base.model.meanLoss(on: corpus), baseline))

        // Part 1: the raw base knows neither task, so each fine-tune is a large, task-specific rewrite.
        var fromBase: [MultiTaskRow] = []
        if config.parts.contains(1) {
            output("1. Starting from the raw pretrained base")
            fromBase = try MultiTaskExperiment.run(start: base.model, tokenizer: tokenizer, data: data, recipe: config.recipe, corpus: corpus)
            printMatrix(fromBase, baseline: baseline, output: output)
        }

        // Part 2: a shared generalist that has begun both skills; the fine-tunes are now small moves from it.
        var (fromGeneralist, loraFromGeneralist): ([MultiTaskRow], [MultiTaskRow]) = ([], [])
        let generalist = config.parts.isDisjoint(with: [2, 3]) ? base.model
            : MultiTaskExperiment.generalist(base: base.model, tokenizer: tokenizer, data: data, recipe: config.generalistRecipe)
        if config.parts.contains(2) {
            output("\n2. Starting from a generalist: the base after \(config.generalistRecipe.steps) multi-task steps on A ∪ B")
            fromGeneralist = try MultiTaskExperiment.run(start: generalist, tokenizer: tokenizer, data: data, recipe: config.recipe,
                                                         corpus: corpus)
            printMatrix(fromGeneralist, baseline: baseline, output: output)
        }

        // Part 3: LoRA fine-tunes of the generalist. Each adapter is merged into its own dense copy, so
        // every model merge applies unchanged; the task vectors are now rank-r per layer.
        if config.parts.contains(3) {
            output("\n3. LoRA r=\(config.loraRank) (\(config.loraTargets.joined(separator: ", "))) fine-tunes of the generalist (\(config.generalistRecipe.steps) multi-task steps; "
                   + "\(config.loraRecipe.steps) steps, lr \(config.loraRecipe.learningRate)), each merged into a dense model, then merged")
            let lora = LoRAConfig(rank: config.loraRank, alpha: Float(2 * config.loraRank), targets: config.loraTargets)
            loraFromGeneralist = try MultiTaskExperiment.run(start: generalist, tokenizer: tokenizer, data: data, recipe: config.loraRecipe,
                                                             corpus: corpus, fineTune: { start, examples, recipe in
                let model = start.copy()
                try LoRA.add("task", to: model, config: lora, seed: 3)
                _ = FineTuning.train(model, tokenizer: tokenizer, examples: examples, recipe: recipe)
                try LoRA.mergeAndUnload("task", from: model)
                return model
            })
            printMatrix(loraFromGeneralist, baseline: baseline, output: output)
        }

        output("")
        for (label, rows) in [("From the raw base", fromBase), ("From the generalist (full fine-tunes)", fromGeneralist),
                              ("From the generalist (LoRA fine-tunes)", loraFromGeneralist)] where !rows.isEmpty {
            output("\(label): " + conclusion(rows))
        }
        return Result(fromBase: fromBase, fromGeneralist: fromGeneralist, loraFromGeneralist: loraFromGeneralist, unigramBaseline: baseline)
    }

    /// What one matrix shows, computed from its rows: did each single-task model keep the other skill,
    /// does the best merge beat the better single-task model on A ∪ B, and how it compares with
    /// multi-task training.
    static func conclusion(_ rows: [MultiTaskRow]) -> String {
        func find(_ setup: String) -> MultiTaskRow? { rows.first { $0.setup == setup } }
        guard let start = find("starting checkpoint"), let a = find("fine-tuned on A"), let b = find("fine-tuned on B"),
              let best = rows.filter(\.isMerge).max(by: { $0.accuracyUnion < $1.accuracyUnion }) else { return "(rows missing)" }
        func pct(_ x: Double) -> String { String(format: "%.0f%%", x * 100) }
        let bestSingle = a.accuracyUnion >= b.accuracyUnion ? a : b
        // "Forgot" = lost more than 10 points on the task it was not trained on.
        let aForgot = a.accuracyB < start.accuracyB - 0.1, bForgot = b.accuracyA < start.accuracyA - 0.1
        let forgetting = switch (aForgot, bForgot) {
        case (false, false): "neither single-task model forgot the other task (A model on B: \(pct(a.accuracyB)), B model on A: \(pct(b.accuracyA)); the start had \(pct(start.accuracyB)) and \(pct(start.accuracyA)))"
        case (true, true): "both single-task models forgot the other task (A model on B: \(pct(start.accuracyB)) → \(pct(a.accuracyB)), B model on A: \(pct(start.accuracyA)) → \(pct(b.accuracyA)))"
        case (true, false): "the A model forgot B (\(pct(start.accuracyB)) → \(pct(a.accuracyB))), the B model kept A (\(pct(b.accuracyA)))"
        case (false, true): "the B model forgot A (\(pct(start.accuracyA)) → \(pct(b.accuracyA))), the A model kept B (\(pct(a.accuracyB)))"
        }
        var verdict: String
        if best.accuracyUnion > bestSingle.accuracyUnion + 0.02 {
            verdict = "the best merge, \(best.setup), beats the better single-task model on A ∪ B (\(pct(best.accuracyUnion)) vs \(pct(bestSingle.accuracyUnion)))"
            verdict += aForgot || bForgot ? ", but partly because a single-task model forgot" : ", and those models did not forget: an honest win"
        } else if best.accuracyUnion >= bestSingle.accuracyUnion - 0.02 {
            verdict = "the best merge, \(best.setup), only ties the better single-task model on A ∪ B (\(pct(best.accuracyUnion)) vs \(pct(bestSingle.accuracyUnion)))"
        } else {
            verdict = "no merge reaches the better single-task model on A ∪ B (best \(best.setup) \(pct(best.accuracyUnion)) vs \(pct(bestSingle.accuracyUnion))): "
                + "here merging does not keep both skills"
        }
        if let multi = find("multi-task (A ∪ B together)") {
            verdict += multi.accuracyUnion > best.accuracyUnion
                ? "; multi-task training does better still (\(pct(multi.accuracyUnion)))"
                : "; it matches or beats multi-task training (\(pct(multi.accuracyUnion)))"
        }
        return forgetting + "; " + verdict + "."
    }

    /// One matrix, then its best merge against the better single-task model on A ∪ B.
    static func printMatrix(_ rows: [MultiTaskRow], baseline: Double, output: (String) -> Void) {
        output("setup                               task A    task B    A ∪ B   corpus loss")
        for r in rows {
            let corpus = r.corpusLoss.map { String(format: "%8.3f%@", $0, Double($0) > baseline ? " (above unigram)" : "") } ?? ""
            output(r.setup.padding(toLength: 34, withPad: " ", startingAt: 0)
                   + String(format: "  %6.0f%%   %6.0f%%   %6.0f%%   ", r.accuracyA * 100, r.accuracyB * 100, r.accuracyUnion * 100) + corpus)
        }
        let single = rows.filter { $0.setup.hasPrefix("fine-tuned on") }.map(\.accuracyUnion).max() ?? 0
        if let best = rows.filter(\.isMerge).max(by: { $0.accuracyUnion < $1.accuracyUnion }) {
            output(String(format: "Best merge: %@ with %.0f%% on A ∪ B, vs %.0f%% for the better single-task model.",
                          best.setup, best.accuracyUnion * 100, single * 100))
        }
    }
}
