// Chapter15RealThing.swift — Chapter 15: the real thing. LoRA, QLoRA and full fine-tuning of a real
// pretrained instruct model, SmolLM2-135M-Instruct, on one task, within minutes on two CPU cores.
//
// The claims the book makes about fine-tuning foundation models, measured where they were made:
// 1. Fine-tuning teaches a pretrained model a task it cannot do: the base scores (almost) nothing on the
//    contact-card task zero-shot, the fine-tunes score high — shown on three test prompts and as exact
//    match on the held-out test set.
// 2. LoRA r=8 on every linear layer gets close to full fine-tuning's score while training well under 1%
//    of the parameters; QLoRA (the base's own Q4_1 GGUF blocks kept packed, and NF4 of the fp32
//    weights) gets close to LoRA on a 4-bit base.
// 3. Memory: full fine-tuning pays gradients and Adam states for every weight; LoRA only for the
//    adapters; QLoRA also shrinks the frozen weights — measured by the meter by role, and by the OS
//    (RSS), next to the book's memory equation for this model.
// 4. Forgetting: full fine-tuning moves every weight toward the task and loses more general ability
//    (perplexity on ordinary English, answers to everyday questions) than LoRA.
// Note: the fp32 base *is* the GGUF's Q4_1 blocks decoded, so LoRA and QLoRA-on-the-packed-blocks see
// the same weights (they differ in memory and speed, not in what they compute); NF4 re-quantizes those
// decoded weights and adds its own rounding error on top.
// Every method runs the same recipe — same examples in the same order, same steps and batch, so the
// same token budget — at its own learning rate, chosen by one stated rule: on a grid of rates 1.3–2×
// apart, the lowest rate whose run reaches 90% exact match on the validation cards within the
// budget. A higher rate only moves the weights further, so forgetting is compared between runs that each
// moved just far enough to learn the task. Sweeping the grids takes longer than the chapter itself, so
// `chapter15 --sweep` runs them (every point's validation score and general-text perplexity,
// Chapter15RealThing+Sweep.swift) and the default run trains each method once, at the rate the sweep
// chose, checking again that it reaches the bar.
// The conclusions are computed from the numbers: when a result contradicts the book, the chapter says so.
// 5. Export: the LoRA fine-tune, merged, is written as GGUF (F32, F16) and as a Hugging Face directory,
//    loaded back, and must give the in-memory fine-tune's greedy answers (Chapter15RealThing+Export.swift).
// Leaves out: longer training, several seeds (every figure is one seeded run), finer rate grids.
import Foundation
import Autodiff
import NN
import Tokenizers
import Datasets
import Training
import FullFineTuning
import PEFT
import Quantization
import Experiments

/// Chapter 15 — the real thing.
public enum Chapter15RealThing {
    /// Which model the chapter runs on: `.gguf(path)` or `.synthetic` (the tests' stand-in).
    public typealias Model = RealModel.Source

    /// A fine-tuning method the chapter can run.
    public enum Method: String, Sendable, CaseIterable {
        /// LoRA on the decoded fp32 base; QLoRA on the GGUF's packed Q4_1 blocks; QLoRA on NF4 of the
        /// fp32 weights; full fine-tuning.
        case lora, qlora, nf4, full
    }

    /// The chapter's knobs.
    public struct Config: Sendable {
        public var model: Model
        /// Training, validation and test examples of the contact-card task (seed 15).
        public var trainExamples: Int, validationExamples: Int, testExamples: Int
        /// The shared recipe (steps, batch, bucketing); each method's learning rate replaces its lr.
        public var recipe: SFTRecipe
        /// The methods to run, in this order (QLoRA and NF4 take LoRA's chosen rate when LoRA ran first).
        public var methods: [Method]
        /// Learning-rate grids, tried from low to high: the chapter's rule picks, per method, the lowest
        /// rate whose run reaches `validationTarget` exact match on the validation cards within the budget.
        public var loraRates: [Float], fullRates: [Float]
        public var validationTarget: Double
        public var rank: Int
        /// The linear layers LoRA and QLoRA adapt (PEFT's names: "all-linear", or e.g. "q_proj", "v_proj").
        public var loraTargets: [String] = ["all-linear"]
        /// Forgetting probes: passages for perplexity, questions answered greedily (≤ maxAnswerTokens).
        public var passages: Int, questions: Int, maxAnswerTokens: Int
        /// Where the merged LoRA fine-tune is exported (GGUF F32/F16 + HF) and checked; nil: a
        /// temporary directory, removed at the end.
        public var exportDirectory: String?
        /// Print the key figures also as JSON lines.
        public var json: Bool

