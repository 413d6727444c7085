// StepBench+LoRA.swift — the LoRA training step next to full fine-tuning (reference config).
import Foundation
import Autodiff
import NN
import Optim
import Kernels
import PEFT

extension StepBench {
    /// One AdamW step with LoRA r = 8 on all linear layers (base frozen), at 1 and 2 threads.
    static func runLoRA(quick: Bool) {
        var rng = RNG(seed: 1)
        let ids = (0..<(batch * steps)).map { _ in Int32(rng.below(config.vocabularySize)) }
        let targets = (0..<(batch * steps)).map { _ in Int32(rng.below(config.vocabularySize)) }
        for threads in [1, 2] {
            let meter = MemoryMeter()
            let (ms, trainable) = meter.install { () -> (Double, Int) in
                var modelRNG = RNG(seed: 2)
                let model = GPT(config: config, rng: &modelRNG)
                // "all-linear" matches every GPT, so this cannot throw (a library invariant, not input).
                guard let trainable = try? LoRA.add("default", to: model, config: LoRAConfig(rank: 8), seed: 3) else {
                    preconditionFailure("LoRA on all-linear matched no layer")
                }
                let optimizer = AdamW(model.namedParameters())
                let ms = Parallelism.$threads.withValue(threads) {
                    Measure.medianMilliseconds(repetitions: quick ? 3 : 7) {
                        optimizer.zeroGrad()
                        Tensor.crossEntropy(model(ids, batch: batch, steps: steps), targets: targets).backward()
                        Tensor.withNoGrad { optimizer.step(learningRate: 1e-4) }
                    }
                }
                return (ms, trainable)
            }
            let tokensPerSecond = Double(batch * steps) / ms * 1000
            print(Measure.pad("LoRA r=8 all", 16) + Measure.pad("\(threads)", 9) + Measure.pad(String(format: "%.1f", ms), 10)
                  + Measure.pad(String(format: "%.0f", tokensPerSecond), 11) + String(format: "%.1f", Double(meter.peakTotal) / 1e6)
                  + "   (\(trainable) trainable)")
            Measure.emitJSON(["bench": "step", "setup": "lora-r8-all-linear", "threads": threads, "median_ms": (ms * 10).rounded() / 10,
                              "tokens_per_s": tokensPerSecond.rounded(), "peak_bytes": meter.peakTotal, "trainable": trainable])
        }
    }
}
