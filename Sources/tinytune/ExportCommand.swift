// ExportCommand.swift — `tinytune export`: a model (with its adapter merged in) in the formats other tools read.
//
// Teaches: a fine-tune is only useful if it leaves TinyTune. Two destinations cover most of the ecosystem:
//   gguf  one file for llama.cpp, ollama, LM Studio — and transformers (`from_pretrained(dir, gguf_file=…)`):
//         the Llama tensors under llama.cpp's names (Q/K rows permuted for its RoPE) in F32, F16, Q8_0 or
//         Q4_0 blocks (GGUF+Writer.swift), the `llama.*` hyperparameters, the tokenizer as
//         `tokenizer.ggml.*` and the chat template as `tokenizer.chat_template`, so the file is complete;
//   hf    a Hugging Face directory (config.json, model.safetensors in F32, and the tokenizer files:
//         tokenizer.json, tokenizer_config.json with the special tokens, chat_template.jinja) that
//         `AutoModelForCausalLM.from_pretrained` and `AutoTokenizer.from_pretrained` load.
// The base is decoded to fp32 first (a packed GGUF too), the LoRA adapter folded in (W + s·B·A), and the
// result re-encoded: exporting a Q4_1 base as Q4_0 re-quantizes already-rounded values (lossy twice).
// Also what `tinytune merge-adapter` writes (`--format hf`).
// Leaves out: k-quant export (Q4_K, Q6_K), sharded safetensors, bf16/f16 safetensors, the GPT-2 flavour in GGUF.
import Foundation
import CommandLineOptions
import NN
import Tokenizers
import Checkpoints
import Training
import PEFT

enum ExportCommand {
    static let command = Command(
        name: "export", summary: "write a model (+ merged adapter) as GGUF or a Hugging Face directory",
        help: """
        Usage: tinytune export --base MODEL --out PATH [--adapter DIR] [--format gguf|hf] [--type TYPE]

        Loads MODEL (a .gguf file, a Hugging Face directory or ours), merges the LoRA adapter if given, and
        writes it with its tokenizer and chat template:
          --format gguf   one .gguf file (llama.cpp, ollama, transformers' gguf_file=) — the default
          --format hf     a directory: config.json, model.safetensors (F32), tokenizer.json,
                          tokenizer_config.json, chat_template.jinja

          --base MODEL    the model to export (required; Llama architecture for GGUF)
          --adapter DIR   a LoRA adapter (PEFT layout) to merge in first
          --out PATH      the .gguf file or the directory to write (required; replaced atomically)
          --format F      gguf (default) or hf
          --type T        GGUF matrix type: f32, f16 (default), bf16, q8_0, q4_0, q4_1
                          (norms stay F32, as llama.cpp's converter does)
          --name TEXT     general.name in the GGUF file (default: the output file's name)
        """,
        run: run)

    static func run(_ arguments: [String]) throws {
        let options = try Options(arguments, valued: ["base", "adapter", "out", "format", "type", "name"])
        guard let base = try options.existingPath("base") else { throw UsageError(description: "--base MODEL is required") }
        guard let outPath = options.string("out") else { throw UsageError(description: "--out PATH is required") }
        let format = options.string("format") ?? "gguf"
        guard ["gguf", "hf"].contains(format) else { throw UsageError(description: "--format must be gguf or hf, got '\(format)'") }
        let type = try tensorType(options.string("type") ?? "f16")
        if format == "hf" && options.string("type") != nil { throw UsageError(description: "--type is for --format gguf (hf is written as F32)") }
        let out = URL(fileURLWithPath: outPath)

        let (model, tokenizer) = try mergedModel(base: base, adapter: options.existingPath("adapter"))
        if format == "gguf" {
            guard let bpe = tokenizer as? ByteLevelBPE else {
                throw UsageError(description: "\(base.path): GGUF export needs a byte-level BPE tokenizer (this model's is TinyTune's character tokenizer)")
            }
            guard model.config.flavour == .llama else {
                throw UsageError(description: "\(base.path): GGUF export writes the Llama architecture; this model is \(model.config.flavour.rawValue)")
            }
            var metadata = try GGUFTokenizerMetadata(exporting: bpe).ggufValues
            if let template = try chatTemplateText(of: base) { metadata.append(("tokenizer.chat_template", .string(template))) }
            let name = options.string("name") ?? out.deletingPathExtension().lastPathComponent
            try ModelCheckpoint.saveGGUF(model, to: out, type: type, name: name, extraMetadata: metadata)
            print("wrote \(out.path): GGUF, \(type.name) matrices, tokenizer (\(bpe.vocabularySize) tokens) and chat template")
        } else {
            try AtomicDirectory.write(to: out) { staging in
                try writeHuggingFace(model, tokenizer: tokenizer, base: base, to: staging)
            }
            print("wrote \(out.path): config.json, model.safetensors and the tokenizer files")
        }
    }

