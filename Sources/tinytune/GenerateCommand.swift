// GenerateCommand.swift — `tinytune generate`: continue a prompt (or answer it as a chat turn), streaming.
//
// Teaches: the inference side of the book. Load a base (the built-in model, a GGUF file or a Hugging
// Face directory), optionally a LoRA adapter on it, and run NN's KV-cached generation: one prefill pass
// over the prompt, then one position per token, each printed as soon as it is picked. The closing
// line gives prefill and decode speed separately (tokens/s), because they are different workloads.
// Also holds what `chat` and `eval` share: loading base + adapter, the sampling options, and
// printing a token stream as text.
import Foundation
import CommandLineOptions
import Kernels
import Autodiff
import NN
import Tokenizers
import Checkpoints
import PEFT

/// A model ready for inference: base, optional adapter, tokenizer, where it came from.
struct InferenceModel {
    let model: GPT
    let tokenizer: any Tokenizer
    /// The `--base` GGUF file or directory (nil: the built-in model).
    let base: URL?
    /// What was loaded, for the first line of output.
    let summary: String

    /// Loads `--base` (default: the built-in model) and, when `adapter` is given, the LoRA adapter in it.
    static func load(base: URL?, adapter: URL?) throws -> InferenceModel {
        let (model, tokenizer) = try FinetuneCommand.loadBase(base, allowQuantized: true)
        let count = Double(model.computedParameterCount())
        var summary = "\(base?.path ?? "built-in base model"): \(model.config.flavour.rawValue), "
            + (count >= 1e6 ? String(format: "%.1fM", count / 1e6) : String(format: "%.1fK", count / 1e3))
            + " parameters, context \(model.config.contextLength)"
        if let adapter {
            try AdapterFiles.load("default", into: model, from: adapter)
            summary += String(format: " + adapter %@ (%d parameters)", adapter.path, LoRA.parameterCount("default", in: model))
        }
        model.setTrainable(false)   // inference only: no gradient buffers, whatever the files said
        model.prepackForInference() // dense block weights packed once for the GEMM (NN/GPT+Prepack.swift)
        return InferenceModel(model: model, tokenizer: tokenizer, base: base, summary: summary)
    }

    /// Options shared by the inference commands.
    static let sharedOptions: Set<String> = ["base", "adapter", "max-tokens", "temperature", "top-k", "top-p", "seed", ChatFormat.option]

    /// `--temperature T` (0 = greedy, the default), `--top-k K`, `--top-p P`.
    static func sampling(_ options: Options) throws -> SamplingOptions {
        let temperature = try options.float("temperature", default: 0, in: 0...100)
        let topK = options.string("top-k") == nil ? nil : try options.int("top-k", default: 0, in: 1...1_000_000)
        let topP = options.string("top-p") == nil ? nil : try options.float("top-p", default: 1, in: 1e-6...1)
        if temperature == 0 && (topK != nil || topP != nil) {
            throw UsageError(description: "--top-k/--top-p need sampling: give --temperature > 0 (0 is greedy)")
        }
        return SamplingOptions(temperature: temperature, topK: topK, topP: topP)
    }

    /// The tokens of `text`, refused when they leave no room for a reply in the context.
    func promptTokens(_ text: String, reserving reply: Int = 1) throws -> [Int] {
        let ids = tokenizer.encode(text)
        let room = model.config.contextLength - model.virtualTokenCount
        guard !ids.isEmpty else { throw UsageError(description: "the prompt is empty") }
        guard ids.count + reply <= room else {
            throw UsageError(description: "the prompt has \(ids.count) tokens; the context holds \(room) (shorten it, or lower --max-tokens)")
        }
        return ids
    }

    /// Writes the full forward pass's logits for `ids` (one row per position) and the ids to `url`
    /// (safetensors, atomically): "logits" F32 [T, V], "tokens" I32 [T].
    func dumpLogits(_ ids: [Int], to url: URL) throws {
        let logits = Tensor.withNoGrad { model(ids.map(Int32.init), batch: 1, steps: ids.count) }
        let tokenBytes = ids.reduce(into: Data()) { data, id in withUnsafeBytes(of: Int32(id).littleEndian) { data.append(contentsOf: $0) } }
        try SafeTensors.write([try SafeTensors.NamedTensor(name: "logits", shape: [ids.count, model.config.vocabularySize], floats: logits.values),
                               SafeTensors.NamedTensor(name: "tokens", dtype: .i32, shape: [ids.count], bytes: tokenBytes)], to: url)
        writeOut("wrote \(url.path): logits [\(ids.count), \(model.config.vocabularySize)] of the prompt\n")
    }
}

/// Prints generated tokens as text as they arrive (a token can end inside a UTF-8 character:
/// the text is re-decoded and only complete new characters are written).
struct TokenPrinter {
    let tokenizer: any Tokenizer
    private var tokens: [Int] = []
    private var printed = 0   // Unicode scalars already written

    init(tokenizer: any Tokenizer) { self.tokenizer = tokenizer }

