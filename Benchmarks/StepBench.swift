// StepBench.swift — one AdamW training step of the reference GPT: ms/step and tokens/s.
//
// Reference config (issue #3): vocab 256, 4 layers, 4 heads, width 256, context 128, batch 16.
// Full fine-tuning trains every parameter; "frozen base" trains only the last block, so backward
// stops early and the optimizer touches a quarter of the weights; LoRA (StepBench+LoRA.swift) freezes
// the whole base and trains rank-8 adapters on every linear layer.
import Foundation
import Autodiff
import NN
import Optim
import Kernels

enum StepBench {
    static let config = GPTConfig.gpt2(vocabularySize: 256, contextLength: 128, embeddingSize: 256, layers: 4, heads: 4)
    static let (batch, steps) = (16, 128)

    static func run(quick: Bool) {
        print("Training step — GPT-2 flavour, vocab 256, 4 layers, 4 heads, width 256, context 128, batch 16, AdamW")
        print(Measure.pad("setup", 16) + Measure.pad("threads", 9) + Measure.pad("ms/step", 10) + Measure.pad("tokens/s", 11) + "peak MB")
        var rng = RNG(seed: 1)
        let ids = (0..<(batch * steps)).map { _ in Int32(rng.below(config.vocabularySize)) }
        let targets = (0..<(batch * steps)).map { _ in Int32(rng.below(config.vocabularySize)) }
        for (label, frozen) in [("full", false), ("frozen base", true)] {
            for threads in [1, 2] {
                let meter = MemoryMeter()
                let ms = meter.install { () -> Double in
                    var modelRNG = RNG(seed: 2)
                    let model = GPT(config: config, rng: &modelRNG)
                    if frozen {
                        model.setTrainable(false)
                        model.setTrainable(true) { $0.hasPrefix("h.3.") }
                    }
                    let optimizer = AdamW(model.namedParameters())
                    return Parallelism.$threads.withValue(threads) {
                        Measure.medianMilliseconds(repetitions: quick ? 3 : 7) {
                            optimizer.zeroGrad()
                            Tensor.crossEntropy(model(ids, batch: batch, steps: steps), targets: targets).backward()
                            Tensor.withNoGrad { optimizer.step(learningRate: 1e-4) }
                        }
                    }
                }
                let tokensPerSecond = Double(batch * steps) / ms * 1000
                print(Measure.pad(label, 16) + Measure.pad("\(threads)", 9) + Measure.pad(String(format: "%.1f", ms), 10)
                      + Measure.pad(String(format: "%.0f", tokensPerSecond), 11) + String(format: "%.1f", Double(meter.peakTotal) / 1e6))
                Measure.emitJSON(["bench": "step", "setup": label, "threads": threads, "median_ms": (ms * 10).rounded() / 10,
                                  "tokens_per_s": tokensPerSecond.rounded(), "peak_bytes": meter.peakTotal])
            }
        }
        runLoRA(quick: quick)
    }
}
