// Chapter 7 — run with `swift run -c release chapter07 [--real-model-only | --no-real-model] [--model PATH] [--replay S]`
// (uses the cached base model; the zoo on SmolLM2-135M-Instruct runs when models/ has it:
// `sh scripts/fetch-smollm2.sh`).
//   --real-model-only   only the zoo on the real model (no comparison with the toy base)
//   --no-real-model     only the toy base's zoo
//   --model PATH        the GGUF file of the real model (default models/SmolLM2-135M-Instruct.Q4_1.gguf)
//   --only KINDS        just these methods (e.g. IA3,Houlsby); on the real model full fine-tuning is left out
//                       too unless named (the toy zoo always keeps it: it is the reference every row is read against)
//   --steps N           the toy zoo's budget in steps (default 2400; batch 16)
//   --no-width          skip the width trend (the trailing methods re-run on each built-in base width)
//   --unbucketed        with --replay: mix replay and task rows in the same batches (padded) instead of bucketing
//   --replay S          the share S (0…0.9) of pretraining-text windows in every toy-base run (default 0.05;
//                       0: the task alone, which measures what a method can learn but wrecks the base)
//   --rates K=A,B;K=C   replace method K's learning-rate grid, on the toy base and on the real model
//                       (e.g. "prompt=0.01;prefix=3e-4")
import Foundation
import CommandLineOptions
import Chapter07PEFTZoo

Options.run("chapter07", valued: ["model", "replay", "steps", "rates", "only"],
            switches: ["no-real-model", "real-model-only", "no-width", "unbucketed"]) { options in
    var config = Chapter07PEFTZoo.Config.standard
    if let path = options.string("model") { config.realModel?.source = .gguf(path) }
    if options.flag("no-real-model") { config.realModel = nil }
    if let share = try options.double("replay", in: 0...0.9) { config.replayShare = share }
    config.steps = try options.int("steps", default: config.steps)
    if options.flag("no-width") { config.widthBases = [] }
    if options.flag("unbucketed") { config.bucketedReplay = false }
    if let text = options.string("rates") {
        for entry in text.split(separator: ";") {
            let parts = entry.split(separator: "=", maxSplits: 1).map(String.init)
            // Every listed rate must parse: a typo is refused, not dropped from the grid.
            let words = parts.count == 2 ? parts[1].split(separator: ",") : []
            let rates = words.compactMap { Float($0) }
            guard parts.count == 2, !rates.isEmpty, rates.count == words.count, rates.allSatisfy({ $0 > 0 }),
                  let method = config.methods.firstIndex(where: { $0.method.kind == parts[0] }) else {
                throw UsageError(description: "--rates wants KIND=rate,rate;… with KIND one of LoRA, Houlsby, IA3, BitFit, prefix, prompt; got '\(entry)'")
            }
            config.methods[method].learningRates = rates
            if let real = config.realModel?.methods.firstIndex(where: { $0.method.kind == parts[0] }) {
                config.realModel?.methods[real].learningRates = rates
            }
        }
    }
    if let kinds = try options.strings("only").map(Set.init) {
        let known = Set(["full"] + config.methods.map(\.method.kind) + (config.realModel?.methods.map(\.method.kind) ?? []))
        guard kinds.isSubset(of: known) else {
            throw UsageError(description: "--only wants kinds from \(known.sorted().joined(separator: ", ")); got '\(options.string("only") ?? "")'")
        }
        config.methods.removeAll { !kinds.contains($0.method.kind) }
        config.realModel?.methods.removeAll { !kinds.contains($0.method.kind) }
        if !kinds.contains("full") { config.realModel?.fullLearningRates = [] }
    }
    if options.flag("real-model-only") {
        if let zoo = config.realModel {
            print("Chapter 7 — The PEFT zoo, on the real model only")
            try Chapter07PEFTZoo.runRealModel(zoo, toyRows: nil) { print($0) }
        } else {
            print("chapter07: --real-model-only with --no-real-model leaves nothing to run")
        }
    } else {
        try Chapter07PEFTZoo.run(config)
    }
}
