// ChatCommand.swift — `tinytune chat`: an interactive conversation over standard input.
//
// Teaches: a chat is the same generation, repeated over a growing transcript. Each user line is
// added to the conversation, the whole conversation is rendered with the model's chat template, and
// the reply is generated — but a `GenerationSession` keeps the KV cache between turns, so only the
// new part of the transcript is prefilled. When the transcript outgrows the context, the oldest
// turns are dropped (the system prompt stays). Works the same when stdin is a pipe.
// Leaves out: line editing and history (use a terminal's own, or rlwrap), multi-line input.
import Foundation
import CommandLineOptions
import Kernels
import NN
import Tokenizers

enum ChatCommand {
    static let command = Command(
        name: "chat", summary: "talk to a model interactively (stdin, streaming replies, /reset)",
        help: """
        Usage: tinytune chat [options]

        Reads one message per line from standard input and streams the model's reply, keeping the
        conversation (rendered with the model's chat template). `/reset` starts a new conversation;
        end of input (Ctrl-D, or the end of a piped file) quits. Speed per reply goes to stderr.

          --base MODEL         a .gguf file or a model directory (Hugging Face layout or ours; default:
                               the built-in model)
          --adapter DIR        a LoRA adapter (PEFT layout) to apply
          --system TEXT        system prompt (default: the template's own, if it has one)
        \(ChatFormat.help)
          --max-tokens N       most tokens per reply (default 256)
          --temperature T      0 = greedy (default); otherwise sample at temperature T
          --top-k K, --top-p P as for `tinytune generate`
          --seed S             sampling seed (default 0)
        """,
        run: run)

    static func run(_ arguments: [String]) throws {
        let options = try Options(arguments, valued: InferenceModel.sharedOptions.union(["system"]))
        let sampling = try InferenceModel.sampling(options)
        let maxTokens = try options.int("max-tokens", default: 256, in: 1...1_000_000)
        _ = try ChatFormat.override(options)   // a bad --template fails before the model loads
        var rng = RNG(seed: UInt64(try options.int("seed", default: 0, in: 0...Int.max)))
        let loaded = try InferenceModel.load(base: options.existingPath("base"), adapter: options.existingPath("adapter"))
        let format = try ChatFormat.forBase(loaded, options: options)
        let stops = format.stopTokens(loaded.tokenizer)
        let system = options.string("system").map { [ChatMessage(role: "system", content: $0)] } ?? []
        let session = GenerationSession(model: loaded.model)
        let interactive = isatty(STDIN_FILENO) == 1
        writeOut("loaded \(loaded.summary)\nType a message and press return; /reset starts over; end of input quits.\n")

        var messages = system
        while true {
            if interactive { writeOut("> ") }
            guard let line = readLine() else { break }
            let text = line.trimmingCharacters(in: .whitespaces)
            if text.isEmpty { continue }
            if text == "/reset" {
                messages = system
                session.reset()
                writeOut("(new conversation)\n")
                continue
            }
            messages.append(ChatMessage(role: "user", content: text))
            // Fit the transcript: drop the oldest turns until the prompt leaves room for a reply.
            var ids = loaded.tokenizer.encode(format.render(messages, addGenerationPrompt: true))
            while ids.count + min(maxTokens, 16) > session.room && messages.count > system.count + 1 {
                messages.remove(at: system.count)
                ids = loaded.tokenizer.encode(format.render(messages, addGenerationPrompt: true))
                CommandLineTool.printError("(context full: dropped the oldest turn)")
            }
            guard ids.count < session.room else {
                CommandLineTool.printError("(that message has \(ids.count) tokens with the template; the context holds \(session.room) — not sent)")
                messages.removeLast()
                continue
            }
            if !interactive { writeOut("> \(text)\n") }
            var printer = TokenPrinter(tokenizer: loaded.tokenizer)
            let budget = min(maxTokens, session.room - ids.count)
            let result = session.generate(context: ids, request: GenerationRequest(maxNewTokens: budget, sampling: sampling, stopTokens: stops),
                                          rng: &rng) { printer.add($0) }
            writeOut("\n")
            CommandLineTool.printError("  [" + speedLine(result) + "]")
            messages.append(ChatMessage(role: "assistant", content: printer.text))
        }
    }
}
