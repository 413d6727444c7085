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
// same token budget — at its own learning rate. The conclusions are computed from the numbers: when a
// result contradicts the book, the chapter says so.
// Leaves out: longer training, several seeds (every figure is one seeded run), exporting (see
// `tinytune merge-adapter` and `ModelCheckpoint.saveGGUF`).
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
    /// Which model the chapter runs on.
    public enum Model: Sendable {
        /// The GGUF file at this path (SmolLM2-135M-Instruct by default).
        case gguf(String)
        /// A tiny random Llama (tests: no download; it learns nothing real).
        case synthetic
    }

    /// The chapter's knobs.
    public struct Config: Sendable {
        public var model: Model
        /// Training, validation and test examples of the contact-card task (seed 15).
        public var trainExamples: Int, validationExamples: Int, testExamples: Int
        /// The shared recipe (steps, batch, bucketing); each method's learning rate replaces its lr.
        public var recipe: SFTRecipe
        public var loraRate: Float, qloraRate: Float, fullRate: Float
        public var rank: Int
        /// Also run QLoRA on an NF4 copy of the fp32 weights (besides the GGUF's own Q4_1 blocks).
        public var includeNF4: Bool
        /// Forgetting probes: passages for perplexity, questions answered greedily (≤ maxAnswerTokens).
        public var passages: Int, questions: Int, maxAnswerTokens: Int
        /// Print the key figures also as JSON lines.
        public var json: Bool

        /// The default run: about 12 minutes on 2 quiet cores (estimated from the step times of a loaded
        /// machine; the printed duration says how long it took). LoRA's loss is below 0.01 after ~10 steps.
        public static let standard = Config(
            model: .gguf(RealModel.defaultPath), trainExamples: 400, validationExamples: 16, testExamples: 40,
            recipe: SFTRecipe(steps: 30, batchSize: 4, evaluateEvery: 10, seed: 15, bucketed: true),
            loraRate: 2e-3, qloraRate: 2e-3, fullRate: 1e-4, rank: 8, includeNF4: false,
            passages: 10, questions: 20, maxAnswerTokens: 16, json: false)
        /// For development: 8 steps, 8 test cards, 4 questions.
        public static let quick = Config(
            model: .gguf(RealModel.defaultPath), trainExamples: 64, validationExamples: 4, testExamples: 8,
            recipe: SFTRecipe(steps: 8, batchSize: 4, evaluateEvery: 4, seed: 15, bucketed: true),
            loraRate: 2e-3, qloraRate: 2e-3, fullRate: 1e-4, rank: 8, includeNF4: false,
            passages: 3, questions: 4, maxAnswerTokens: 10, json: false)
        /// Seconds, on the synthetic model (the smoke test).
        public static let tiny = Config(
            model: .synthetic, trainExamples: 8, validationExamples: 2, testExamples: 3,
            recipe: SFTRecipe(steps: 2, batchSize: 2, evaluateEvery: 1, seed: 15, bucketed: true),
            loraRate: 2e-3, qloraRate: 2e-3, fullRate: 1e-3, rank: 2, includeNF4: true,
            passages: 2, questions: 2, maxAnswerTokens: 3, json: true)
    }

    /// What one model (the base or a fine-tune) scored.
    public struct Scores: Sendable {
        /// Exact match on the test set (teacher-forced greedy check) and its size.
        public var task: TaskScore
        /// The greedy answers to the three shown test prompts.
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
        public var learningRate: Float
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
        public var peakBytes: Int { peakByRole.values.reduce(0, +) }
    }

    /// Everything the chapter measured.
    public struct Report: Sendable {
        public var modelSummary: String
        public var parameters: Int
        public var base: Scores
        public var rows: [Row]
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
        let real: RealModel
        switch config.model {
        case .gguf(let path): real = try RealModel.open(path)
        case .synthetic: real = try RealModel.synthetic(in: scratch)
        }
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

        // 1. The base.
        func scores(_ model: GPT) -> Scores {
            let task = TaskEvaluator.score(model, tokenizer: tokenizer, examples: test, check: .teacherForced, template: template)
            let answers = shown.map { example in
                TaskEvaluator.generate(model, tokenizer: tokenizer, prompt: example.rendered(with: template).prompt,
                                       maxNewTokens: tokenizer.encode(example.response).count + 6, template: template)
            }
            let questions = real.answer(model, questions: Array(GeneralProbe.questions.prefix(config.questions)),
                                        maxNewTokens: config.maxAnswerTokens)
            return Scores(task: task, shownAnswers: answers,
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

        // 2. The methods.
        let lora = LoRAConfig(rank: config.rank, alpha: Float(2 * config.rank))
        var methods: [(name: String, rate: Float, packed: Bool, prepare: (GPT) throws -> Void)] = [
            ("LoRA r=\(config.rank), fp32 base", config.loraRate, false, { _ = try LoRA.add("default", to: $0, config: lora, seed: 3) }),
            ("QLoRA r=\(config.rank), Q4_1 GGUF base (packed)", config.qloraRate, true, { _ = try LoRA.add("default", to: $0, config: lora, seed: 3) }),
        ]
        if config.includeNF4 {
            methods.append(("QLoRA r=\(config.rank), NF4 base", config.qloraRate, false, {
                _ = try QLoRA.prepare($0, adapter: "default", config: QLoRAConfig(lora: lora), seed: 3)
            }))
        }
        methods.append(("full fine-tuning", config.fullRate, false, { $0.setTrainable(true) }))
        var rows: [Row] = []
        for method in methods {
            output("training: \(method.name), lr \(method.rate)")
            var recipe = config.recipe
            recipe.learningRate = method.rate
            var packedBytes = 0
            let run = try Experiment.measure(method.name, loading: { () throws -> GPT in
                guard method.packed else { return try real.loadFP32() }
                let loaded = try real.loadPacked()
                packedBytes = loaded.packedBytes
                return loaded.model
            }, tokenizer: tokenizer, examples: train, validation: validation, recipe: recipe, template: template,
               progress: ProgressReporter(label: "  \(method.name)", every: max(recipe.steps / 8, 1)), prepare: method.prepare)
            let after = scores(run.model)
            let estimate = memoryEstimate(real.config, parameters: parameters, trainable: run.trainableParameters,
                                          packedBytes: method.packed ? packedBytes : nil, nf4: method.name.contains("NF4"),
                                          batch: recipe.batchSize, steps: max(longest - 1, 1))
            let row = Row(method: method.name, trainable: run.trainableParameters, learningRate: method.rate,
                          peakByRole: run.trainingPeakByRole, peakResidentBytes: run.peakResidentBytes, estimate: estimate,
                          millisecondsPerStep: run.medianStepMilliseconds ?? 0, positionsPerSecond: run.positionsPerSecond,
                          finalLoss: run.finalLoss(lastSteps: 5), validationLoss: run.log.compactMap(\.validationLoss).last,
                          scores: after, repliesUnchanged: zip(after.replies, base.replies).filter { $0 == $1 }.count)
            rows.append(row)
            output(String(format: "  → exact match %.0f%% of %d, perplexity %.2f → %.2f, %d/%d questions, %.0f s\n",
                          100 * after.task.accuracy, after.task.count, base.perplexity, after.perplexity, after.questionsCorrect,
                          config.questions, run.seconds))
        }

        let report = Report(modelSummary: real.summary, parameters: parameters, base: base, rows: rows,
                            conclusions: conclusions(base: base, rows: rows), padding: paddingShares,
                            seconds: Date().timeIntervalSince(begin))
        printReport(report, shown: shown, config: config, output: output)
        return report
    }

    /// The book's memory equation for one run: fp32 gradients and two fp32 Adam states per trainable
    /// parameter, our activation formula for the batch, and the weights — fp32; for a packed base the
    /// file's packed bytes plus the fp32 rest (norms); for NF4 ~4.127 bits per block-matrix weight (the
    /// projections) plus the fp32 rest (embeddings, norms).
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
        return estimate
    }
}
