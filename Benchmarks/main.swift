// main.swift — `swift run -c release bench [group ...] [--quick] [options]`: speed and memory figures.
//
// Every benchmark reports the median of several repetitions and prints a readable table plus one
// JSON object per measurement (lines starting with `{`), so figures can be collected by scripts.
// Groups: gemm (`--shape=MxNxK[:OP],…` for chosen shapes), nf4, step, generate (`--model=DIR` adds a real model). No group named → all of them.
import Foundation

let arguments = Array(CommandLine.arguments.dropFirst())
let quick = arguments.contains("--quick")
// Group names are the words that are neither options nor an option's value.
let valued: Set<String> = ["--setup", "--threads"]
let groups = arguments.enumerated().filter { index, word in
    !word.hasPrefix("--") && !(index > 0 && valued.contains(arguments[index - 1]))
}.map(\.element)
let known: [String: (Bool) -> Void] = ["gemm": { GEMMBench.run(quick: $0, arguments: arguments) }, "nf4": NF4Bench.run,
                                       "step": { StepBench.run(arguments: arguments, quick: $0) },
                                       "generate": GenerateBench.run]
for name in groups where known[name] == nil {
    FileHandle.standardError.write(Data("bench: unknown group '\(name)' (known: \(known.keys.sorted().joined(separator: ", ")))\n".utf8))
    exit(2)
}
for name in ["gemm", "nf4", "step", "generate"] where groups.isEmpty || groups.contains(name) {
    known[name]!(quick)
}
