// Chapter05FineTuning.swift — Chapter 5: fine-tuning — when, why, and at what cost.
//
// The claims, measured on our base model:
// 1. Supervised fine-tuning teaches a task the base model cannot do (accuracy from ~0 to high) —
//    it is pretraining continued, on formatted examples, with a smaller learning rate.
// 2. It costs something: the model forgets. Full fine-tuning forgets more than partial fine-tuning.
// 3. It is the right tool for *form* (a format, a skill, a style) and the wrong one for *facts that
//    change*: retrieval answers those without retraining.
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

        /// The book's run (fine-tunes the cached standard base model).
        public static let standard = Config(
            base: .standard, useCache: true,
            recipe: SFTRecipe(steps: 400, batchSize: 32, learningRate: 5e-4),
            trainExamples: 3000, testExamples: 100,
            retrieval: FineTuneVsRetrievalConfig(recipe: SFTRecipe(steps: 400, batchSize: 32, learningRate: 2e-3),
                                                 formTrain: 3000, formTest: 50, contextWorlds: 12, movedFraction: 0.4, seed: 5))
        /// Seconds-long smoke configuration.
        public static let tiny = Config(
            base: .tiny, useCache: false,
            recipe: SFTRecipe(steps: 30, batchSize: 8, learningRate: 3e-3),
            trainExamples: 100, testExamples: 10,
            retrieval: FineTuneVsRetrievalConfig(recipe: SFTRecipe(steps: 10, batchSize: 8, learningRate: 3e-3),
                                                 formTrain: 40, formTest: 5, contextWorlds: 2, movedFraction: 0.4, seed: 5))
    }

    /// The chapter's numbers.
    public struct Report: Sendable {
        public var taskBefore: TaskScore, taskAfter: TaskScore
        public var forgetting: [ForgettingReport]
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
            output("  \(setup) " + String(format: "%9d   %8.3f → %-8.3f (%+.3f)   %9.0f%% → %-5.0f%%          %5.0f%%",
                                                  r.trainableParameters, r.corpusLossBefore, r.corpusLossAfter, r.corpusForgetting,
                                                  r.taskABefore.accuracy * 100, r.taskAAfter.accuracy * 100, r.taskBAfter.accuracy * 100))
        }
        output("Freezing the early blocks protects what they store; the price is some task-B accuracy.\n")

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
          a new output format or skill           yes         no         form lives in the weights (\(pct(rag.formFineTuned)) vs \(pct(rag.formBase)))
          facts that change after training       no          yes        retrieval reads today's document (\(pct(rag.movedWithRetrieval)) vs stale \(pct(rag.movedClosedBook)))
          new facts, rarely changing             maybe       yes        fine-tuning learns the facts it sees (\(pct(rag.movedAfterFineTuning))), once per change
          keep general ability intact            partial     yes        full fine-tuning forgets most (see the table above)
        """)
        return Report(taskBefore: before, taskAfter: after, forgetting: report, retrieval: rag)
    }
}