        /// The default run: each method trained once, at the rate `chapter15 --sweep` chose by the rule
        /// (2026-12-02: LoRA 2e-4 → 65%, 3e-4 → 80%, 4e-4 → 98%; full fine-tuning 5e-6 → 70%, 1e-5 → 98% of
        /// the 40 validation cards — 16 cards, the earlier set, were too few for a 90% bar: 3e-4 passed 15 of
        /// them and then scored 75% on the test cards), with 90% of those cards as the bar the run checks again. LoRA and full
        /// fine-tuning run first (the forgetting comparison), QLoRA last, at LoRA's rate. The printed
        /// duration says how long it took.
        public static let standard = Config(
            model: .gguf(RealModel.defaultPath), trainExamples: 400, validationExamples: 40, testExamples: 40,
            recipe: SFTRecipe(steps: 30, batchSize: 4, evaluateEvery: 10, seed: 15, bucketed: true),
            methods: [.lora, .full, .qlora], loraRates: [4e-4], fullRates: [1e-5],
            validationTarget: 0.9, rank: 8, passages: 10, questions: 20, maxAnswerTokens: 16,
            exportDirectory: "runs/chapter15", json: false)
        /// The sweep behind the standard rates (`chapter15 --sweep`): the standard recipe, LoRA and full
        /// fine-tuning only, on grids of about the same resolution (1.3–2× apart) — LoRA 2e-4…6e-4, full 5e-6…2e-5.
        public static var sweep: Config {
            var config = standard
            config.methods = [.lora, .full]
            config.loraRates = [2e-4, 3e-4, 4e-4, 6e-4]
            config.fullRates = [5e-6, 1e-5, 2e-5]
            return config
        }
        /// For development: 8 steps, 8 test cards, 4 questions, one rate per method.
        public static let quick = Config(
            model: .gguf(RealModel.defaultPath), trainExamples: 64, validationExamples: 4, testExamples: 8,
            recipe: SFTRecipe(steps: 8, batchSize: 4, evaluateEvery: 4, seed: 15, bucketed: true),
            methods: [.lora, .full, .qlora], loraRates: [2e-3], fullRates: [1e-4],
            validationTarget: 0.9, rank: 8, passages: 3, questions: 4, maxAnswerTokens: 10,
            exportDirectory: "runs/chapter15-quick", json: false)
        /// Seconds, on the synthetic model (the smoke test): a two-rate LoRA grid that it cannot pass (the
        /// random model learns no task in 2 steps), so the rule falls back to the highest rate.
        public static let tiny = Config(
            model: .synthetic, trainExamples: 8, validationExamples: 2, testExamples: 3,
            recipe: SFTRecipe(steps: 2, batchSize: 2, evaluateEvery: 1, seed: 15, bucketed: true),
            methods: [.lora, .qlora, .nf4, .full], loraRates: [1e-4, 2e-3], fullRates: [1e-3],
            validationTarget: 0.9, rank: 2, passages: 2, questions: 2, maxAnswerTokens: 3,
            exportDirectory: nil, json: true)
    }

    /// One learning rate tried by the rule, and the exact match it reached on the validation cards.
    public struct Trial: Sendable {
        public var learningRate: Float
        public var validation: TaskScore
    }

    /// What one model (the base or a fine-tune) scored.
    public struct Scores: Sendable {
        /// Exact match on the test set (teacher-forced greedy check) and its size.
        public var task: TaskScore
        /// The greedy answers to the three shown test prompts: token ids (stop excluded) and text.
        public var shownAnswerIDs: [[Int]]
        public var shownAnswers: [String]
        /// Perplexity on the general passages; everyday questions answered correctly, and their replies.
        public var perplexity: Double
        public var questionsCorrect: Int
        public var replies: [String]
    }

