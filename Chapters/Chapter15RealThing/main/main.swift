// Chapter 15 — run with `swift run -c release chapter15 [--quick | --sweep] [--json] [--nf4] [--model PATH]
//   [--methods lora,qlora,nf4,full] [--lora-lr A,B,…] [--full-lr A,B,…] [--steps N] [--lora-targets L,…] [--export DIR]`
// (needs models/SmolLM2-135M-Instruct.Q4_1.gguf: `sh scripts/fetch-smollm2.sh`).
//   --sweep     the learning-rate sweep behind the default rates (every grid point: validation, perplexity)
//   --methods   which methods to run, in order (default lora,full,qlora; --nf4 adds nf4)
//   --lora-lr / --full-lr   the learning-rate grids the chapter's rule picks from (one value: no sweep)
//   --steps     the shared step budget;  --export DIR  where the merged LoRA fine-tune is written
//   --lora-targets   the linear layers LoRA and QLoRA adapt (default all-linear; e.g. q_proj,v_proj)
import Foundation
import Chapter15RealThing

let arguments = Array(CommandLine.arguments.dropFirst())
func value(_ flag: String) -> String? {
    guard let index = arguments.firstIndex(of: flag), index + 1 < arguments.count else { return nil }
    return arguments[index + 1]
}
func rates(_ flag: String) throws -> [Float]? {
    guard let text = value(flag) else { return nil }
    let rates = text.split(separator: ",").map { Float($0.trimmingCharacters(in: .whitespaces)) }
    guard !rates.isEmpty, rates.allSatisfy({ ($0 ?? 0) > 0 }) else {
        throw ArgumentError(description: "\(flag) wants positive learning rates separated by commas, got '\(text)'")
    }
    return rates.compactMap { $0 }
}
struct ArgumentError: Error, CustomStringConvertible { let description: String }

do {
    let sweeping = arguments.contains("--sweep")
    var config: Chapter15RealThing.Config = arguments.contains("--quick") ? .quick : sweeping ? .sweep : .standard
    config.json = arguments.contains("--json")
    if let index = arguments.firstIndex(of: "--model"), index + 1 < arguments.count { config.model = .gguf(arguments[index + 1]) }
    if let text = value("--methods") {
        config.methods = try text.split(separator: ",").map { name in
            guard let method = Chapter15RealThing.Method(rawValue: String(name)) else {
                throw ArgumentError(description: "--methods: unknown method '\(name)' (lora, qlora, nf4, full)")
            }
            return method
        }
    }
    if arguments.contains("--nf4") && !config.methods.contains(.nf4) { config.methods.append(.nf4) }
    if let grid = try rates("--lora-lr") { config.loraRates = grid }
    if let grid = try rates("--full-lr") { config.fullRates = grid }
    if let text = value("--steps") {
        guard let steps = Int(text), steps > 0 else { throw ArgumentError(description: "--steps wants a positive integer, got '\(text)'") }
        config.recipe = config.recipe.withSteps(steps)
    }
    if let text = value("--lora-targets") {
        let names = text.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }
        guard !names.isEmpty, names.allSatisfy({ !$0.isEmpty }) else {
            throw ArgumentError(description: "--lora-targets wants layer names separated by commas (all-linear, q_proj, v_proj, …), got '\(text)'")
        }
        config.loraTargets = names
    }
    if let directory = value("--export") { config.exportDirectory = directory }
    if sweeping { try Chapter15RealThing.sweep(config) } else { try Chapter15RealThing.run(config) }
} catch {
    print("chapter15: \(error)")
    exit(1)
}