    /// Adds one token and writes what became printable.
    mutating func add(_ token: Int) {
        tokens.append(token)
        let scalars = Array(tokenizer.decode(tokens).unicodeScalars)
        // Hold back a trailing replacement character: the next token may complete it.
        let ready = scalars.last == "\u{FFFD}" ? scalars.count - 1 : scalars.count
        guard ready > printed else { return }
        var text = String.UnicodeScalarView()
        text.append(contentsOf: scalars[printed..<ready])
        printed = ready
        write(String(text))
    }

    /// The whole reply as text.
    var text: String { tokenizer.decode(tokens) }

    func write(_ text: String) { writeOut(text) }
}

/// Writes to standard output unbuffered, so a pipe sees each token as it comes (after flushing
/// whatever `print` still buffers, to keep the order).
func writeOut(_ text: String) {
    fflush(nil)
    FileHandle.standardOutput.write(Data(text.utf8))
}

/// "prefill 12 tokens 85.1 tok/s · decode 64 tokens 31.2 tok/s (stop token)".
func speedLine(_ result: Generation) -> String {
    String(format: "prefill %d tokens %.1f tok/s · decode %d tokens %.1f tok/s (%@)",
           result.prefillTokens, result.prefillTokensPerSecond, result.decodeSteps, result.decodeTokensPerSecond,
           result.stopReason == .stopToken ? "stop token" : "token limit")
        + (result.reusedTokens > 0 ? " · \(result.reusedTokens) cached" : "")
        + (result.contextShifts > 0 ? " · context full, kept its last part \(result.contextShifts)×" : "")
}

enum GenerateCommand {
    static let command = Command(
        name: "generate", summary: "continue a prompt with a model (KV cache, streaming, tokens/s)",
        help: """
        Usage: tinytune generate --prompt TEXT [options]

        Streams the model's continuation of TEXT token by token, then one line with prefill and decode
        speed. With --chat, TEXT is a user message rendered with the model's chat template (read from
        the GGUF file or the model directory: ChatML for SmolLM2/Qwen, Llama 3; "user: …\\nassistant: "
        for the built-in model) and generation stops at the end of the assistant turn.

          --prompt TEXT        the prompt (required)
          --base MODEL         a .gguf file or a model directory (Hugging Face layout or ours; default:
                               the built-in model)
          --adapter DIR        a LoRA adapter (PEFT layout, e.g. from `tinytune lora`) to apply
          --chat               render TEXT as a chat turn
        \(ChatFormat.help)
          --dump-logits FILE   also write the prompt's logits [tokens, vocabulary] and token ids to FILE
                               (safetensors: "logits" F32, "tokens" I32), e.g. to compare with PyTorch
          --max-tokens N       most new tokens (default 128)
          --temperature T      0 = greedy (default); otherwise sample at temperature T
          --top-k K            sample among the K most likely tokens
          --top-p P            sample from the smallest set of tokens with probability ≥ P (nucleus)
          --seed S             sampling seed (default 0)
        """,
        run: run)

    static func run(_ arguments: [String]) throws {
        let options = try Options(arguments, valued: InferenceModel.sharedOptions.union(["prompt", "dump-logits"]), switches: ["chat"])
        guard let prompt = options.string("prompt") else { throw UsageError(description: "--prompt TEXT is required") }
        let sampling = try InferenceModel.sampling(options)
        var maxTokens = try options.int("max-tokens", default: 128, in: 1...1_000_000)
        _ = try ChatFormat.override(options)   // a bad --template fails before the model loads
        var rng = RNG(seed: UInt64(try options.int("seed", default: 0, in: 0...Int.max)))
        let loaded = try InferenceModel.load(base: options.existingPath("base"), adapter: options.existingPath("adapter"))
        writeOut("loaded \(loaded.summary)\n")
        // --template names a chat format, so it implies --chat.
        let chat = options.flag("chat") || options.string(ChatFormat.option) != nil
        let format = chat ? try ChatFormat.forBase(loaded, options: options) : nil
        let text = format?.render([ChatMessage(role: "user", content: prompt)], addGenerationPrompt: true) ?? prompt
        let ids = try loaded.promptTokens(text)
        if let path = options.string("dump-logits") { try loaded.dumpLogits(ids, to: URL(fileURLWithPath: path)) }
        let room = loaded.model.config.contextLength - loaded.model.virtualTokenCount
        if ids.count + maxTokens > room {
            maxTokens = room - ids.count
            writeOut("note: the context holds \(room) tokens; generating at most \(maxTokens)\n")
        }
        let stops = format?.stopTokens(loaded.tokenizer) ?? Set(loaded.tokenizer.endOfText.map { [$0] } ?? [])
        var printer = TokenPrinter(tokenizer: loaded.tokenizer)
        printer.write(format == nil ? prompt : "")
        let result = loaded.model.generate(prompt: ids, request: GenerationRequest(maxNewTokens: maxTokens, sampling: sampling, stopTokens: stops),
                                           rng: &rng) { printer.add($0) }
        writeOut("\n— " + speedLine(result) + "\n")
    }
}
