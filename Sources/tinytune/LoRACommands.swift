// LoRACommands.swift — `tinytune lora` and `tinytune qlora` (train a PEFT-layout adapter, on an fp32 or
// NF4 base) and `tinytune merge-adapter`.
import Foundation
import CommandLineOptions
import NN
import Autodiff
import Tokenizers
import Datasets
import Training
import Checkpoints
import PEFT
import Optim
import Quantization

enum LoRACommand {
    static let command = Command(
        name: "lora", summary: "train a LoRA adapter on your JSONL file (PEFT file layout)",
        help: """
        Usage: tinytune lora --data FILE.jsonl [options]

        Freezes the base model, adds LoRA adapters to the chosen linear layers, trains them, and writes
        adapter_config.json + adapter_model.safetensors (Hugging Face PEFT's layout) to --out.

          --data FILE          training data (required; same formats as `tinytune finetune`)
          --base DIR           base model directory (default: the built-in base model)
          --out DIR            output directory (default: runs/lora)
          --rank R             LoRA rank (default 8)
          --alpha A            LoRA alpha; the update is scaled by alpha/rank (default 16)
          --targets LIST       comma-separated layer names (c_attn, c_proj, c_fc, q_proj, …) or all-linear (default)
          --rslora             scale by alpha/√rank instead
          --dora               weight-decomposed LoRA (DoRA)
          --steps N            optimizer steps (default 500)
          --batch N            examples per step (default 32)
          --lr X               peak learning rate (default 1.5e-3)
          --seed S             seed (default 1)
        \(SFTOptions.help)
        \(Options.checkpointHelp)

        --base may be a .gguf file: `lora` then keeps its block-quantized matrices packed (QLoRA on the
        GGUF's own 4-bit blocks); chats are rendered through the model's chat template.
        The output directory is replaced as a whole: an interrupted run leaves the previous one intact.
        """,
        run: run)

    static func run(_ arguments: [String]) throws { try train(arguments, quantized: false) }

    /// Options shared by `lora` and `qlora`.
    static let valued: Set<String> = Set(["data", "base", "out", "rank", "alpha", "targets", "steps", "batch", "lr", "seed"])
        .union(Options.checkpointOptions).union(SFTOptions.valued)

    /// Parses the shared options, prepares the model (QLoRA: NF4 base), trains, saves the adapter.
    static func train(_ arguments: [String], quantized: Bool) throws {
        let options = try Options(arguments, valued: valued.union(quantized ? ["block-size"] : []),
                                  switches: SFTOptions.switches.union(quantized ? ["no-double-quant", "adam8bit"] : ["rslora", "dora"]))
        guard let dataURL = try options.existingPath("data") else { throw UsageError(description: "--data FILE.jsonl is required") }
        let records = try JSONLines.loadRecords(dataURL)
        guard !records.isEmpty else { throw UsageError(description: "\(dataURL.path): no examples") }
        let rank = try options.int("rank", default: 8, in: 1...4096)
        let targets = (options.string("targets") ?? "all-linear").split(separator: ",").map(String.init)
        let config = LoRAConfig(rank: rank, alpha: try options.float("alpha", default: 16, in: 1e-3...1e6),
                                useRSLoRA: options.flag("rslora"), useDoRA: options.flag("dora"), targets: targets)
        let recipe = try SFTOptions.recipe(options, steps: 500, batch: 32, learningRate: 1.5e-3)
        let out = URL(fileURLWithPath: options.string("out") ?? (quantized ? "runs/qlora" : "runs/lora"))
        let plan = try options.checkpointPlan(out: out)
        let (model, tokenizer) = try FinetuneCommand.loadBase(options.existingPath("base"), allowQuantized: true)
        let (template, examples) = try FinetuneCommand.chatExamples(records, base: options.existingPath("base"), tokenizer: tokenizer)
        let (train, validation) = SFTOptions.split(examples)
        let known = Set(LoRA.linearLayers(of: model).map { $0.path.split(separator: ".").last.map(String.init) ?? $0.path })
        for target in targets where target != "all-linear" && !known.contains(target) {
            throw UsageError(description: "--targets: no linear layer named '\(target)' (this model has \(known.sorted().joined(separator: ", ")))")
        }
        let trainable: Int
        if quantized {
            let qlora = QLoRAConfig(lora: config, blockSize: try options.int("block-size", default: 64, in: 2...65536),
                                    doubleQuantize: !options.flag("no-double-quant"))
            guard qlora.blockSize % 2 == 0 else { throw UsageError(description: "--block-size must be even") }
            let summary = try QLoRA.prepare(model, adapter: "default", config: qlora, seed: recipe.seed)
            trainable = LoRA.parameterCount("default", in: model)
            print(String(format: "NF4 base: %d linear layers, %.1f KB → %.1f KB (%.3fx of fp32)", summary.quantizedLayers,
                         Double(summary.fp32Bytes) / 1e3, Double(summary.quantizedBytes) / 1e3, summary.ratio))
        } else {
            trainable = try LoRA.add("default", to: model, config: config, seed: recipe.seed)
        }
        let frozen = model.computedParameterCount() - trainable   // a packed (GGUF) base counts at its unpacked size
        print(String(format: "LoRA r=%d on %@: %d trainable parameters", rank, targets.joined(separator: ","), trainable)
              + (quantized ? "" : String(format: " (%.2f%% of %d)", 100 * Double(trainable) / Double(frozen), frozen)))
        print("training on \(train.count) examples, validating on \(validation.count)"
              + ", chats in the model's \(template.style.rawValue) template")
        print(SFTOptions.paddingReport(train, tokenizer: tokenizer, template: template, model: model, recipe: recipe))
        let optimizer = OptimizerChoice(eightBit: quantized && options.flag("adam8bit"))
        let progress = ProgressReporter(label: quantized ? "qlora" : "lora", every: max(recipe.steps / 10, 1))
        if let plan {
            _ = try FineTuning.train(model, tokenizer: tokenizer, examples: train, validation: validation, recipe: recipe,
                                     template: template, progress: progress, checkpoints: plan, makeOptimizer: optimizer.make)
        } else {
            _ = FineTuning.train(model, tokenizer: tokenizer, examples: train, validation: validation, recipe: recipe,
                                 template: template, progress: progress, makeOptimizer: optimizer.make)
        }
        try AdapterFiles.save("default", of: model, to: out, baseModel: options.string("base") ?? "tinytune-base")
        print("wrote \(out.path) (adapter_config.json, adapter_model.safetensors)")
    }
}

