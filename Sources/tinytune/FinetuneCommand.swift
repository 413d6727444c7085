// FinetuneCommand.swift — `tinytune finetune`: supervised fine-tuning on the user's JSONL file.
import Foundation
import CommandLineOptions
import Autodiff
import NN
import Tokenizers
import Datasets
import Training
import Checkpoints
import FullFineTuning
import Quantization

enum FinetuneCommand {
    static let command = Command(
        name: "finetune", summary: "fine-tune a model on your JSONL file (full or partial)",
        help: """
        Usage: tinytune finetune --data FILE.jsonl [options]

        Supervised fine-tuning with the same recipe the chapters use. Each line of FILE.jsonl is either
        {"prompt": "...", "completion": "..."} or {"messages": [{"role": "user", "content": "..."}, ...]}
        (loss on assistant turns only; chats are rendered through the base model's chat template when it
        has one — a .gguf file or a Hugging Face directory — else as "role: content" lines). 10% of the
        examples (at least 1, when there are 10 or more) are held out for validation. Writes an HF-layout
        checkpoint (config.json, model.safetensors) plus tokenizer.json and loss.csv to --out.

          --data FILE          training data (required)
          --base DIR           model to start from: a directory (config.json, model.safetensors, tokenizer.json)
                               or a .gguf file (decoded to fp32); default: the built-in base model
          --out DIR            output directory (default: runs/finetune)
          --steps N            optimizer steps (default 300)
          --batch N            examples per step (default 16)
          --lr X               peak learning rate (default 5e-4; warmup 10%, cosine decay)
          --prompt-loss-weight W   loss weight of prompt tokens, 0…1 (default 0)
          --train-last N       train only the last N blocks (partial fine-tuning; default: all)
          --seed S             seed for shuffling and dropout (default 1)
        \(SFTOptions.help)
        \(Options.checkpointHelp)

        The output directory is replaced as a whole: an interrupted run leaves the previous one intact.
        """,
        run: run)

    static func run(_ arguments: [String]) throws {
        let options = try Options(arguments, valued: Set(["data", "base", "out", "steps", "batch", "lr", "prompt-loss-weight",
                                                          "train-last", "seed"]).union(Options.checkpointOptions).union(SFTOptions.valued),
                                  switches: SFTOptions.switches)
        guard let dataURL = try options.existingPath("data") else { throw UsageError(description: "--data FILE.jsonl is required") }
        let recipe = try SFTOptions.recipe(options, steps: 300, batch: 16, learningRate: 5e-4,
                                           promptLossWeight: try options.float("prompt-loss-weight", default: 0, in: 0...1))
        let out = URL(fileURLWithPath: options.string("out") ?? "runs/finetune")
        let plan = try options.checkpointPlan(out: out)
        // Data first: a malformed file should fail in a second, not after loading (or pretraining) a model.
        let records = try JSONLines.loadRecords(dataURL)
        guard !records.isEmpty else { throw UsageError(description: "\(dataURL.path): no examples") }
        let (model, tokenizer) = try loadBase(options.existingPath("base"))
        let (template, examples) = try chatExamples(records, base: options.existingPath("base"), tokenizer: tokenizer)
        var freeze = FreezeRule.none
        if options.string("train-last") != nil {
            freeze = .lastBlocks(try options.int("train-last", default: 0, in: 1...model.config.layers), trainEmbeddings: false)
        }
        // Check every character can be encoded, then split off validation.
        if let char = tokenizer as? CharTokenizer {
            for (index, example) in examples.enumerated() {
                do { _ = try char.encodeChecked(example.prompt + example.response) } catch {
                    throw UsageError(description: "\(dataURL.path): example \(index + 1): \(error) — the base model's tokenizer is character-level")
                }
            }
        }
        let (train, validation) = SFTOptions.split(examples)
        let longest = examples.map { TokenizedExample($0, tokenizer: tokenizer, template: template).ids.count }.max() ?? 0
        if longest > model.config.contextLength {
            print("note: the longest example has \(longest) tokens; rows are cut to the context length \(model.config.contextLength) (prompt start dropped)")
        }
        print("fine-tuning \(model.parameterCount()) parameters (\(freeze)) on \(train.count) examples, validating on \(validation.count)"
              + ", chats in the model's \(template.style.rawValue) template")
        print(SFTOptions.paddingReport(train, tokenizer: tokenizer, template: template, model: model, recipe: recipe))
        let before = validation.isEmpty ? nil
            : TaskEvaluator.responseLoss(model, tokenizer: tokenizer, examples: validation, template: template)
        let progress = ProgressReporter(label: "finetune", every: max(recipe.steps / 10, 1))
        let result: FineTuneResult
        if let plan {
            // A copy trained in place, as `run` does, resuming and checkpointing as the plan says.
            let tuned = model.copy()
            freeze.apply(to: tuned)
            result = try FineTuning.train(tuned, tokenizer: tokenizer, examples: train, validation: validation, recipe: recipe,
                                          template: template, progress: progress, checkpoints: plan)
        } else {
            result = FineTuning.run(base: model, tokenizer: tokenizer, examples: train, validation: validation, recipe: recipe,
                                    template: template, progress: progress) {
                freeze.apply(to: $0)
            }
        }
        if let before {
            let after = TaskEvaluator.responseLoss(result.model, tokenizer: tokenizer, examples: validation, template: template)
            print(String(format: "validation response loss %.4f → %.4f", before, after))
        }
        // One directory, replaced as a whole: the new model never sits next to an old loss.csv.
        try AtomicDirectory.write(to: out) { staging in
            try ModelCheckpoint.save(result.model, to: staging)
            try TrainingLogFile.write(result.log, to: staging.appendingPathComponent("loss.csv"))
            try saveTokenizer(tokenizer, to: staging)
        }
        print("wrote \(out.path) (config.json, model.safetensors, tokenizer.json, loss.csv)")
    }

