// main.swift — `swift run -c release bench [group ...] [--quick]`: speed and memory figures.
//
// Every benchmark reports the median of several repetitions and prints a readable table plus one
// JSON object per measurement (lines starting with `{`), so figures can be collected by scripts.
// Groups: gemm, nf4, step, generate (`--model=DIR` adds a real model). No group named → all of them.
import Foundation

let arguments = Array(CommandLine.arguments.dropFirst())
let quick = arguments.contains("--quick")
let groups = arguments.filter { !$0.hasPrefix("--") }
let known: [String: (Bool) -> Void] = ["gemm": GEMMBench.run, "nf4": NF4Bench.run, "step": StepBench.run, "generate": GenerateBench.run]
for name in groups where known[name] == nil {
    FileHandle.standardError.write(Data("bench: unknown group '\(name)' (known: \(known.keys.sorted().joined(separator: ", ")))\n".utf8))
    exit(2)
}
for name in ["gemm", "nf4", "step", "generate"] where groups.isEmpty || groups.contains(name) {
    known[name]!(quick)
}