enum QLoRACommand {
    static let command = Command(
        name: "qlora", summary: "train a LoRA adapter on a 4-bit (NF4) copy of the base model",
        help: """
        Usage: tinytune qlora --data FILE.jsonl [options]

        As `tinytune lora`, but the frozen base's linear weights are stored in NF4 (4-bit NormalFloat,
        blocks of 64, double-quantized scales: ~4.127 bits per weight) and dequantized panel by panel
        inside every matrix product. --base may also be a directory written by `tinytune quantize`
        (already NF4). Writes the adapter in PEFT's layout; it applies to the fp32 base too
        (`tinytune merge-adapter`).

          --data FILE          training data (required; same formats as `tinytune finetune`)
          --base DIR           base model directory (default: the built-in base model)
          --out DIR            output directory (default: runs/qlora)
          --rank R             LoRA rank (default 8)
          --alpha A            LoRA alpha (default 16)
          --targets LIST       comma-separated layer names or all-linear (default)
          --block-size N       NF4 values per absmax block (default 64)
          --no-double-quant    keep the block scales in fp32 (4.5 bits per weight)
          --adam8bit           8-bit blockwise AdamW states
          --steps N            optimizer steps (default 500)
          --batch N            examples per step (default 32)
          --lr X               peak learning rate (default 1.5e-3)
          --seed S             seed (default 1)
        \(SFTOptions.help)
        \(Options.checkpointHelp)
        """,
        run: { try LoRACommand.train($0, quantized: true) })
}

enum MergeAdapterCommand {
    static let command = Command(
        name: "merge-adapter", summary: "fold a LoRA adapter into its base model, writing a plain checkpoint",
        help: """
        Usage: tinytune merge-adapter --adapter DIR --out DIR [--base DIR]

        Loads the base model and the PEFT-layout adapter, computes W + (alpha/r)·B·A for every adapted
        layer, and writes an ordinary Hugging Face checkpoint (config.json, model.safetensors, and the
        tokenizer files: tokenizer.json, tokenizer_config.json, chat_template.jinja) that runs at the base
        model's speed and loads in transformers. (`tinytune export --format gguf` writes a GGUF instead.)

          --adapter DIR   adapter directory written by `tinytune lora` (required)
          --out DIR       output directory (required)
          --base MODEL    a .gguf file or a model directory (default: the built-in base model)
        """,
        run: run)

    static func run(_ arguments: [String]) throws {
        let options = try Options(arguments, valued: ["adapter", "out", "base"])
        guard let adapter = try options.existingPath("adapter") else { throw UsageError(description: "--adapter DIR is required") }
        guard let outPath = options.string("out") else { throw UsageError(description: "--out DIR is required") }
        let (model, tokenizer) = try FinetuneCommand.loadBase(options.existingPath("base"))
        try AdapterFiles.load("default", into: model, from: adapter)
        try LoRA.mergeAndUnload("default", from: model)
        model.setTrainable(true)
        let out = URL(fileURLWithPath: outPath)
        try AtomicDirectory.write(to: out) { staging in
            try ExportCommand.writeHuggingFace(model, tokenizer: tokenizer, base: options.existingPath("base"), to: staging)
        }
        print("wrote \(out.path): the base model with the adapter merged in (Hugging Face layout, with the tokenizer files)")
    }
}
