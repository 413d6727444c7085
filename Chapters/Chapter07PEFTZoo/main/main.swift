// Chapter 7 — run with `swift run -c release chapter07 [--real-model-only | --no-real-model] [--model PATH]`
// (uses the cached base model; the zoo on SmolLM2-135M-Instruct runs when models/ has it:
// `sh scripts/fetch-smollm2.sh`).
//   --real-model-only   only the zoo on the real model (no comparison with the toy base)
//   --no-real-model     only the toy base's zoo
//   --model PATH        the GGUF file of the real model (default models/SmolLM2-135M-Instruct.Q4_1.gguf)
import Chapter07PEFTZoo

let arguments = Array(CommandLine.arguments.dropFirst())
do {
    var config = Chapter07PEFTZoo.Config.standard
    if let index = arguments.firstIndex(of: "--model"), index + 1 < arguments.count {
        config.realModel?.source = .gguf(arguments[index + 1])
    }
    if arguments.contains("--no-real-model") { config.realModel = nil }
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
