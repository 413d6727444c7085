// Chapter15RealThing+Export.swift — the LoRA fine-tune leaves TinyTune: merged, exported as GGUF (F32,
// F16) and as a Hugging Face directory, loaded back, and asked the three shown prompts again.
//
// Teaches: "exported" means "gives the same answers elsewhere". The in-memory fine-tune (adapters still
// separate, W·x + s·B·(A·x)) answered the shown prompts greedily; the merged weights (W + s·B·A) are
// written, read back by our own loaders, and their greedy token ids compared with those answers —
// "same greedy answers k/3" is counted, not assumed. The files and `answers.json` stay in the export
// directory (runs/chapter15/ by default) for `scripts/export/check_chapter15.py`, which holds
// transformers to the same answers.
// Leaves out: quantized exports (Q8_0, Q4_0: `tinytune export --type`), the HF tokenizer_config.json
// (`tinytune export --format hf` writes the complete directory; the script reads the base's tokenizer).
import Foundation
import NN
import PEFT
import Experiments

extension Chapter15RealThing {
    /// Merges the LoRA adapter of `model` into its weights (in place: call after scoring), exports and
    /// reloads it, prints one line per export and returns the comparisons.
    static func exportAndCheck(_ model: GPT, real: RealModel, prompts: (prompts: [String], limits: [Int]),
                               inMemory: [[Int]], directory: URL, output: (String) -> Void) throws -> [ExportCheck.Result] {
        try LoRA.mergeAndUnload("default", from: model)
        output("Exporting the merged LoRA fine-tune to \(directory.path) (GGUF F32, GGUF F16, HF) and loading it back…")
        let results = try ExportCheck.run(model, tokenizer: real.tokenizer, template: real.template, prompts: prompts.prompts,
                                          maxNewTokens: prompts.limits, reference: inMemory, directory: directory,
                                          name: "chapter15-lora-merged", ggufMetadata: try real.exportMetadata())
        for result in results {
            output("  \(result.format.padding(toLength: 19, withPad: " ", startingAt: 0)) same greedy answers \(result.same)/\(inMemory.count)"
                   + " as the in-memory fine-tune  (\(result.path))")
        }
        output("")
        return results
    }
}
