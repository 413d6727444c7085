// Chapter05FineTuning.swift — Chapter 5: fine-tuning — when, why, and at what cost.
//
// The claims, measured on our base model:
// 1. Supervised fine-tuning teaches a task the base model cannot do (accuracy from ~0 to high) —
//    it is pretraining continued, on formatted examples, with a smaller learning rate.
// 2. It costs something: the model forgets. Full fine-tuning forgets more than partial fine-tuning,
//    and the recipe decides how much: a gentler rate, early stopping on general text and replay keep
//    the base (Chapter05FineTuning+Control.swift).
// 3. It is the right tool for *form* (a format, a skill, a style) and the wrong one for *facts that
//    change*: retrieval answers those without retraining.
// The sentences about the results are computed from them (and say so when they contradict the claims).
// Leaves out: PEFT (Chapters 7–9), which changes the cost side of this trade.
import Foundation
import Autodiff
import NN
import Tokenizers
import Datasets
import Training
import FullFineTuning
import Experiments

/// Chapter 5 — fine-tuning overview, forgetting, fine-tuning vs retrieval.
public enum Chapter05FineTuning {
    /// The experiment's knobs.
    public struct Config: Sendable {
        public var base: PretrainingRecipe
        /// Load/cache the base model (standard) or train it in place (tiny).
        public var useCache: Bool
        public var recipe: SFTRecipe
        public var trainExamples: Int, testExamples: Int
        public var retrieval: FineTuneVsRetrievalConfig
        public var control: ControlConfig

        /// The book's run (fine-tunes the cached standard base model).
        public static let standard = Config(
            base: .standard, useCache: true,
            recipe: SFTRecipe(steps: 400, batchSize: 32, learningRate: 5e-4),
            trainExamples: 3000, testExamples: 100,
            retrieval: FineTuneVsRetrievalConfig(recipe: SFTRecipe(steps: 400, batchSize: 32, learningRate: 2e-3),
                                                 formTrain: 3000, formTest: 50, contextWorlds: 12, movedFraction: 0.4, seed: 5),
            control: ControlConfig(gentleLearningRate: 1e-4, evaluateEvery: 25, patience: 2, validationExamples: 100,
                                   generalValidationExamples: 100, replayShare: 0.25, replayCharacters: 32))
        /// Seconds-long smoke configuration.
        public static let tiny = Config(
            base: .tiny, useCache: false,
            recipe: SFTRecipe(steps: 30, batchSize: 8, learningRate: 3e-3),
            trainExamples: 100, testExamples: 10,
            retrieval: FineTuneVsRetrievalConfig(recipe: SFTRecipe(steps: 10, batchSize: 8, learningRate: 3e-3),
                                                 formTrain: 40, formTest: 5, contextWorlds: 2, movedFraction: 0.4, seed: 5),
            control: ControlConfig(gentleLearningRate: 1e-3, evaluateEvery: 5, patience: 2, validationExamples: 8,
                                   generalValidationExamples: 8, replayShare: 0.25, replayCharacters: 24))
    }

    /// The chapter's numbers.
    public struct Report: Sendable {
        public var taskBefore: TaskScore, taskAfter: TaskScore
        public var forgetting: [ForgettingReport]
        /// The recipes of "forgetting under control", the chapter's first.
        public var control: [ControlRow]
        public var retrieval: FineTuneVsRetrievalReport
    }

