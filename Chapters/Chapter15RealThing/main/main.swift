// Chapter 15 — run with `swift run -c release chapter15 [--quick] [--json] [--nf4] [--model PATH]`
// (needs models/SmolLM2-135M-Instruct.Q4_1.gguf: `sh scripts/fetch-smollm2.sh`).
import Foundation
import Chapter15RealThing

let arguments = Array(CommandLine.arguments.dropFirst())
var config: Chapter15RealThing.Config = arguments.contains("--quick") ? .quick : .standard
config.json = arguments.contains("--json")
config.includeNF4 = config.includeNF4 || arguments.contains("--nf4")
if let index = arguments.firstIndex(of: "--model"), index + 1 < arguments.count { config.model = .gguf(arguments[index + 1]) }
do {
    try Chapter15RealThing.run(config)
} catch {
    print("chapter15: \(error)")
    exit(1)
}
