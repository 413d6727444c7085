// ModelStepBench.swift — one LoRA training step of a real checkpoint: `bench step --model=DIR`.
//
// The twin of Benchmarks/compare/torch_smol_lora.py (PyTorch + PEFT): LoRA r = 8, α = 16 on every
// linear layer, the base frozen, AdamW, a batch of B = 4 sequences of T = 128 token ids drawn by a
// seeded RNG, labels = inputs. Reports the median ms/step at 1 and 2 threads and the meter's peak, and
// (unless --no-profile) the per-op breakdown of one more step at each thread count.
// Only with `--model=DIR` (e.g. models/smollm2-hf, or a .gguf file): it is a real-model figure.
// Leaves out: full fine-tuning of the real model (run `torch_smol_lora.py DIR 4 128 2 5 full` and
// `tinytune finetune` for that comparison).
import Foundation
import Autodiff
import NN
import Optim
import Kernels
import PEFT
import Checkpoints

enum ModelStepBench {
    static let (batch, steps) = (4, 128)

    static func run(path: String, threads: [Int], quick: Bool, profiled: Bool) {
        let model: GPT
        do { model = try ModelCheckpoint.load(directory: URL(fileURLWithPath: path)) } catch {
            print("bench step --model: cannot load \(path): \(error)")
            return
        }
        model.setTrainable(false)
        do { _ = try LoRA.add("default", to: model, config: LoRAConfig(rank: 8, alpha: 16), seed: 3) } catch {
            print("bench step --model: LoRA on \(path): \(error)")
            return
        }
        let optimizer = AdamW(model.namedParameters())
        let trainable = optimizer.parameters.reduce(0) { $0 + $1.tensor.count }
        var rng = RNG(seed: 1)
        let vocabulary = model.config.vocabularySize
        let ids = (0..<(batch * steps)).map { _ in Int32(rng.below(vocabulary)) }
        // Labels = inputs shifted by one, as transformers does with labels = input_ids.
        let targets = Array(ids.dropFirst()) + [ids[0]]
        let label = URL(fileURLWithPath: path).lastPathComponent
        print("\nLoRA step on \(label) — r 8, α 16, all linear layers, AdamW, batch \(batch) × \(steps) tokens (\(trainable) trainable)")
        var tables: [String] = []
        for count in threads {
            let meter = MemoryMeter()
            let ms = meter.install {
                Parallelism.$threads.withValue(count) {
                    Measure.medianMilliseconds(repetitions: quick ? 2 : 5) {
                        StepBench.step(model, optimizer, ids: ids, targets: targets, rows: batch, length: steps)
                    }
                }
            }
            if profiled {
                // The breakdown: one more step under a profile (timing hooks on every op), outside the meter.
                let profile = OpProfile()
                Parallelism.$threads.withValue(count) {
                    profile.install { StepBench.step(model, optimizer, ids: ids, targets: targets, profile: profile, rows: batch, length: steps) }
                }
                tables.append("lora-r8 \(label), \(count) thread(s), ms per step:\n" + profile.table(steps: 1))
            }
            let tokensPerSecond = Double(batch * steps) / ms * 1000
            print(Measure.pad("lora-r8 \(label)", 34) + Measure.pad("\(count)", 9) + Measure.pad(String(format: "%.1f", ms), 10)
                  + Measure.pad(String(format: "%.0f", tokensPerSecond), 11) + String(format: "%.1f", Double(meter.peakTotal) / 1e6))
            Measure.emitJSON(["bench": "step", "setup": "lora-r8-model", "model": label, "threads": count,
                              "median_ms": (ms * 10).rounded() / 10, "tokens_per_s": tokensPerSecond.rounded(),
                              "peak_bytes": meter.peakTotal, "trainable": trainable])
        }
        for table in tables { print("\n" + table) }
    }
}