    /// Runs the chapter, printing through `output`.
    @discardableResult
    public static func run(_ config: Config, output: @escaping (String) -> Void = { print($0) }) throws -> Report {
        output("Chapter 5 — Fine-tuning: when and why\n")
        let setup = try ExperimentSetup.open(config.base, cached: config.useCache, trainExamples: config.trainExamples,
                                             testExamples: config.testExamples)
        let (base, tokenizer, train, test) = (setup.base, setup.tokenizer, setup.train, setup.test)
        let corpus = Pretraining.validationBatches(config.base, batchSize: 8, count: 2)

        // 1. SFT teaches a new task: reverse a word.
        let taskA = SFTTask.facts.examples(split: .test, count: config.testExamples, seed: 3, world: base.world)
        output("Task B — reverse a word (\"reverse: lamo\" → \"omal\"), \(train.count) training examples, "
               + "\(config.recipe.steps) steps, lr \(config.recipe.learningRate), prompt tokens weigh 0.")
        let report = Forgetting.measure(base: base.model, tokenizer: tokenizer, corpus: corpus, taskA: taskA,
                                        taskBTrain: train, taskBTest: test, recipe: config.recipe,
                                        rules: [.none, .lastBlocks(2, trainEmbeddings: false), .lastBlocks(1, trainEmbeddings: false)])
        let before = report[0].taskBBefore, after = report[0].taskBAfter
        output("  base model:       \(before)")
        output("  after full SFT:   \(after)\n")

        // 2. Forgetting: corpus loss and task A (world facts, never trained on here).
        output("Forgetting — what fine-tuning on task B did to the pretraining corpus and to task A (world facts):")
        output("  setup                 trainable   corpus loss before → after   task A acc before → after   task B acc")
        for r in report {
            let setup = r.setup.padding(toLength: 21, withPad: " ", startingAt: 0)
            output("  \(setup) " + String(format: "%9d   %8.3f → %-8.3f (%+.3f)   %9.0f%% → ",
                                                  r.trainableParameters, r.corpusLossBefore, r.corpusLossAfter, r.corpusForgetting,
                                                  r.taskABefore.accuracy * 100)
                   // The percent sign stays next to its number: pad the whole "4%" cell, not the number alone.
                   + String(format: "%.0f%%", r.taskAAfter.accuracy * 100).padding(toLength: 16, withPad: " ", startingAt: 0)
                   + String(format: "%5.0f%%", r.taskBAfter.accuracy * 100))
        }
        output(freezingVerdict(report) + "\n")
        let control = forgettingUnderControl(setup, config: config, chapterRecipe: report[0], taskA: taskA, corpus: corpus, output: output)

        // 3. Fine-tuning vs retrieval.
        output("Fine-tuning vs retrieval (40% of the world's people move to another town after training):")
        let rag = FineTuneVsRetrieval.run(base: base.model, tokenizer: tokenizer, world: base.world, config: config.retrieval)
        func pct(_ x: Double) -> String { String(format: "%3.0f%%", x * 100) }
        output("  record format (JSON output):      base \(pct(rag.formBase)) → fine-tuned \(pct(rag.formFineTuned))")
        output("  towns of people who moved:        closed-book \(pct(rag.movedClosedBook)), with retrieval \(pct(rag.movedWithRetrieval)), "
               + "fine-tuned on the new facts \(pct(rag.movedAfterFineTuning))")
        output("  towns of people who stayed:       closed-book \(pct(rag.stayedClosedBook)), with retrieval \(pct(rag.stayedWithRetrieval)), "
               + "fine-tuned on the new facts \(pct(rag.stayedAfterFineTuning))")
        output("  BM25 put the right sentence first for \(pct(rag.retrievalHitRate)) of the questions.\n")
        output("""
        Decision table
          need                                   fine-tune   retrieve   why
          a new output format or skill           \(rag.formFineTuned > rag.formBase + 0.2 ? "yes         no " : "NOT HERE    no ")        form lives in the weights (\(pct(rag.formFineTuned)) vs \(pct(rag.formBase)))
          facts that change after training       no          \(rag.movedWithRetrieval > rag.movedClosedBook + 0.2 ? "yes" : "NOT HERE")        retrieval reads today's document (\(pct(rag.movedWithRetrieval)) vs stale \(pct(rag.movedClosedBook)))
          new facts, rarely changing             maybe       yes        fine-tuning learns the facts it sees (\(pct(rag.movedAfterFineTuning))), once per change
          keep general ability intact            \(keepVerdict(control, baseline: base.unigramBaseline))
        """)
        return Report(taskBefore: before, taskAfter: after, forgetting: report, control: control, retrieval: rag)
    }

    /// What the freeze rows show, computed: does freezing early blocks forget less, and at what task cost?
    static func freezingVerdict(_ rows: [ForgettingReport]) -> String {
        guard let full = rows.first, rows.count > 1 else { return "" }
        let partial = rows.dropFirst()
        let lessForgetting = partial.filter { $0.corpusForgetting < full.corpusForgetting }
        let lowerTask = partial.filter { $0.taskBAfter.accuracy < full.taskBAfter.accuracy }
        let forgetting = lessForgetting.count == partial.count
            ? "Freezing the early blocks forgot less in every row (corpus loss \(signed(full.corpusForgetting)) for full vs "
              + partial.map { signed($0.corpusForgetting) }.joined(separator: ", ") + ")"
            : "Freezing did NOT always forget less: " + partial.filter { $0.corpusForgetting >= full.corpusForgetting }.map(\.setup).joined(separator: ", ")
              + " forgot as much as full fine-tuning or more"
        let cost = lowerTask.isEmpty ? "and cost no task-B accuracy" : "and cost task-B accuracy in " + lowerTask.map(\.setup).joined(separator: ", ")
        return forgetting + ", " + cost + "."
    }

    /// The decision table's last row, from the control recipes: can fine-tuning keep general ability?
    static func keepVerdict(_ rows: [ControlRow], baseline: Double) -> String {
        guard let first = rows.first else { return "" }
        if let kept = rows.first(where: { Double($0.corpusLoss) <= baseline && $0.taskB.accuracy >= 0.9 * first.taskB.accuracy }) {
            return "with care   yes        \"\(kept.recipe)\" kept the corpus loss at \(fmt(kept.corpusLoss)) (unigram \(String(format: "%.3f", baseline)))"
        }
        return "no          yes        no recipe above kept the corpus loss below the unigram baseline"
    }

    static func fmt(_ x: Float) -> String { String(format: "%.3f", x) }
    static func signed(_ x: Float) -> String { String(format: "%+.3f", x) }
}
