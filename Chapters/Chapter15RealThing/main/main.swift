// Chapter 15 — run with `swift run -c release chapter15 [--quick | --sweep] [--json] [--nf4] [--model PATH]
//   [--methods lora,qlora,nf4,full] [--lora-lr A,B,…] [--full-lr A,B,…] [--steps N] [--lora-targets L,…] [--export DIR]`
// (needs models/SmolLM2-135M-Instruct.Q4_1.gguf: `sh scripts/fetch-smollm2.sh`).
//   --sweep     the learning-rate sweep behind the default rates (every grid point: validation, perplexity)
//   --methods   which methods to run, in order (default lora,full,qlora; --nf4 adds nf4)
//   --lora-lr / --full-lr   the learning-rate grids the chapter's rule picks from (one value: no sweep)
//   --steps     the shared step budget;  --export DIR  where the merged LoRA fine-tune is written
//   --lora-targets   the linear layers LoRA and QLoRA adapt (default all-linear; e.g. q_proj,v_proj)
import Foundation
import CommandLineOptions
import Chapter15RealThing

Options.run("chapter15", valued: ["model", "methods", "lora-lr", "full-lr", "steps", "lora-targets", "export"],
            switches: ["quick", "sweep", "json", "nf4"]) { options in
    let sweeping = options.flag("sweep")
    var config: Chapter15RealThing.Config = options.flag("quick") ? .quick : sweeping ? .sweep : .standard
    config.json = options.flag("json")
    if let path = options.string("model") { config.model = .gguf(path) }
    if let names = try options.strings("methods") {
        config.methods = try names.map { name in
            guard let method = Chapter15RealThing.Method(rawValue: name) else {
                throw UsageError(description: "--methods: unknown method '\(name)' (lora, qlora, nf4, full)")
            }
            return method
        }
    }
    if options.flag("nf4") && !config.methods.contains(.nf4) { config.methods.append(.nf4) }
    if let grid = try options.floats("lora-lr", in: 1e-9...1) { config.loraRates = grid }
    if let grid = try options.floats("full-lr", in: 1e-9...1) { config.fullRates = grid }
    if let steps = try options.int("steps") { config.recipe = config.recipe.withSteps(steps) }
    if let names = try options.strings("lora-targets") { config.loraTargets = names }
    if let directory = options.string("export") { config.exportDirectory = directory }
    if sweeping { try Chapter15RealThing.sweep(config) } else { try Chapter15RealThing.run(config) }
}
