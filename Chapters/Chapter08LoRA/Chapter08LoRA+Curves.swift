// Chapter08LoRA+Curves.swift — part 2's learning–forgetting curves, and forgetting at an equal score.
//
// Teaches: how to read two fine-tunes against each other when they did not end at the same score. The
// curves (held-out accuracy and corpus loss every N steps) are printed side by side; then both runs are
// taken at the first checkpoint where each reaches the highest accuracy both reach, and their corpus
// losses there are compared — the fair form of "LoRA forgets less". The sentence is computed, and says
// so when the numbers contradict the claim.
// Leaves out: plotting; interpolation between checkpoints.
import Experiments

extension Chapter08LoRA {
    /// Prints both curves and the equal-score comparison (through `say`, so it joins the conclusions).
    static func showCurves(_ full: Run, _ lora: Run, matched: (target: Double, a: CurvePoint, b: CurvePoint)?, every: Int,
                           examples: Int, output: (String) -> Void, say: (String) -> Void) {
        guard !full.curve.isEmpty, !lora.curve.isEmpty else { return }
        output("   While training (every \(every) steps; accuracy on \(examples) held-out examples / corpus loss):")
        output("     step    full fine-tuning      LoRA r=8")
        for index in 0..<max(full.curve.count, lora.curve.count) {
            func cell(_ curve: [CurvePoint]) -> String {
                index < curve.count ? String(format: "%5.1f%% / %.3f", curve[index].accuracy * 100, curve[index].corpusLoss) : ""
            }
            let step = (index < full.curve.count ? full.curve : lora.curve)[index].step
            output(String(format: "   %6d", step) + "    " + cell(full.curve).padding(toLength: 18, withPad: " ", startingAt: 0)
                   + "    " + cell(lora.curve))
        }
        say(equalScoreSentence(matched))
    }

    /// The equal-score comparison in words, computed from the matched points.
    static func equalScoreSentence(_ matched: (target: Double, a: CurvePoint, b: CurvePoint)?) -> String {
        guard let (target, full, lora) = matched else {
            return "   At an equal task score: no comparison — one of the runs never scored above 0% on the held-out examples."
        }
        let losses = String(format: "corpus loss %.3f (LoRA, step %d) vs %.3f (full fine-tuning, step %d)", lora.corpusLoss, lora.step,
                            full.corpusLoss, full.step)
        let verdict = switch CorpusLossComparison(lora.corpusLoss, versus: full.corpusLoss) {
        case .lower: "LoRA kept more of the base, as the book says"
        case .aboutTheSame: "LoRA kept about as much of the base (within 0.01): the book's \"forgets less\" is not shown here"
        case .higher: "LoRA kept LESS of the base: this contradicts the book's \"forgets less\""
        }
        return String(format: "   At an equal task score — the first checkpoint where each run reaches %.0f%%, the highest accuracy both reach: ",
                      target * 100) + losses + " — " + verdict + "."
    }
}
