// EvalCommand.swift — `tinytune eval`: how well a model (and the same model with an adapter) does on a file.
//
// Teaches: the two measurements every fine-tune should be judged by (TaskEvaluator.swift): the mean
// loss on the completion tokens — and its exponential, perplexity, "how many tokens the model hesitates
// between" — and greedy exact match, generated with the KV cache. Printed as a table, base and adapter
// side by side, with a few sample answers to read, then one JSON line per model for scripts.
// Chat-form examples ({"messages"}) are rendered with the model's chat template (ChatFormat.swift), one
// example per assistant turn, exactly as the model sees a conversation at inference; completion-form
// prompts become a user turn under a real chat template and stay as written under the plain layout
// (the built-in model's, as `tinytune finetune` trains it; `--template plain` asks for it on any model).
// Leaves out: sampling-based metrics, per-example output files.
import Foundation
import CommandLineOptions
import NN
import Tokenizers
import Datasets
import Training
import PEFT

enum EvalCommand {
    static let command = Command(
        name: "eval", summary: "score a model (and an adapter) on your JSONL file: loss, perplexity, exact match",
        help: """
        Usage: tinytune eval --data FILE.jsonl [options]

        For each example ({"prompt", "completion"} or {"messages"}, as for `tinytune finetune`): the mean
        cross-entropy of the completion tokens (and perplexity = e^loss), and whether greedy decoding
        reproduces the completion's first line exactly. Examples are rendered with the model's chat
        template (a completion-form prompt as the user's turn); the built-in model uses plain
        "role: content" lines, and completion-form prompts as written. With --adapter, the base model and
        base + adapter are scored side by side. Ends with one JSON line per model.

          --data FILE          examples to score (required)
          --base MODEL         a .gguf file or a model directory (Hugging Face layout or ours; default:
                               the built-in model)
          --adapter DIR        a LoRA adapter (PEFT layout) to compare against the base
        \(ChatFormat.help)
          --samples N          sample answers to show (default 3)
          --limit N            score only the first N examples
        """,
        run: run)

    /// One model's scores.
    struct Row {
        let label: String
        let score: TaskScore
        var perplexity: Double { Foundation.exp(Double(score.loss)) }
    }

    static func run(_ arguments: [String]) throws {
        let options = try Options(arguments, valued: ["data", "base", "adapter", "samples", "limit", ChatFormat.option])
        guard let dataURL = try options.existingPath("data") else { throw UsageError(description: "--data FILE.jsonl is required") }
        // Data and options first: a malformed file should fail in a second, not after loading a model.
        let records = try JSONLines.loadRecords(dataURL)
        guard !records.isEmpty else { throw UsageError(description: "\(dataURL.path): no examples") }
        let limit = options.string("limit") == nil ? nil : try options.int("limit", default: 0, in: 1...Int.max)
        let sampleCount = try options.int("samples", default: 3, in: 0...1000)
        let adapterURL = try options.existingPath("adapter")
        _ = try ChatFormat.override(options)
        let loaded = try InferenceModel.load(base: options.existingPath("base"), adapter: nil)
        let (model, tokenizer) = (loaded.model, loaded.tokenizer)
        writeOut("loaded \(loaded.summary)\n")
        let template = try ChatFormat.forBase(loaded, options: options)
        var examples = records.flatMap { template.examples($0) }
        if let limit { examples = Array(examples.prefix(limit)) }
        writeOut("examples rendered with the \(template.style.rawValue) chat format\n")
        let longest = examples.map { tokenizer.encode($0.prompt + $0.response).count + 1 }.max() ?? 0
        if longest > model.config.contextLength {
            writeOut("note: the longest example has \(longest) tokens; longer ones are cut to the context \(model.config.contextLength) (prompt start dropped)\n")
        }

        // Score the base, keep its sample answers; then install the adapter and do the same.
        func evaluate(_ label: String) -> (Row, [String]) {
            writeOut("scoring \(label) on \(examples.count) examples…\n")
            let score = TaskEvaluator.score(model, tokenizer: tokenizer, examples: examples)
            let answers = examples.prefix(sampleCount).map { example in
                TaskEvaluator.generate(model, tokenizer: tokenizer, prompt: example.prompt,
                                       maxNewTokens: tokenizer.encode(example.response).count + 8)
            }
            return (Row(label: label, score: score), answers)
        }
        var results = [evaluate("base")]
        if let adapterURL {
            try AdapterFiles.load("default", into: model, from: adapterURL)
            model.setTrainable(false)
            results.append(evaluate("base + adapter"))
        }
        writeOut(table(results.map(\.0)) + "\n")
        for (index, example) in examples.prefix(sampleCount).enumerated() {
            writeOut("\nexample \(index + 1)\n  prompt:   \(quoted(example.prompt))\n  expected: \(quoted(example.response))\n")
            for (row, answers) in results { writeOut("  \(row.label.padding(toLength: 15, withPad: " ", startingAt: 0)) \(quoted(answers[index]))\n") }
        }
        writeOut("\n")
        for (row, _) in results { writeOut(jsonLine(row, data: dataURL.path) + "\n") }
    }

    /// The side-by-side table.
    static func table(_ rows: [Row]) -> String {
        var lines = ["model            examples   loss     perplexity   exact match"]
        for row in rows {
            lines.append(row.label.padding(toLength: 16, withPad: " ", startingAt: 0)
                         + String(format: " %8d   %.4f   %10.3f   %6.1f%%", row.score.count, row.score.loss, row.perplexity,
                                  100 * row.score.accuracy))
        }
        return lines.joined(separator: "\n")
    }

    /// One machine-readable line: {"data", "model", "examples", "loss", "perplexity", "exact_match"}.
    static func jsonLine(_ row: Row, data: String) -> String {
        let object: [String: Any] = ["data": data, "model": row.label, "examples": row.score.count,
                                     "loss": Double(row.score.loss), "perplexity": row.perplexity.isFinite ? row.perplexity : NSNull() as Any, "exact_match": row.score.accuracy]
        let bytes = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Text on one line, newlines shown as ⏎, long text cut.
    static func quoted(_ text: String) -> String {
        let flat = text.replacingOccurrences(of: "\n", with: "⏎")
        return "\"" + (flat.count > 100 ? flat.prefix(100) + "…" : flat) + "\""
    }
}
