// Chapter 13 — run with `swift run -c release chapter13` (uses the cached base model).
//
// Flags, for re-running one part or trying another recipe (each value is checked; a bad one, or an unknown flag, exits 2):
//   --tasks A,B              the two tasks (reverse, record, arithmetic, facts; default reverse,record)
//   --parts 2,3              run only these parts (1 from the base, 2 full fine-tunes of the generalist,
//                            3 LoRA fine-tunes of it)
//   --replay S               share S (0…0.9) of 128-character pretraining windows in every fine-tune; 0: none
//   --generalist-steps N     multi-task steps that make the shared generalist (each steps flag keeps
//                            the recipe's warmup share, 10%: SFTRecipe.withSteps)
//   --lora-lr X, --lora-steps N   the LoRA fine-tunes of part 3
//   --lora-rank R            their rank (α = 2R)
//   --lora-targets a,b       the layers they wrap, e.g. attn.c_attn,attn.c_proj (default all-linear)
import Foundation
import CommandLineOptions
import Chapter13Merging
import Experiments
import Datasets

// An unknown flag is refused rather than ignored: a typo must not silently run the standard chapter.
Options.run("chapter13", valued: ["tasks", "parts", "replay", "generalist-steps", "lora-lr", "lora-steps", "lora-rank", "lora-targets"]) { options in
    var config = Chapter13Merging.Config.standard
    if let names = try options.strings("tasks") {
        let tasks = names.compactMap(SFTTask.init(rawValue:))
        guard names.count == 2, tasks.count == 2, tasks[0] != tasks[1] else {
            throw UsageError(description: "--tasks wants two different tasks of \(SFTTask.allCases.map(\.rawValue).joined(separator: ", ")), got '\(names.joined(separator: ","))'")
        }
        config.tasks = (tasks[0], tasks[1])
    }
    if let words = try options.strings("parts") {
        let parts = words.compactMap { Int($0) }
        guard parts.count == words.count, parts.allSatisfy({ (1...3).contains($0) }) else {
            throw UsageError(description: "--parts wants part numbers from 1 to 3 separated by commas, got '\(words.joined(separator: ","))'")
        }
        config.parts = Set(parts)
    }
    if let share = try options.double("replay", in: 0...0.9) {
        config = config.replaying(share > 0 ? ReplayMix(share: share, characters: 128) : nil)
    }
    if let steps = try options.int("generalist-steps") { config.generalistRecipe = config.generalistRecipe.withSteps(steps) }
    if let rate = try options.float("lora-lr", in: 1e-7...1) { config.loraRecipe.learningRate = rate }
    if let steps = try options.int("lora-steps") { config.loraRecipe = config.loraRecipe.withSteps(steps) }
    if let rank = try options.int("lora-rank", in: 1...1024) { config.loraRank = rank }
    if let targets = try options.strings("lora-targets") { config.loraTargets = targets }
    try Chapter13Merging.run(config)
}
