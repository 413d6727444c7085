// CommandLineTool.swift — subcommands, their help, and argument parsing with clear errors.
//
// Teaches: nothing about fine-tuning — but every command checks its options up front and fails with
// one clear line and a non-zero exit, never a stack trace.
import Foundation
import CommandLineOptions
import Training

/// The options of tinytune's training commands (the parser itself: CommandLineOptions).
extension Options {
    /// The checkpoint plan of a training command, from `--resume DIR`, `--save-every N` and
    /// `--checkpoint DIR` (where to save; default: the `--resume` directory, else `<out>.checkpoint`).
    /// nil when neither resuming nor saving.
    func checkpointPlan(out: URL) throws -> CheckpointPlan? {
        let resume = try existingPath("resume")
        let every = try int("save-every", default: 0, in: 0...1_000_000)
        guard resume != nil || every > 0 else {
            if string("checkpoint") != nil { throw UsageError(description: "--checkpoint DIR needs --save-every N") }
            return nil
        }
        let directory = string("checkpoint").map { URL(fileURLWithPath: $0) } ?? resume
            ?? out.deletingLastPathComponent().appendingPathComponent(out.lastPathComponent + ".checkpoint")
        return CheckpointPlan(directory: directory, every: every, resumeFrom: resume)
    }

    /// The options every training command takes for checkpoints.
    static let checkpointOptions: Set<String> = ["resume", "save-every", "checkpoint"]

    /// Help lines for `checkpointOptions`.
    static let checkpointHelp = """
          --save-every N       save a training checkpoint every N steps and after the last (default: never)
          --checkpoint DIR     where checkpoints go (default: the --resume DIR, else OUT.checkpoint)
          --resume DIR         continue the run saved in DIR (same data, base and options): the losses are
                               bitwise those of a run that never stopped
        """
}

/// One subcommand.
struct Command: Sendable {
    let name: String
    let summary: String
    let help: String
    let run: @Sendable ([String]) throws -> Void
}

enum CommandLineTool {
    static let commands: [Command] = [TourCommand.command, PretrainCommand.command, FinetuneCommand.command,
                                      LoRACommand.command, QLoRACommand.command, MergeAdapterCommand.command,
                                      QuantizeCommand.command, MergeCommand.command, ExportCommand.command,
                                      GenerateCommand.command, ChatCommand.command, EvalCommand.command]

    static let overview = """
    tinytune — fine-tuning language models, explained in code and measured.

    Usage: swift run -c release tinytune [command] [options]

    With no command, runs the tour. Commands:
    \(commands.map { "  " + $0.name.padding(toLength: 15, withPad: " ", startingAt: 0) + $0.summary }.joined(separator: "\n"))

    `tinytune <command> --help` explains a command's options.
    """

    /// Runs the command line; returns the exit code.
    static func main(_ arguments: [String]) -> Int32 {
        if arguments.first == "--help" || arguments.first == "-h" || arguments.first == "help" {
            print(overview)
            return 0
        }
        let (name, rest) = arguments.first.map { $0.hasPrefix("--") ? ("tour", arguments) : ($0, Array(arguments.dropFirst())) }
            ?? ("tour", [])
        guard let command = commands.first(where: { $0.name == name }) else {
            printError("tinytune: unknown command '\(name)' (try `tinytune --help`)")
            return 2
        }
        if rest.contains("--help") || rest.contains("-h") {
            print(command.help)
            return 0
        }
        do {
            try command.run(rest)
            return 0
        } catch let error as UsageError {
            printError("tinytune \(command.name): \(error.description)")
            return 2
        } catch {
            printError("tinytune \(command.name): \(error)")
            return 1
        }
    }

    static func printError(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }
}