    /// The GGUF type called `name` (f32, f16, bf16, q8_0, q4_0, q4_1).
    static func tensorType(_ name: String) throws -> GGUF.TensorType {
        guard let type = GGUF.TensorType.encodable.first(where: { $0.name.lowercased() == name.lowercased() }) else {
            throw UsageError(description: "--type must be one of \(GGUF.TensorType.encodable.map { $0.name.lowercased() }.joined(separator: ", ")), got '\(name)'")
        }
        return type
    }

    /// The base decoded to fp32 with the adapter (if any) merged in.
    static func mergedModel(base: URL?, adapter: URL?) throws -> (model: GPT, tokenizer: any Tokenizer) {
        let (model, tokenizer) = try FinetuneCommand.loadBase(base)
        if let adapter {
            try AdapterFiles.load("default", into: model, from: adapter)
            try LoRA.mergeAndUnload("default", from: model)
            print("merged the adapter \(adapter.path)")
        }
        model.setTrainable(true)
        return (model, tokenizer)
    }

    /// The Jinja chat template of a base: a GGUF file's `tokenizer.chat_template`, a directory's files.
    static func chatTemplateText(of base: URL?) throws -> String? {
        guard let base else { return nil }
        if base.pathExtension.lowercased() == "gguf" {
            return try GGUF.File(contentsOf: base).metadata["tokenizer.chat_template"]?.string
        }
        return try TokenizerDirectory.chatTemplateText(base)
    }

    /// The tokenizer files copied from a Hugging Face base as they are.
    static let huggingFaceTokenizerFiles = ["tokenizer.json", "tokenizer_config.json", "chat_template.jinja",
                                            "special_tokens_map.json", "generation_config.json"]

    /// Writes `model` and its tokenizer into `directory` as a Hugging Face checkpoint. A Hugging Face base's
    /// tokenizer files are copied; otherwise tokenizer.json is written from `tokenizer`, with (byte-level
    /// BPE) a tokenizer_config.json naming its special tokens and the base's chat template.
    static func writeHuggingFace(_ model: GPT, tokenizer: any Tokenizer, base: URL?, to directory: URL) throws {
        try ModelCheckpoint.save(model, to: directory)
        if let base, base.pathExtension.lowercased() != "gguf",
           FileManager.default.fileExists(atPath: base.appendingPathComponent("tokenizer_config.json").path) {
            for name in huggingFaceTokenizerFiles where FileManager.default.fileExists(atPath: base.appendingPathComponent(name).path) {
                try AtomicFile.write(try Data(contentsOf: base.appendingPathComponent(name)), to: directory.appendingPathComponent(name))
            }
            return
        }
        try FinetuneCommand.saveTokenizer(tokenizer, to: directory)
        guard let bpe = tokenizer as? ByteLevelBPE else { return }
        var config: [String: Any] = ["tokenizer_class": "PreTrainedTokenizerFast", "model_max_length": model.config.contextLength,
                                     "clean_up_tokenization_spaces": false]
        for (key, id) in [("bos_token", bpe.bos), ("eos_token", bpe.eos), ("pad_token", bpe.padding)] {
            if let id, let token = bpe.token(for: id) { config[key] = token }
        }
        try AtomicFile.write(try JSONSerialization.data(withJSONObject: config, options: [.prettyPrinted, .sortedKeys]),
                             to: directory.appendingPathComponent("tokenizer_config.json"))
        if let template = try chatTemplateText(of: base) {
            try AtomicFile.write(Data(template.utf8), to: directory.appendingPathComponent("chat_template.jinja"))
        }
    }
}