    /// The built-in base model, or a model directory with its tokenizer.
    static func loadBase(_ directory: URL?, allowQuantized: Bool = false) throws -> (GPT, any Tokenizer) {
        guard let directory else {
            let base = try Pretraining.loadOrTrain(.standard, progress: ProgressReporter(label: "pretrain", every: 50))
            return (base.model, base.tokenizer)
        }
        // A llama.cpp GGUF file: kept packed for the commands that train on a frozen (quantized) base.
        if directory.pathExtension.lowercased() == "gguf" {
            let loaded = try GGUFPackedModel.loadBase(directory, packed: allowQuantized)
            print(loaded.summary)
            return (loaded.model, try ByteLevelBPE(gguf: loaded.file))
        }
        // A directory written by `tinytune quantize --format nf4` holds packed 4-bit weights.
        let isQuantized = FileManager.default.fileExists(atPath: directory.appendingPathComponent(QuantizedCheckpoint.fileName).path)
        if isQuantized && !allowQuantized {
            throw UsageError(description: "\(directory.path) holds a 4-bit (NF4) model; this command needs fp32 weights (use `tinytune qlora` or `lora` on it)")
        }
        let model = isQuantized ? try QuantizedCheckpoint.load(directory: directory) : try ModelCheckpoint.load(directory: directory)
        let tokenizerURL = directory.appendingPathComponent("tokenizer.json")
        guard let data = try? Data(contentsOf: tokenizerURL) else {
            throw UsageError(description: "\(tokenizerURL.path): missing tokenizer.json next to the model")
        }
        let tokenizer: any Tokenizer
        if let char = try? JSONDecoder().decode(CharTokenizer.self, from: data) { tokenizer = char } else {
            tokenizer = try ByteLevelBPE.load(tokenizerJSON: tokenizerURL)
        }
        // Every id the tokenizer can produce must have a row in the embedding (a smaller tokenizer is
        // fine: HF models often pad their vocabulary).
        guard tokenizer.vocabularySize <= model.config.vocabularySize else {
            throw UsageError(description: "\(tokenizerURL.path) has \(tokenizer.vocabularySize) tokens but the model's vocabulary has "
                             + "\(model.config.vocabularySize) (config.json vocab_size): they do not belong together")
        }
        return (model, tokenizer)
    }

