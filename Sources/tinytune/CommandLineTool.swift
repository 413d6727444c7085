// CommandLineTool.swift — subcommands, their help, and argument parsing with clear errors.
//
// Teaches: nothing about fine-tuning — but every command checks its options up front and fails with
// one clear line and a non-zero exit, never a stack trace.
import Foundation
import Training

/// A bad command line, reported as one line.
struct UsageError: Error, CustomStringConvertible {
    let description: String
}

/// Parsed `--name value` options and flags of one command.
struct Options {
    private var values: [String: String] = [:]
    private var flags: Set<String> = []

    /// Parses `arguments` allowing only `valued` options (which take a value) and `switches` (which do not).
    init(_ arguments: [String], valued: Set<String>, switches: Set<String> = []) throws {
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            guard argument.hasPrefix("--") else { throw UsageError(description: "unexpected argument '\(argument)'") }
            let name = String(argument.dropFirst(2))
            if switches.contains(name) {
                flags.insert(name)
            } else if valued.contains(name) {
                guard index + 1 < arguments.count else { throw UsageError(description: "option --\(name) needs a value") }
                values[name] = arguments[index + 1]
                index += 1
            } else {
                throw UsageError(description: "unknown option '--\(name)'")
            }
            index += 1
        }
    }

    /// Whether a switch was given.
    func flag(_ name: String) -> Bool { flags.contains(name) }

    /// A string option.
    func string(_ name: String) -> String? { values[name] }

    /// An integer option within `range`.
    func int(_ name: String, default value: Int, in range: ClosedRange<Int> = 1...Int.max) throws -> Int {
        guard let text = values[name] else { return value }
        guard let number = Int(text), range.contains(number) else {
            throw UsageError(description: "--\(name) must be an integer in \(range.lowerBound)…\(range.upperBound), got '\(text)'")
        }
        return number
    }

    /// A floating-point option within `range`.
    func float(_ name: String, default value: Float, in range: ClosedRange<Float>) throws -> Float {
        guard let text = values[name] else { return value }
        guard let number = Float(text), range.contains(number) else {
            throw UsageError(description: "--\(name) must be a number in \(range.lowerBound)…\(range.upperBound), got '\(text)'")
        }
        return number
    }

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

    /// An existing file or directory path.
    func existingPath(_ name: String) throws -> URL? {
        guard let path = values[name] else { return nil }
        guard FileManager.default.fileExists(atPath: path) else { throw UsageError(description: "--\(name): no such file or directory '\(path)'") }
        return URL(fileURLWithPath: path)
    }
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
                                      QuantizeCommand.command, MergeCommand.command,
                                      GenerateCommand.command, ChatCommand.command, EvalCommand.command]

    static let overview = """
    tinytune — fine-tuning language models, explained in code and measured.

    Usage: swift run -c release tinytune [command] [options]

    With no command, runs the tour. Commands:
    \(commands.map { "  " + $0.name.padding(toLength: 12, withPad: " ", startingAt: 0) + $0.summary }.joined(separator: "\n"))

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
