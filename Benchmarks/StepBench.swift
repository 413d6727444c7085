// StepBench.swift — one AdamW training step of the reference GPT: ms/step, tokens/s, peak memory, and
// where the time goes (a per-op breakdown of forward, backward, optimizer and allocation).
//
// Reference config (issue #3): vocab 256, 4 layers, 4 heads, width 256, context 128, batch 16.
// Full fine-tuning trains every parameter; "frozen base" trains only the last block, so backward
// stops early and the optimizer touches a quarter of the weights; LoRA freezes the whole base and
// trains rank-8 adapters on every linear layer. Benchmarks/compare/torch_step.py is the PyTorch twin.
//   bench step [--quick] [--setup full|frozen|lora] [--threads N] [--no-profile] [--model=DIR]
// With --model=DIR, also a LoRA step of that real checkpoint (ModelStepBench.swift).
import Foundation
import Autodiff
import NN
import Optim
import Kernels
import PEFT

enum StepBench {
    static let config = GPTConfig.gpt2(vocabularySize: 256, contextLength: 128, embeddingSize: 256, layers: 4, heads: 4)
    static let (batch, steps) = (16, 128)

    /// What is trained.
    enum Setup: String, CaseIterable {
        case full, frozen = "frozen base", lora = "lora-r8-all-linear"
        /// The `--setup` spelling.
        var flag: String { self == .full ? "full" : self == .frozen ? "frozen" : "lora" }
    }

    /// A model and optimizer for `setup`, built the same way for every measurement.
    static func make(_ setup: Setup) -> (model: GPT, optimizer: AdamW, trainable: Int) {
        var modelRNG = RNG(seed: 2)
        let model = GPT(config: config, rng: &modelRNG)
        switch setup {
        case .full: break
        case .frozen:
            model.setTrainable(false)
            model.setTrainable(true) { $0.hasPrefix("h.3.") }
        case .lora:
            // "all-linear" matches every Linear of the model, so this cannot throw here.
            do { _ = try LoRA.add("default", to: model, config: LoRAConfig(rank: 8), seed: 3) } catch {
                preconditionFailure("LoRA on all linear layers of the bench model: \(error)")
            }
        }
        let optimizer = AdamW(model.namedParameters())
        return (model, optimizer, optimizer.parameters.reduce(0) { $0 + $1.tensor.count })
    }

    /// One training step: zero the gradients, forward, loss, backward, AdamW update. `ids` and `targets`
    /// hold `rows` sequences of `length` tokens (the reference GPT's batch by default).
    static func step(_ model: GPT, _ optimizer: AdamW, ids: [Int32], targets: [Int32], profile: OpProfile? = nil,
                     rows: Int = batch, length: Int = steps) {
        optimizer.zeroGrad()
        profile?.markForwardStart()
        Tensor.crossEntropy(model(ids, batch: rows, steps: length), targets: targets).backward()
        if let profile {
            profile.measure("optimizer") { Tensor.withNoGrad { optimizer.step(learningRate: 1e-4) } }
        } else {
            Tensor.withNoGrad { optimizer.step(learningRate: 1e-4) }
        }
    }

    static func run(arguments: [String], quick: Bool) {
        func value(_ flag: String) -> String? { arguments.firstIndex(of: flag).flatMap { $0 + 1 < arguments.count ? arguments[$0 + 1] : nil } }
        let setups = value("--setup").map { name in Setup.allCases.filter { $0.flag == name } } ?? Setup.allCases
        let threadCounts = value("--threads").flatMap(Int.init).map { [$0] } ?? [1, 2]
        let profiled = !arguments.contains("--no-profile")
        print("Training step — GPT-2 flavour, vocab 256, 4 layers, 4 heads, width 256, context 128, batch 16, AdamW;"
              + " GEMM tile \(GEMMTile.description)")
        print(Measure.pad("setup", 20) + Measure.pad("threads", 9) + Measure.pad("ms/step", 10) + Measure.pad("tokens/s", 11) + "peak MB")
        var rng = RNG(seed: 1)
        let ids = (0..<(batch * steps)).map { _ in Int32(rng.below(config.vocabularySize)) }
        let targets = (0..<(batch * steps)).map { _ in Int32(rng.below(config.vocabularySize)) }
        var tables: [String] = []
        for setup in setups {
            for threads in threadCounts {
                let meter = MemoryMeter()
                let (ms, trainable, table) = meter.install { () -> (Double, Int, String?) in
                    let (model, optimizer, trainable) = make(setup)
                    return Parallelism.$threads.withValue(threads) {
                        let ms = Measure.medianMilliseconds(repetitions: quick ? 3 : 7) {
                            step(model, optimizer, ids: ids, targets: targets)
                        }
                        // The breakdown: a few more steps under a profile (timing hooks on every op).
                        guard profiled else { return (ms, trainable, nil) }
                        let profile = OpProfile(), profiledSteps = quick ? 1 : 3
                        profile.install { for _ in 0..<profiledSteps { step(model, optimizer, ids: ids, targets: targets, profile: profile) } }
                        return (ms, trainable, "\(setup.rawValue), \(threads) thread(s), ms per step:\n" + profile.table(steps: profiledSteps))
                    }
                }
                if let table { tables.append(table) }
                let tokensPerSecond = Double(batch * steps) / ms * 1000
                print(Measure.pad(setup.rawValue, 20) + Measure.pad("\(threads)", 9) + Measure.pad(String(format: "%.1f", ms), 10)
                      + Measure.pad(String(format: "%.0f", tokensPerSecond), 11) + String(format: "%.1f", Double(meter.peakTotal) / 1e6)
                      + "   (\(trainable) trainable)")
                Measure.emitJSON(["bench": "step", "setup": setup.rawValue, "threads": threads, "median_ms": (ms * 10).rounded() / 10,
                                  "tokens_per_s": tokensPerSecond.rounded(), "peak_bytes": meter.peakTotal, "trainable": trainable])
            }
        }
        for table in tables { print("\n" + table) }
        if let path = GenerateBench.modelPath() {
            ModelStepBench.run(path: path, threads: threadCounts, quick: quick, profiled: profiled)
        }
    }
}
