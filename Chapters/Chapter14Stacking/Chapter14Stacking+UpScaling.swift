// Chapter14Stacking+UpScaling.swift — Chapter 14, part 1: does depth up-scaling pay?
//
// The claim (SOLAR, Kim et al. 2023): a deeper model built by stacking two copies of a trained model
// (dropping m blocks at the seam) starts from a far better point than the same architecture initialised
// at random, so continued pretraining reaches a given loss in fewer steps. Measured here with three runs
// that see the same batches for the same number of steps:
//   - the stacked model, continued at a small learning rate;
//   - a freshly initialised model of exactly the stacked shape, at the learning rate that pretrained the
//     base (a fair rate for training from scratch);
//   - the base itself, continued the same way (does the extra depth buy anything beyond more training?).
// Leaves out: learning-rate sweeps per run, and stacking different models (the passthrough config does it).
import Foundation
import Kernels
import NN
import Optim
import Datasets
import Training
import Merging

/// A validation-loss curve: (step, loss) pairs, the first at step 0.
public struct LossCurve: Sendable {
    public var label: String
    public var points: [(step: Int, loss: Float)]
    /// The loss after the last step.
    public var final: Float { points.last?.loss ?? .nan }
    /// The loss at `step` (nil when it was not measured).
    public func loss(at step: Int) -> Float? { points.first { $0.step == step }?.loss }
}

extension Chapter14Stacking {
    /// Part 1's measurements.
    public struct UpScalingReport: Sendable {
        public var baseLayers: Int, stackedLayers: Int
        public var baseParameters: Int, stackedParameters: Int
        /// Validation loss curves: stacked (continued), from scratch (same shape), base (continued).
        public var stacked: LossCurve, scratch: LossCurve, base: LossCurve
    }

    /// Stacks the base, then trains the three contenders for `config.continuedSteps` each.
    static func upScaling(_ base: BaseModel, config: Config, output: (String) -> Void) throws -> UpScalingReport {
        let (_, trainTokens, validationTokens) = Pretraining.corpus(config.base)
        let context = config.base.model.contextLength
        let validation = Pretraining.validationBatches(validationTokens, batchSize: 8, contextLength: context, count: 4)
        let n = base.model.config.layers, m = config.dropped
        let stacked = try ModelMerge.stack([(MergeConfig.Slice(model: "base", start: 0, end: n - m), base.model),
                                            (MergeConfig.Slice(model: "base", start: m, end: n), base.model)])
        var rng = RNG(seed: config.base.seed)
        let scratch = GPT(config: stacked.config, rng: &rng)
        output("1. Depth up-scaling: two copies of the \(n)-block base, \(m) block\(m == 1 ? "" : "s") dropped at the seam → "
               + "\(stacked.config.layers) blocks (\(stacked.parameterCount()) parameters vs \(base.model.parameterCount())).")
        output(String(format: "   Each run: %d steps on the same pretraining batches. Stacked and base continue at lr %.0e; the "
                      + "from-scratch model trains at the base's pretraining lr %.0e.", config.continuedSteps,
                      config.continuedLearningRate, config.base.learningRate))

        func train(_ model: GPT, label: String, learningRate: Float) -> LossCurve {
            let trainer = Trainer(model: model, optimizer: AdamW(model.namedParameters(), beta2: 0.99, weightDecay: 0.1),
                                  options: TrainerOptions(steps: config.continuedSteps, learningRate: learningRate, seed: 9))
            var source = PretrainingBatchSource(tokens: trainTokens, batchSize: config.base.batchSize, contextLength: context, seed: 77)
            let progress = config.showProgress ? ProgressReporter(label: "   \(label)", every: 50) : nil
            var points = [(step: 0, loss: model.meanLoss(on: validation))]
            for step in stride(from: 1, through: config.continuedSteps, by: 1) {
                let entry = trainer.trainStep([source.nextBatch()])
                if step % config.curveEvery == 0 || step == config.continuedSteps {
                    points.append((step, model.meanLoss(on: validation)))
                }
                progress?.update(step: step, of: config.continuedSteps, entry: entry)
            }
            progress?.finish()
            return LossCurve(label: label, points: points)
        }
        let report = UpScalingReport(
            baseLayers: n, stackedLayers: stacked.config.layers,
            baseParameters: base.model.parameterCount(), stackedParameters: stacked.parameterCount(),
            stacked: train(stacked, label: "stacked (continued)", learningRate: config.continuedLearningRate),
            scratch: train(scratch, label: "same shape, from scratch", learningRate: config.base.learningRate),
            base: train(base.model.copy(), label: "base (continued)", learningRate: config.continuedLearningRate))
        printCurves(report, output: output)
        return report
    }

    /// The three curves side by side, then what they say (computed, including when they contradict the book).
    static func printCurves(_ r: UpScalingReport, output: (String) -> Void) {
        output("   validation loss (nats/char) by step:")
        output("   step   " + [r.stacked, r.scratch, r.base].map { $0.label.padding(toLength: 26, withPad: " ", startingAt: 0) }.joined())
        for (step, _) in r.stacked.points {
            let cells = [r.stacked, r.scratch, r.base].map { curve in
                (curve.loss(at: step).map { String(format: "%.3f", $0) } ?? "—").padding(toLength: 26, withPad: " ", startingAt: 0)
            }
            output("   " + String(step).padding(toLength: 7, withPad: " ", startingAt: 0) + cells.joined())
        }
        let (stacked, scratch, base) = (r.stacked.final, r.scratch.final, r.base.final)
        if stacked < scratch {
            let start = r.stacked.points.first?.loss ?? .nan
            let caughtUp = r.scratch.points.first { $0.loss <= start }
            output(String(format: "   Up-scaling pays against training the same shape from scratch: %.3f vs %.3f after the same steps; ",
                          stacked, scratch)
                   + (caughtUp.map { String(format: "the random model matched the stacked model's starting loss %.3f only at step %d.", start, $0.step) }
                      ?? String(format: "in %d steps the random model never reached the stacked model's starting loss %.3f.",
                                r.scratch.points.last?.step ?? 0, start)))
        } else {
            output(String(format: "   Contrary to the book, the from-scratch model is as good or better here: %.3f vs %.3f for the stacked one.",
                          scratch, stacked))
        }
        let before = r.stacked.points.first?.loss ?? .nan, baseBefore = r.base.points.first?.loss ?? .nan
        output(String(format: "   The seam costs %.3f nats at step 0 (stacked %.3f vs base %.3f); ", before - baseBefore, before, baseBefore)
               + (stacked < base
                  ? String(format: "after continued training the deeper model is ahead of the base by %.3f (%.3f vs %.3f).", base - stacked, stacked, base)
                  : String(format: "after continued training it is not ahead of the base (%.3f vs %.3f): at this size and budget the extra "
                           + "depth buys nothing that more training of the base does not.", stacked, base)))
        output("")
    }
}
