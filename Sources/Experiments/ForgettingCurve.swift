// ForgettingCurve.swift — forgetting compared at an equal task score, read off learning curves.
//
// Teaches: "LoRA forgets less" is a claim about two runs that learned the task *equally well*. Two
// finished runs rarely score the same: one method learns faster, or further, and the one that learned
// more has usually also moved further from the base. So each run is watched while it trains: every N
// steps, its accuracy on held-out task examples and its loss on the pretraining corpus (what it kept of
// the base). That gives, per method, a curve of learning against forgetting. The fair comparison reads
// both curves at the same accuracy — the highest one both runs reach — taking each run at the first
// checkpoint where it gets there, and compares their corpus losses at those points. (Biderman et al.,
// "LoRA Learns Less and Forgets Less", 2024, §4.3, drew these curves for Llama-2-7B and found LoRA and
// full fine-tuning on about one Pareto curve: at an equal score, about equal forgetting.)
// Leaves out: interpolating between checkpoints (the first checkpoint at or above the target is taken,
// so a coarse curve can overshoot the target), several seeds.
import NN
import Tokenizers
import Datasets
import Training

/// One checkpoint of a fine-tune: how well it does the task and what it kept of the base.
public struct CurvePoint: Sendable, Equatable {
    public var step: Int
    /// Exact match on the held-out task examples (teacher-forced).
    public var accuracy: Double
    /// Mean next-token loss on the pretraining corpus's validation batches.
    public var corpusLoss: Float

    public init(step: Int, accuracy: Double, corpusLoss: Float) { (self.step, self.accuracy, self.corpusLoss) = (step, accuracy, corpusLoss) }
}

/// Records a run's curve points while it trains (hand its `observer` to `Experiment.measure`).
public final class ForgettingCurve {
    /// The points recorded so far, in step order.
    public private(set) var points: [CurvePoint] = []
    private let every: Int, tokenizer: any Tokenizer, examples: [SFTExample], corpus: [Batch]

    /// Scores every `every` steps on `examples` (the task) and `corpus` (pretraining text).
    public init(every: Int, tokenizer: any Tokenizer, examples: [SFTExample], corpus: [Batch]) {
        (self.every, self.tokenizer, self.examples, self.corpus) = (every, tokenizer, examples, corpus)
    }

    /// The observer that fills `points`.
    public var observer: Experiment.Observer {
        Experiment.Observer(every: every) { [self] step, model in
            let accuracy = TaskEvaluator.score(model, tokenizer: tokenizer, examples: examples, check: .teacherForced).accuracy
            points.append(CurvePoint(step: step, accuracy: accuracy, corpusLoss: model.meanLoss(on: corpus)))
        }
    }

    /// Two curves read at an equal task score: the target is the highest accuracy both reach, and each
    /// curve contributes its first point at or above it. nil when either curve is empty or the target is 0
    /// (a run that never learned anything has nothing to be compared at).
    public static func atEqualScore(_ a: [CurvePoint], _ b: [CurvePoint]) -> (target: Double, a: CurvePoint, b: CurvePoint)? {
        guard let bestA = a.map(\.accuracy).max(), let bestB = b.map(\.accuracy).max() else { return nil }
        let target = min(bestA, bestB)
        guard target > 0, let pointA = a.first(where: { $0.accuracy >= target }),
              let pointB = b.first(where: { $0.accuracy >= target }) else { return nil }
        return (target, pointA, pointB)
    }

    /// The curves side by side, one line per checkpoint: "step  accuracy / corpus loss" per column.
    public static func table(_ columns: [(label: String, points: [CurvePoint])]) -> [String] {
        let width = 18
        func padded(_ text: String, last: Bool) -> String { last ? text : text.padding(toLength: width, withPad: " ", startingAt: 0) }
        var lines = ["     step" + columns.enumerated().map { "    " + padded($1.label, last: $0 == columns.count - 1) }.joined()]
        for index in 0..<(columns.map(\.points.count).max() ?? 0) {
            guard let step = columns.first(where: { index < $0.points.count })?.points[index].step else { continue }
            lines.append(String(format: "   %6d", step) + columns.enumerated().map { column, entry in
                let cell = index < entry.points.count
                    ? String(format: "%5.1f%% / %.3f", entry.points[index].accuracy * 100, entry.points[index].corpusLoss) : ""
                return "    " + padded(cell, last: column == columns.count - 1)
            }.joined())
        }
        return lines
    }

    /// `method` against `reference` at an equal task score, in words computed from the matched points
    /// (`atEqualScore(referenceCurve, methodCurve)`), with the book's claim that the method forgets less.
    public static func sentence(_ matched: (target: Double, a: CurvePoint, b: CurvePoint)?, method: String, reference: String) -> String {
        guard let (target, ref, run) = matched else {
            return "   At an equal task score: no comparison — one of the runs never scored above 0% on the held-out examples."
        }
        let losses = String(format: "corpus loss %.3f (%@, step %d) vs %.3f (%@, step %d)", run.corpusLoss, method, run.step,
                            ref.corpusLoss, reference, ref.step)
        let verdict = switch CorpusLossComparison(run.corpusLoss, versus: ref.corpusLoss) {
        case .lower: "\(method) kept more of the base, as the book says"
        case .aboutTheSame: "\(method) kept about as much of the base (within 0.01): the book's \"forgets less\" is not shown at an equal "
            + "score (Biderman et al., 2024, §4.3, found the same for Llama-2-7B: LoRA and full fine-tuning lie on about one "
            + "learning–forgetting curve, LoRA forgetting less where it also learns less)"
        case .higher: "\(method) kept LESS of the base: this contradicts the book's \"forgets less\""
        }
        return String(format: "   At an equal task score — the first checkpoint where each run reaches %.0f%%, the highest accuracy both reach: ",
                      target * 100) + losses + " — " + verdict + "."
    }
}
