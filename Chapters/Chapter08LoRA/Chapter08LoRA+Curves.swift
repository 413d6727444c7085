// Chapter08LoRA+Curves.swift — part 2's learning–forgetting curves, and forgetting at an equal score.
//
// Teaches: how to read two fine-tunes against each other when they did not end at the same score. The
// curves (held-out accuracy and corpus loss every N steps) are printed side by side; then both runs are
// taken at the first checkpoint where each reaches the highest accuracy both reach, and their corpus
// losses there are compared — the fair form of "LoRA forgets less" (Experiments/ForgettingCurve.swift).
// The sentence is computed, and says so when the numbers contradict the claim.
// Leaves out: plotting; interpolation between checkpoints.
import Experiments

extension Chapter08LoRA {
    /// Prints both curves and the equal-score comparison (through `say`, so it joins the conclusions).
    static func showCurves(_ full: Run, _ lora: Run, matched: (target: Double, a: CurvePoint, b: CurvePoint)?, every: Int,
                           examples: Int, output: (String) -> Void, say: (String) -> Void) {
        guard !full.curve.isEmpty, !lora.curve.isEmpty else { return }
        output("   While training (every \(every) steps; accuracy on \(examples) held-out examples / corpus loss):")
        ForgettingCurve.table([("full fine-tuning", full.curve), ("LoRA r=8", lora.curve)]).forEach(output)
        say(equalScoreSentence(matched))
    }

    /// The equal-score comparison of LoRA against full fine-tuning in words.
    static func equalScoreSentence(_ matched: (target: Double, a: CurvePoint, b: CurvePoint)?) -> String {
        ForgettingCurve.sentence(matched, method: "LoRA", reference: "full fine-tuning")
    }
}
