// CommandLineOptions.swift — one parser for every command line the project reads: tinytune's
// subcommands and the chapters' flags.
//
// Teaches: nothing about fine-tuning — but a typo in a flag must never silently run the default
// experiment for twenty minutes. So every option is declared up front (valued options take the next
// argument, switches take none), anything else is refused with one line naming it, and every value is
// checked against its range when it is read, with an error naming the option and the text it got.
// Leaves out: short options (-n), `--name=value`, positional arguments, generated help text (each
// command writes its own).
import Foundation

/// A bad command line, reported as one line (the caller prefixes its program name and exits 2).
public struct UsageError: Error, CustomStringConvertible {
    public let description: String

    /// An error that prints as `description`.
    public init(description: String) { self.description = description }
}

/// Parsed `--name value` options and `--name` switches of one command line.
public struct Options: Sendable {
    private var values: [String: String] = [:]
    private var switches: Set<String> = []

    /// Parses `arguments` (without the program name), allowing only the options in `valued` (each takes
    /// the argument after it as its value) and the switches in `switches` (names without the `--`).
    /// Throws `UsageError` on anything else: a bare word, an unknown name, a valued option at the end.
    public init(_ arguments: [String], valued: Set<String>, switches allowedSwitches: Set<String> = []) throws {
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            guard argument.hasPrefix("--") else { throw UsageError(description: "unexpected argument '\(argument)'") }
            let name = String(argument.dropFirst(2))
            if allowedSwitches.contains(name) {
                switches.insert(name)
            } else if valued.contains(name) {
                guard index + 1 < arguments.count else { throw UsageError(description: "option --\(name) needs a value") }
                values[name] = arguments[index + 1]
                index += 1
            } else {
                let known = (valued.union(allowedSwitches)).sorted().map { "--" + $0 }.joined(separator: ", ")
                throw UsageError(description: "unknown option '--\(name)' (known: \(known))")
            }
            index += 1
        }
    }

    /// Whether the switch `name` was given.
    public func flag(_ name: String) -> Bool { switches.contains(name) }

    /// The text of option `name`, or nil when it was not given.
    public func string(_ name: String) -> String? { values[name] }

    /// Option `name` as an integer in `range`; nil when it was not given.
    public func int(_ name: String, in range: ClosedRange<Int> = 1...Int.max) throws -> Int? {
        try number(name, in: range, kind: "an integer", parse: Int.init)
    }

    /// Option `name` as an integer in `range`, or `value` when it was not given.
    public func int(_ name: String, default value: Int, in range: ClosedRange<Int> = 1...Int.max) throws -> Int {
        try int(name, in: range) ?? value
    }

    /// Option `name` as a number in `range`; nil when it was not given.
    public func float(_ name: String, in range: ClosedRange<Float>) throws -> Float? {
        try number(name, in: range, kind: "a number", parse: Float.init)
    }

    /// Option `name` as a number in `range`, or `value` when it was not given.
    public func float(_ name: String, default value: Float, in range: ClosedRange<Float>) throws -> Float {
        try float(name, in: range) ?? value
    }

    /// Option `name` as a double-precision number in `range`; nil when it was not given.
    public func double(_ name: String, in range: ClosedRange<Double>) throws -> Double? {
        try number(name, in: range, kind: "a number", parse: Double.init)
    }

    /// Option `name` as comma-separated words (spaces around each trimmed); nil when it was not given.
    /// An empty word (`a,,b`, a trailing comma) is refused.
    public func strings(_ name: String) throws -> [String]? {
        guard let text = values[name] else { return nil }
        let words = text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        guard !words.contains(where: \.isEmpty) else {
            throw UsageError(description: "--\(name) wants words separated by commas, got '\(text)'")
        }
        return words
    }

    /// Option `name` as comma-separated numbers, each in `range`; nil when it was not given.
    public func floats(_ name: String, in range: ClosedRange<Float>) throws -> [Float]? {
        guard let words = try strings(name) else { return nil }
        return try words.map { word in
            guard let number = Float(word), range.contains(number) else {
                throw UsageError(description: "--\(name) wants numbers in \(range.lowerBound)…\(range.upperBound) separated by commas, got '\(word)'")
            }
            return number
        }
    }

    /// Option `name` as a path that exists (file or directory); nil when it was not given.
    public func existingPath(_ name: String) throws -> URL? {
        guard let path = values[name] else { return nil }
        guard FileManager.default.fileExists(atPath: path) else { throw UsageError(description: "--\(name): no such file or directory '\(path)'") }
        return URL(fileURLWithPath: path)
    }

    /// A program's whole life: parses its arguments (without the program name) and runs `body` with them.
    /// A `UsageError` (a bad command line) prints "`program`: message" on standard error and exits 2; any
    /// other error prints the same way on standard output and exits 1; success exits 0.
    public static func run(_ program: String, valued: Set<String>, switches: Set<String> = [],
                           arguments: [String] = Array(CommandLine.arguments.dropFirst()),
                           _ body: (Options) throws -> Void) -> Never {
        do {
            try body(try Options(arguments, valued: valued, switches: switches))
            exit(0)
        } catch let error as UsageError {
            FileHandle.standardError.write(Data("\(program): \(error)\n".utf8))
            exit(2)
        } catch {
            print("\(program): \(error)")
            exit(1)
        }
    }

    /// The value of `name` read by `parse` and checked against `range` (nil when absent).
    private func number<T: Comparable>(_ name: String, in range: ClosedRange<T>, kind: String, parse: (String) -> T?) throws -> T? {
        guard let text = values[name] else { return nil }
        guard let number = parse(text), range.contains(number) else {
            throw UsageError(description: "--\(name) must be \(kind) in \(range.lowerBound)…\(range.upperBound), got '\(text)'")
        }
        return number
    }
}
