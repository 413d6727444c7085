// MergeCommand.swift — `tinytune merge CONFIG.json`: merge checkpoints as a mergekit-style config says.
import Foundation
import CommandLineOptions
import NN
import Checkpoints
import Merging

enum MergeCommand {
    static let command = Command(
        name: "merge", summary: "merge model checkpoints as a mergekit-style JSON config says",
        help: """
        Usage: tinytune merge CONFIG.json --out DIR

        Merges checkpoints (directories with config.json and model.safetensors, e.g. written by
        `tinytune finetune`) tensor by tensor. CONFIG.json uses mergekit's field names:
          {"merge_method": "ties", "base_model": "runs/base",
           "models": [{"model": "runs/a", "parameters": {"weight": 1, "density": 0.5}},
                      {"model": "runs/b", "parameters": {"weight": 1, "density": 0.5}}],
           "parameters": {"lambda": 1.0}}
        Methods: linear, task_arithmetic, slerp (parameters.t), ties, dare_linear, dare_ties, breadcrumbs
        (parameters.gamma), model_stock, passthrough ("slices": [{"sources": [{"model": …, "layer_range": [0, 2]}]}]).
        The tokenizer.json of the first model is copied to the output.

          --out DIR   output directory (required)
        """,
        run: run)

    static func run(_ arguments: [String]) throws {
        guard let configPath = arguments.first, !configPath.hasPrefix("--") else {
            throw UsageError(description: "the first argument must be the config file (see --help)")
        }
        let options = try Options(Array(arguments.dropFirst()), valued: ["out"])
        guard let outPath = options.string("out") else { throw UsageError(description: "--out DIR is required") }
        let configURL = URL(fileURLWithPath: configPath)
        guard let data = try? Data(contentsOf: configURL) else { throw UsageError(description: "cannot read \(configPath)") }
        let config = try MergeConfig(json: data, file: configPath)
        var cache: [String: GPT] = [:]
        let merged = try ModelMerge.run(config) { path in
            if let model = cache[path] { return model }
            let model = try ModelCheckpoint.load(directory: URL(fileURLWithPath: path))
            cache[path] = model
            return model
        }
        let out = URL(fileURLWithPath: outPath)
        let firstModel = config.baseModel ?? config.models.first?.model ?? config.slices.first?.model
        let tokenizer = firstModel.flatMap { try? Data(contentsOf: URL(fileURLWithPath: $0).appendingPathComponent("tokenizer.json")) }
        try AtomicDirectory.write(to: out) { staging in
            try ModelCheckpoint.save(merged, to: staging)
            if let tokenizer { try AtomicFile.write(tokenizer, to: staging.appendingPathComponent("tokenizer.json")) }
        }
        print("wrote \(out.path): \(config.method) merge, \(merged.parameterCount()) parameters, \(merged.config.layers) blocks")
    }
}