    /// The base model's chat template (`ChatTemplate.ofBase`: plain "role: content" lines for the
    /// built-in model) and the records rendered through it, one example per assistant turn: the prompt
    /// ends with the template's generation prompt, the response is the turn, and the tokenizer's
    /// end-of-text after it (SmolLM2: `<|im_end|>`) closes it — so the loss falls on the assistant only.
    static func chatExamples(_ records: [JSONLinesRecord], base: URL?, tokenizer: any Tokenizer) throws
        -> (template: ChatTemplate, examples: [SFTExample]) {
        let template = try ChatTemplate.ofBase(base, tokenizer: tokenizer)
        return (template, records.flatMap { template.examples($0) })
    }

    /// Writes the tokenizer in the format `loadBase` reads back.
    static func saveTokenizer(_ tokenizer: any Tokenizer, to directory: URL) throws {
        let url = directory.appendingPathComponent("tokenizer.json")
        if let char = tokenizer as? CharTokenizer {
            let encoder = JSONEncoder()
            encoder.outputFormatting = .sortedKeys    // the same bytes in every process
            try AtomicFile.write(try encoder.encode(char), to: url)
        } else if let bpe = tokenizer as? ByteLevelBPE {
            try bpe.saveTokenizerJSON(to: url)
        }
    }
}

/// The training options `finetune`, `lora` and `qlora` share: validation, accumulation, bucketing,
/// activation checkpointing — and the held-out split and the padding report that go with them.
enum SFTOptions {
    static let valued: Set<String> = ["eval-every", "accumulate"]
    static let switches: Set<String> = ["no-bucket", "checkpoint-activations"]
    static let help = """
          --accumulate N       micro-batches per optimizer step (gradient accumulation; default 1): the
                               step sees N × --batch examples, memory stays that of one --batch
          --eval-every N       validation loss on the held-out 10% every N steps (default: steps/10; 0: never)
          --no-bucket          pad every batch to the longest example (default: batches group similar lengths)
          --checkpoint-activations  recompute each block's activations in backward (less memory, ~1/3 more time)
        """

    /// The recipe's steps/batch/lr/seed plus the shared options.
    static func recipe(_ options: Options, steps: Int, batch: Int, learningRate: Float,
                       promptLossWeight: Float = 0) throws -> SFTRecipe {
        let steps = try options.int("steps", default: steps, in: 1...1_000_000)
        return SFTRecipe(steps: steps, batchSize: try options.int("batch", default: batch, in: 1...4096),
                         gradientAccumulation: try options.int("accumulate", default: 1, in: 1...4096),
                         learningRate: try options.float("lr", default: learningRate, in: 1e-7...1),
                         promptLossWeight: promptLossWeight,
                         evaluateEvery: try options.int("eval-every", default: max(steps / 10, 1), in: 0...1_000_000),
                         seed: UInt64(try options.int("seed", default: 1, in: 0...Int.max)),
                         bucketed: !options.flag("no-bucket"), checkpointActivations: options.flag("checkpoint-activations"))
    }

    /// The last 10% of the examples (at least 1, when there are 10 or more) held out for validation.
    static func split(_ examples: [SFTExample]) -> (train: [SFTExample], validation: [SFTExample]) {
        let held = examples.count >= 10 ? max(examples.count / 10, 1) : 0
        return (Array(examples.dropLast(held)), Array(examples.suffix(held)))
    }

    /// "padding: 41.0% of the positions in a batch without bucketing, 6.2% with" for these examples.
    static func paddingReport(_ examples: [SFTExample], tokenizer: any Tokenizer, template: ChatTemplate?, model: GPT,
                              recipe: SFTRecipe) -> String {
        let tokenized = examples.map { TokenizedExample($0, tokenizer: tokenizer, template: template) }
        let context = min(model.config.contextLength, (tokenized.map(\.ids.count).max() ?? 2) - 1)
        func share(_ bucketed: Bool) -> Double {
            SFTBatchSource(examples: tokenized, batchSize: recipe.batchSize, contextLength: max(context, 1), seed: recipe.seed,
                           bucketed: bucketed).paddingShare()
        }
        return String(format: "padding: %.1f%% of the positions in a batch without bucketing, %.1f%% with%@",
                      100 * share(false), 100 * share(true), recipe.bucketed ? "" : " (off: --no-bucket)")
    }
}
