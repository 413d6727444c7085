// Chapter 7 — run with `swift run -c release chapter07 [--real-model-only | --no-real-model] [--model PATH] [--replay S]`
// (uses the cached base model; the zoo on SmolLM2-135M-Instruct runs when models/ has it:
// `sh scripts/fetch-smollm2.sh`).
//   --real-model-only   only the zoo on the real model (no comparison with the toy base)
//   --no-real-model     only the toy base's zoo
//   --model PATH        the GGUF file of the real model (default models/SmolLM2-135M-Instruct.Q4_1.gguf)
//   --only KINDS        with --real-model-only: just these methods (e.g. prompt,prefix; full fine-tuning is
//                       then left out too, so the table has no reference row)
//   --replay S          mix a share S (0…0.9) of pretraining-text windows into every toy-base run (forgetting
//                       under control; the zoo's default trains on the task alone)
//   --rates K=A,B;K=C   replace method K's learning-rate grid on the real model (e.g. "prompt=0.01;prefix=3e-4")
import Foundation
import Chapter07PEFTZoo

let arguments = Array(CommandLine.arguments.dropFirst())
do {
    var config = Chapter07PEFTZoo.Config.standard
    if let index = arguments.firstIndex(of: "--model"), index + 1 < arguments.count {
        config.realModel?.source = .gguf(arguments[index + 1])
    }
    if arguments.contains("--no-real-model") { config.realModel = nil }
    if let index = arguments.firstIndex(of: "--replay") {
        guard index + 1 < arguments.count, let share = Double(arguments[index + 1]), (0...0.9).contains(share) else {
            print("chapter07: --replay wants a share from 0 to 0.9")
            exit(2)
        }
        config.replayShare = share
    }
    if let index = arguments.firstIndex(of: "--rates"), index + 1 < arguments.count {
        for entry in arguments[index + 1].split(separator: ";") {
            let parts = entry.split(separator: "=", maxSplits: 1).map(String.init)
            let rates = parts.count == 2 ? parts[1].split(separator: ",").compactMap { Float($0) } : []
            guard parts.count == 2, !rates.isEmpty, rates.allSatisfy({ $0 > 0 }),
                  let method = config.realModel?.methods.firstIndex(where: { $0.method.kind == parts[0] }) else {
                print("chapter07: --rates wants KIND=rate,rate;… with KIND one of LoRA, Houlsby, IA3, BitFit, prefix, prompt; got '\(entry)'")
                exit(2)
            }
            config.realModel?.methods[method].learningRates = rates
        }
    }
    if let index = arguments.firstIndex(of: "--only"), index + 1 < arguments.count {
        let kinds = Set(arguments[index + 1].split(separator: ",").map(String.init))
        let known = Set(["full"] + (config.realModel?.methods.map(\.method.kind) ?? []))
        if kinds.isEmpty || !kinds.isSubset(of: known) {
            print("chapter07: --only wants kinds from \(known.sorted().joined(separator: ", ")); got '\(arguments[index + 1])'")
            exit(2)
        }
        config.realModel?.methods.removeAll { !kinds.contains($0.method.kind) }
        if !kinds.contains("full") { config.realModel?.fullLearningRates = [] }
    }
    if arguments.contains("--real-model-only") {
        if let zoo = config.realModel {
            print("Chapter 7 — The PEFT zoo, on the real model only")
            try Chapter07PEFTZoo.runRealModel(zoo, toyRows: nil) { print($0) }
        } else {
            print("chapter07: --real-model-only with --no-real-model leaves nothing to run")
        }
    } else {
        try Chapter07PEFTZoo.run(config)
    }
} catch {
    print("chapter07: \(error)")
}
