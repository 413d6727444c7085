// Chapter 13 — run with `swift run -c release chapter13` (uses the cached base model).
//
// Flags, for re-running one part or trying another recipe (each value is checked; a bad one exits 2):
//   --tasks A,B              the two tasks (reverse, record, arithmetic, facts; default reverse,record)
//   --parts 2,3              run only these parts (1 from the base, 2 full fine-tunes of the generalist,
//                            3 LoRA fine-tunes of it)
//   --replay S               share S (0…<1) of 128-character pretraining windows in every fine-tune; 0: none
//   --generalist-steps N     multi-task steps that make the shared generalist (each steps flag keeps
//                            the recipe's warmup share, 10%: SFTRecipe.withSteps)
//   --lora-lr X, --lora-steps N   the LoRA fine-tunes of part 3
//   --lora-rank R            their rank (α = 2R)
//   --lora-targets a,b       the layers they wrap, e.g. attn.c_attn,attn.c_proj (default all-linear)
import Foundation
import Chapter13Merging
import Experiments
import Datasets

/// The value after `flag`, parsed by `parse`; nil when the flag is absent; exits 2 naming the flag when
/// the value is missing or does not parse.
func value<T>(_ flag: String, _ parse: (String) -> T?) -> T? {
    let arguments = CommandLine.arguments
    guard let index = arguments.firstIndex(of: flag) else { return nil }
    guard index + 1 < arguments.count, let parsed = parse(arguments[index + 1]) else {
        FileHandle.standardError.write(Data("chapter13: \(flag) needs a valid value (see the top of main.swift)\n".utf8))
        exit(2)
    }
    return parsed
}

// An unknown flag is refused rather than ignored: a typo must not silently run the standard chapter.
let knownFlags: Set<String> = ["--tasks", "--parts", "--replay", "--generalist-steps", "--lora-lr", "--lora-steps", "--lora-rank", "--lora-targets"]
for (index, argument) in CommandLine.arguments.enumerated().dropFirst() where argument.hasPrefix("--") && !knownFlags.contains(argument) {
    let isValue = index > 1 && knownFlags.contains(CommandLine.arguments[index - 1])
    if !isValue {
        FileHandle.standardError.write(Data("chapter13: unknown flag \(argument); known: \(knownFlags.sorted().joined(separator: ", "))\n".utf8))
        exit(2)
    }
}

var config = Chapter13Merging.Config.standard
if let tasks = value("--tasks", { text -> (SFTTask, SFTTask)? in
    let named = text.split(separator: ",").compactMap { SFTTask(rawValue: String($0)) }
    return named.count == 2 && named[0] != named[1] ? (named[0], named[1]) : nil
}) { config.tasks = tasks }
if let parts = value("--parts", { text -> Set<Int>? in
    let numbers = text.split(separator: ",").compactMap { Int($0) }
    return numbers.isEmpty || numbers.contains { !(1...3).contains($0) } ? nil : Set(numbers)
}) { config.parts = parts }
if let share = value("--replay", { Double($0).flatMap { (0..<1).contains($0) ? $0 : nil } }) {
    config = config.replaying(share > 0 ? ReplayMix(share: share, characters: 128) : nil)
}
if let steps = value("--generalist-steps", { Int($0).flatMap { $0 > 0 ? $0 : nil } }) { config.generalistRecipe = config.generalistRecipe.withSteps(steps) }
if let rate = value("--lora-lr", { Float($0).flatMap { $0 > 0 ? $0 : nil } }) { config.loraRecipe.learningRate = rate }
if let steps = value("--lora-steps", { Int($0).flatMap { $0 > 0 ? $0 : nil } }) { config.loraRecipe = config.loraRecipe.withSteps(steps) }
if let rank = value("--lora-rank", { Int($0).flatMap { $0 > 0 ? $0 : nil } }) { config.loraRank = rank }
if let targets = value("--lora-targets", { text -> [String]? in
    let names = text.split(separator: ",").map(String.init)
    return names.isEmpty ? nil : names
}) { config.loraTargets = targets }

do {
    try Chapter13Merging.run(config)
} catch {
    print("chapter13: \(error)")
    exit(1)
}