    /// One fine-tuning method's row.
    public struct Row: Sendable {
        public var method: String
        public var trainable: Int
        /// The rate the rule chose, every rate it tried (low to high) and whether the chosen one reached
        /// the validation target (false: none did, the highest is reported).
        public var learningRate: Float
        public var trials: [Trial]
        public var reachedTarget: Bool
        /// The meter's peak of training, by role; the process's peak RSS during the run.
        public var peakByRole: [MemoryRole: Int]
        public var peakResidentBytes: Int?
        /// The memory equation for the same run (weights, gradients, Adam states, activations).
        public var estimate: MemoryBreakdown
        public var millisecondsPerStep: Double, positionsPerSecond: Double
        public var finalLoss: Float, validationLoss: Float?
        public var scores: Scores
        /// Questions answered the same way as the base did.
        public var repliesUnchanged: Int
        /// How far the linear layers' weights moved, ‖ΔW‖_F / ‖W‖_F (LoRA and full fine-tuning; nil otherwise).
        public var weightDistance: Double? = nil
        public var peakBytes: Int { peakByRole.values.reduce(0, +) }
    }

    /// Everything the chapter measured.
    public struct Report: Sendable {
        public var modelSummary: String
        public var parameters: Int
        public var base: Scores
        public var rows: [Row]
        /// The merged LoRA fine-tune exported and loaded back: greedy answers on the three shown prompts.
        public var exports: [ExportCheck.Result]
        /// The validation bar of the learning-rate rule and the number of validation cards.
        public var validationTarget: Double, validationCount: Int
        /// The computed conclusions, one sentence each.
        public var conclusions: [String]
        /// Padding share of the training batches without and with bucketing.
        public var padding: (plain: Double, bucketed: Double)
        public var seconds: Double
    }

