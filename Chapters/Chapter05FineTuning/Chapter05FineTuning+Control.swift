// Chapter05FineTuning+Control.swift — forgetting under control: recipes that learn the task and keep the base.
//
// Teaches: how much a fine-tune forgets is mostly a property of the recipe. The same full fine-tune
// is run under four recipes, each changing one thing from the one before:
//   1. the chapter's recipe (section 2's first row);
//   2. a gentler learning rate (the same steps);
//   3. plus early stopping on a validation set that mixes held-out task examples with general text, so
//      a run stops when it starts paying for the task with what the base knew;
//   4. plus replay: a share of pretraining text mixed into every batch (Experiments/Replay.swift);
//   5. replay alone, at the chapter recipe's learning rate — so replay is measured without the gentle
//      rate, which on its own (row 2) trades most of the task score for the corpus.
// Each row: task B accuracy, steps actually run, corpus loss (with the unigram baseline: a model that
// knows only letter frequencies), and task A (world facts). The verdict is computed: the first recipe
// that keeps at least 90% of the chapter recipe's task score with a corpus loss below the unigram
// baseline is named as the one to use, and if none does, the chapter says so.
// Leaves out: LoRA's forgetting (Chapters 8 and 12 put it next to full fine-tuning), regularisers.
import Foundation
import NN
import Tokenizers
import Datasets
import Training
import Experiments

extension Chapter05FineTuning {
    /// The knobs of the forgetting-under-control section.
    public struct ControlConfig: Sendable {
        public var gentleLearningRate: Float
        /// Validate every this many steps; stop after `patience` validations without improvement.
        public var evaluateEvery: Int, patience: Int
        /// Held-out task examples and general-text windows in the validation set.
        public var validationExamples: Int, generalValidationExamples: Int
        /// Share of replayed pretraining windows in the training examples, and their length.
        public var replayShare: Double, replayCharacters: Int
    }

    /// One recipe's outcome.
    public struct ControlRow: Sendable {
        public var recipe: String
        public var stepsRun: Int
        public var taskB: TaskScore, taskA: TaskScore
        public var corpusLoss: Float
    }

    /// Runs recipes 2–5 (recipe 1 is `chapterRecipe`, already measured) and prints all five with the verdict.
    static func forgettingUnderControl(_ setup: ExperimentSetup, config: Config, chapterRecipe: ForgettingReport,
                                       taskA: [SFTExample], corpus: [Batch], output: (String) -> Void) -> [ControlRow] {
        let control = config.control
        let (base, tokenizer) = (setup.base, setup.tokenizer)
        // Validation: task examples drawn after the training ones (same split, disjoint), plus general text.
        let taskValidation = Array(setup.task.examples(split: .train, count: config.trainExamples + control.validationExamples,
                                                            seed: 1, world: base.world).suffix(control.validationExamples))
        let general = Replay.examples(config.base, count: control.generalValidationExamples, characters: control.replayCharacters, seed: 11)
        let validation = taskValidation + general
        let replayed = ReplayMix(share: control.replayShare, characters: control.replayCharacters).apply(to: setup.train, corpus: config.base)
        var gentle = config.recipe
        gentle.learningRate = control.gentleLearningRate
        var stopping = gentle
        stopping.evaluateEvery = control.evaluateEvery
        stopping.patience = control.patience
        let recipes: [(String, SFTRecipe, [SFTExample], [SFTExample])] = [
            ("lr \(control.gentleLearningRate)", gentle, setup.train, []),
            ("+ early stopping", stopping, setup.train, validation),
            (String(format: "+ %.0f%% replay", control.replayShare * 100), stopping, replayed, validation),
            (String(format: "%.0f%% replay alone (lr %g)", control.replayShare * 100, config.recipe.learningRate), config.recipe, replayed, []),
        ]
        var rows = [ControlRow(recipe: "chapter recipe (lr \(config.recipe.learningRate))", stepsRun: config.recipe.steps,
                               taskB: chapterRecipe.taskBAfter, taskA: chapterRecipe.taskAAfter, corpusLoss: chapterRecipe.corpusLossAfter)]
        for (label, recipe, examples, validation) in recipes {
            let tuned = FineTuning.run(base: base.model, tokenizer: tokenizer, examples: examples, validation: validation, recipe: recipe)
            rows.append(ControlRow(recipe: label, stepsRun: tuned.log.count,
                                   taskB: TaskEvaluator.score(tuned.model, tokenizer: tokenizer, examples: setup.test),
                                   taskA: TaskEvaluator.score(tuned.model, tokenizer: tokenizer, examples: taskA),
                                   corpusLoss: tuned.model.meanLoss(on: corpus)))
        }
        output(String(format: "Forgetting under control — full fine-tuning on task B, one change per row (base corpus loss %.3f; unigram "
                      + "baseline %.3f):", chapterRecipe.corpusLossBefore, base.unigramBaseline))
        output("  recipe                          steps   task B acc   corpus loss   task A acc")
        for row in rows {
            output("  " + row.recipe.padding(toLength: 30, withPad: " ", startingAt: 0)
                   + String(format: "  %5d   %9.0f%%   %11.3f   %9.0f%%", row.stepsRun, row.taskB.accuracy * 100, row.corpusLoss, row.taskA.accuracy * 100))
        }
        output(controlVerdict(rows, baseline: base.unigramBaseline) + "\n")
        return rows
    }

    /// The computed verdict: which recipe, if any, learns the task (≥ 90% of the first row's score)
    /// without leaving the corpus loss above the unigram baseline.
    static func controlVerdict(_ rows: [ControlRow], baseline: Double) -> String {
        guard let first = rows.first else { return "" }
        let above = rows.filter { Double($0.corpusLoss) > baseline }.map(\.recipe)
        var lines: [String] = []
        if Double(first.corpusLoss) > baseline {
            lines.append(String(format: "  The chapter recipe leaves the corpus loss at %.3f, above the unigram baseline %.3f: it wrecks the base.",
                                first.corpusLoss, baseline))
        }
        let good = rows.first { $0.taskB.accuracy >= 0.9 * first.taskB.accuracy && Double($0.corpusLoss) <= baseline }
        if let good {
            lines.append(String(format: "  Recommended: \"%@\" — task B %.0f%% (chapter recipe %.0f%%) with the corpus loss at %.3f, below the "
                                + "unigram baseline.", good.recipe, good.taskB.accuracy * 100, first.taskB.accuracy * 100, good.corpusLoss))
        } else {
            lines.append("  No recipe here both keeps 90% of the task score and the corpus loss below the unigram baseline"
                         + (above.isEmpty ? "." : " (above it: \(above.joined(separator: ", "))).") + " Forgetting is not under control at this budget.")
        }
        return lines.joined(separator: "\n")
    }
}