    /// Runs the chapter, printing through `output`. Throws `RealModel.Missing` (with the fetch command)
    /// when the model file is absent.
    @discardableResult
    public static func run(_ config: Config, output: @escaping (String) -> Void = { print($0) }) throws -> Report {
        let begin = Date()
        output("Chapter 15 — The real thing: fine-tuning SmolLM2-135M-Instruct\n")
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("chapter15-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let real = try openModel(config.model, scratch: scratch)
        output(real.summary)
        let (tokenizer, template) = (real.tokenizer, real.template)

        // The task: sentence → one-line JSON card, in chat form, rendered through the model's template.
        let train = ContactExtraction.examples(.train, count: config.trainExamples, seed: 15).map(\.chatExample)
        let validation = ContactExtraction.examples(.validation, count: config.validationExamples, seed: 15).map(\.chatExample)
        let test = ContactExtraction.examples(.test, count: config.testExamples, seed: 15).map(\.chatExample)
        let shown = Array(test.prefix(3))
        let tokenized = train.map { TokenizedExample($0, tokenizer: tokenizer, template: template) }
        let lengths = tokenized.map(\.ids.count)
        let longest = lengths.max() ?? 0
        func padding(_ bucketed: Bool) -> Double {
            SFTBatchSource(examples: tokenized, batchSize: config.recipe.batchSize, contextLength: max(longest - 1, 1),
                           seed: config.recipe.seed, bucketed: bucketed).paddingShare()
        }
        let paddingShares = (plain: padding(false), bucketed: padding(true))
        let budget = config.recipe.steps * config.recipe.batchSize * config.recipe.gradientAccumulation
        output("Task: \"\(ContactExtraction.instruction)\" → {\"name\": …, \"age\": …, \"job\": …, \"city\": …}")
        output("\(train.count) training / \(validation.count) validation / \(test.count) test chats; "
               + "\(lengths.min() ?? 0)–\(longest) tokens each in the \(template.style.rawValue) template "
               + String(format: "(padding %.0f%% of a batch → %.0f%% with bucketing).", 100 * paddingShares.plain, 100 * paddingShares.bucketed))
        output("The fp32 base is the file's Q4_1 blocks decoded: LoRA and QLoRA on the packed blocks see the same weights.")
        output("Every method: \(config.recipe.steps) steps × \(config.recipe.batchSize) chats = \(budget) examples "
               + "(\(lengths.reduce(0, +) * budget / max(train.count, 1)) tokens), loss on the assistant's answer only.\n")

        // 1. The base. The three shown prompts are answered greedily (token ids kept for the export check).
        let shownPrompts = (prompts: shown.map { $0.rendered(with: template).prompt },
                            limits: shown.map { tokenizer.encode($0.response).count + 6 })
        func scores(_ model: GPT) -> Scores {
            let task = TaskEvaluator.score(model, tokenizer: tokenizer, examples: test, check: .teacherForced, template: template)
            let answers = ExportCheck.answers(model, tokenizer: tokenizer, template: template, prompts: shownPrompts.prompts,
                                              maxNewTokens: shownPrompts.limits)
            let questions = real.answer(model, questions: Array(GeneralProbe.questions.prefix(config.questions)),
                                        maxNewTokens: config.maxAnswerTokens)
            return Scores(task: task, shownAnswerIDs: answers, shownAnswers: answers.map { tokenizer.decode($0) },
                          perplexity: real.perplexity(model, passages: Array(GeneralProbe.passages.prefix(config.passages))),
                          questionsCorrect: questions.correct, replies: questions.replies)
        }
        output("Scoring the base model…")
        let (base, parameters) = try { () throws -> (Scores, Int) in
            let model = try real.loadFP32()
            return (scores(model), model.parameterCount())
        }()
        output(String(format: "base: exact match %.0f%% of %d, perplexity %.2f, %d/%d questions\n", 100 * base.task.accuracy,
                      base.task.count, base.perplexity, base.questionsCorrect, config.questions))

        // 2. The methods, each at the rate the rule picks: its grid from low to high, the first rate whose
        //    run reaches the validation target within the shared budget (none: the highest). QLoRA trains
        //    the same adapters on the same (or, NF4, nearly the same) weights, so it takes LoRA's rate.
        var rows: [Row] = [], exports: [ExportCheck.Result] = []
        for method in config.methods {
            let setup = methodSetup(method, config: config)
            let (name, packed) = (setup.name, setup.packed)
            let loraRate = rows.first { $0.method.hasPrefix("LoRA") }?.learningRate
            let rates = method == .full ? config.fullRates
                : method == .lora ? config.loraRates : loraRate.map { [$0] } ?? config.loraRates
            var trials: [Trial] = [], chosen: (run: Experiment.Run, rate: Float, packedBytes: Int)?
            for (index, rate) in rates.sorted().enumerated() {
                let (run, check, packedBytes) = try trainTrial(setup, rate: rate, real: real, train: train,
                                                               validation: validation, config: config, output: output)
                trials.append(Trial(learningRate: rate, validation: check))
                let reached = check.accuracy >= config.validationTarget
                output(String(format: "  validation: exact match %.0f%% of %d — ", 100 * check.accuracy, check.count)
                       + (reached ? "reaches \(percent(config.validationTarget)): lr \(rate) is the rate"
                                  : index + 1 < rates.count ? "below \(percent(config.validationTarget)), next rate"
                                                            : "below \(percent(config.validationTarget)) and no higher rate: lr \(rate) is reported"))
                if reached || index + 1 == rates.count { chosen = (run, rate, packedBytes); break }
            }
            guard let (run, rate, packedBytes) = chosen else { continue }
            let after = scores(run.model)
            var recipe = config.recipe
            recipe.learningRate = rate
            let estimate = memoryEstimate(real.config, parameters: parameters, trainable: run.trainableParameters,
                                          packedBytes: packed ? packedBytes : nil, nf4: method == .nf4,
                                          batch: recipe.batchSize, steps: max(longest - 1, 1))
            let row = Row(method: name, trainable: run.trainableParameters, learningRate: rate, trials: trials,
                          reachedTarget: trials.last.map { $0.validation.accuracy >= config.validationTarget } ?? false,
                          peakByRole: run.trainingPeakByRole, peakResidentBytes: run.peakResidentBytes, estimate: estimate,
                          millisecondsPerStep: run.medianStepMilliseconds ?? 0, positionsPerSecond: run.positionsPerSecond,
                          finalLoss: run.finalLoss(lastSteps: 5), validationLoss: run.log.compactMap(\.validationLoss).last,
                          scores: after, repliesUnchanged: zip(after.replies, base.replies).filter { $0 == $1 }.count)
            rows.append(row)
            output(String(format: "  → exact match %.0f%% of %d, perplexity %.2f → %.2f, %d/%d questions, %.0f s\n",
                          100 * after.task.accuracy, after.task.count, base.perplexity, after.perplexity, after.questionsCorrect,
                          config.questions, run.seconds))
            if method == .lora {
                // A failed export is reported (and counted as 0/3), not allowed to end the chapter's run.
                let directory = config.exportDirectory.map { URL(fileURLWithPath: $0) } ?? scratch.appendingPathComponent("export")
                do {
                    exports = try exportAndCheck(run.model, real: real, prompts: shownPrompts, inMemory: after.shownAnswerIDs,
                                                 directory: directory, output: output)
                } catch {
                    output("  export failed: \(error)\n")
                    exports = [ExportCheck.Result(format: "export (failed)", path: directory.path, answers: [], same: 0)]
                }
            }
            // How far the linear weights moved (LoRA and full fine-tuning: the forgetting comparison), measured
            // after every other use of the model, against a fresh copy of the base.
            if method == .lora || method == .full {
                rows[rows.count - 1].weightDistance = try linearWeightDistance(run.model, base: try real.loadFP32())
            }
        }

        let report = Report(modelSummary: real.summary, parameters: parameters, base: base, rows: rows, exports: exports,
                            validationTarget: config.validationTarget, validationCount: validation.count,
                            conclusions: conclusions(base: base, rows: rows, exports: exports, target: config.validationTarget,
                                                     validationCount: validation.count), padding: paddingShares,
                            seconds: Date().timeIntervalSince(begin))
        printReport(report, shown: shown, config: config, output: output)
        return report
    }

    /// The book's memory equation for one run: fp32 gradients and two fp32 Adam states per trainable
    /// parameter, our activation formula for the batch, and the weights — fp32; for a packed base the
    /// file's packed bytes plus the fp32 rest (norms); for NF4 ~4.127 bits per block-matrix weight (the
    /// projections) plus the fp32 rest (embeddings, norms).
    /// "Gradients" counts what the meter counts under that role: the parameters' gradients (4 bytes per
    /// trainable parameter) *and* the largest activation gradient, the logits' [B·T, V] fp32 gradient the
    /// loss writes at the start of backward — for LoRA (2.4M trainable, a 49k vocabulary) it is the
    /// larger of the two (`logitsGradientBytes`).
    static func memoryEstimate(_ config: GPTConfig, parameters: Int, trainable: Int, packedBytes: Int?, nf4: Bool,
                               batch: Int, steps: Int) -> MemoryBreakdown {
        let n = Double(parameters)
        let (c, m) = (Double(config.embeddingSize), Double(config.mlpSize))
        let kvShare = Double(config.kvHeads) / Double(config.heads)
        let projections = Double(config.layers) * (2 * c * c + 2 * c * c * kvShare + 3 * c * m)
        let embedding = Double(config.vocabularySize) * c
        let weights: Double
        if let packedBytes { weights = Double(packedBytes) + 4 * (n - projections - embedding) }
        else if nf4 { weights = projections * 4.127 / 8 + 4 * (n - projections) }
        else { weights = 4 * n }
        var estimate = MemoryEstimator.training(parameters: n, trainable: Double(trainable), weightBytes: 0, gradientBytes: 4,
                                                stateValues: 2, stateBytes: 4,
                                                activations: MemoryEstimator.activationBytes(config: config, batch: batch, steps: steps))
        estimate.weights = weights
        estimate.gradients += logitsGradientBytes(config, batch: batch, steps: steps)
        return estimate
    }

    /// The logits' gradient, [B·T, V] fp32: the activation gradient the meter counts as gradients at the peak.
    static func logitsGradientBytes(_ config: GPTConfig, batch: Int, steps: Int) -> Double {
        4 * Double(batch * steps * config.vocabularySize)
    }
}
