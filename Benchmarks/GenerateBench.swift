// GenerateBench.swift — `bench generate`: prefill and decode tokens/s with the KV cache.
//
// Greedy generation of 128 new tokens after a 64-token prompt (no stop token, so every run decodes
// the full 128; a model with a shorter context gets a quarter of it as prompt and the rest as new
// tokens, so the context never fills and every step is a true one-position decode), at 1 and 2 threads. Prefill is one batched pass over the prompt (matrix products,
// compute-bound); decode is one position per token (matrix-vector products, bound by reading every
// weight once per token). Models: the built-in base model's architecture (random weights — speed does
// not depend on them) and, with `--model=DIR` (a Hugging Face directory such as SmolLM2-135M-Instruct,
// fp32) or `--model=FILE.gguf` (kept packed, decoded inside the GEMM), that model. The prompt ids are (i · 7919 + 13) mod V, i = 0…63, so Benchmarks/compare/
// generate_transformers.py feeds transformers exactly the same tokens. Prefill is timed alone, 3× per
// generation (a fresh cache each time); `--prefill-only` skips the generations (decode reads 0), for
// quick A/B runs of the prefill, and `--profile` adds a per-op breakdown of the prefill. A dense real
// model is prepacked for inference first, as `tinytune generate` runs it (`--no-prepack`: not).
import Foundation
import Kernels
import Autodiff
import NN
import Training
import Checkpoints
import Quantization

enum GenerateBench {
    static let (promptLength, newTokens) = (64, 128)

    /// The benchmark prompt: `length` ids for a vocabulary of `v`.
    static func prompt(length: Int, vocabulary v: Int) -> [Int] { (0..<length).map { ($0 * 7919 + 13) % v } }

    static func run(quick: Bool) {
        print("Generation — greedy, \(promptLength)-token prompt, \(newTokens) new tokens (shorter contexts: ¼ prompt, ¾ new), KV cache")
        print(Measure.pad("model", 26) + Measure.pad("threads", 9) + Measure.pad("prompt+new", 12) + Measure.pad("prefill tok/s", 15)
              + Measure.pad("decode tok/s", 14) + "cache MB")
        var rng = RNG(seed: 1)
        var models: [(String, GPT)] = [("built-in (random weights)", GPT(config: PretrainingRecipe.standard.model, rng: &rng))]
        if let path = modelPath() {
            do {
                let url = URL(fileURLWithPath: path)
                // A .gguf file runs kept packed (the dequantizing GEMM), as `tinytune generate` runs it.
                let model = url.pathExtension.lowercased() == "gguf" ? try GGUFPackedModel.loadBase(url, packed: true).model
                    : try ModelCheckpoint.load(directory: url)
                model.setTrainable(false)
                // As `tinytune generate` does: a dense model's block weights are packed once for inference
                // (GEMM+Prepacked.swift); `--no-prepack` measures the per-call packing instead.
                if !CommandLine.arguments.contains("--no-prepack") {
                    let started = DispatchTime.now().uptimeNanoseconds
                    let layers = model.prepackForInference()
                    if layers > 0 {
                        print(String(format: "prepacked %d layers for inference in %.0f ms", layers,
                                     Double(DispatchTime.now().uptimeNanoseconds - started) / 1e6))
                    }
                }
                models.append((url.lastPathComponent, model))
            } catch {
                print("skipped \(path): \(error)")
            }
        } else {
            print("(give --model=DIR, e.g. a SmolLM2-135M-Instruct Hugging Face directory, to measure a real model too)")
        }
        for (label, model) in models {
            for threads in [1, 2] { measure(label, model, threads: threads, repetitions: quick ? 1 : 3) }
            if CommandLine.arguments.contains("--profile") { profilePrefill(label, model) }
        }
    }

    /// `--profile`: where a prefill's time goes, op by op (the cached attention is charged to the op
    /// after it, the output projection's matmul), at 1 and 2 threads, over 3 prefills.
    static func profilePrefill(_ label: String, _ model: GPT) {
        let ids = prompt(length: min(promptLength, model.config.contextLength / 4), vocabulary: model.config.vocabularySize)
        for threads in [1, 2] {
            let profile = OpProfile(), repetitions = 3
            Parallelism.$threads.withValue(threads) {
                _ = model(ids.map(Int32.init), cache: KVCache(config: model.config, capacity: ids.count), lastOnly: true)
                for _ in 0..<repetitions {
                    let cache = KVCache(config: model.config, capacity: ids.count)
                    profile.install { profile.markForwardStart(); _ = model(ids.map(Int32.init), cache: cache, lastOnly: true) }
                }
            }
            print("\nPrefill of \(ids.count) tokens, \(label), \(threads) thread(s), per prefill:")
            print(profile.table(steps: repetitions))
        }
    }

    /// `--prefill-only`: time the prefill alone (no generations).
    static var prefillOnly: Bool { CommandLine.arguments.contains("--prefill-only") }

    /// `--model=DIR` from the command line.
    static func modelPath() -> String? {
        CommandLine.arguments.first { $0.hasPrefix("--model=") }.map { String($0.dropFirst("--model=".count)) }
    }

    static func measure(_ label: String, _ model: GPT, threads: Int, repetitions: Int) {
        let context = model.config.contextLength
        let length = min(promptLength, context / 4), new = min(newTokens, context - length)
        let ids = prompt(length: length, vocabulary: model.config.vocabularySize)
        let request = GenerationRequest(maxNewTokens: new)
        var runs: [Generation] = [], prefillRates: [Double] = []
        Parallelism.$threads.withValue(threads) {
            var rng = RNG(seed: 0)
            _ = model.generate(prompt: Array(ids.prefix(8)), request: GenerationRequest(maxNewTokens: 4), rng: &rng)  // warm-up
            for _ in 0..<(prefillOnly ? 0 : repetitions) { runs.append(model.generate(prompt: ids, request: request, rng: &rng)) }
            // Prefill alone, 3× as often (it is short, and a shared host's noise is large against it): a
            // fresh cache each time, the same call the generation's prefill makes.
            for _ in 0..<3 * repetitions {
                let cache = KVCache(config: model.config, capacity: length + new)
                let started = DispatchTime.now().uptimeNanoseconds
                _ = model(ids.map(Int32.init), cache: cache, lastOnly: true).values
                prefillRates.append(Double(length) / (Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9))
            }
        }
        // Medians: prefill over the standalone prefills, decode over the generations.
        func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }
        let prefill = median(prefillRates), decode = runs.isEmpty ? 0 : median(runs.map(\.decodeTokensPerSecond))
        let cacheBytes = KVCache(config: model.config, capacity: length + new).byteCount
        print(Measure.pad(label, 26) + Measure.pad("\(threads)", 9) + Measure.pad("\(length)+\(new)", 12) + Measure.pad(String(format: "%.1f", prefill), 15)
              + Measure.pad(String(format: "%.1f", decode), 14) + String(format: "%.1f", Double(cacheBytes) / 1e6))
        Measure.emitJSON(["bench": "generate", "model": label, "threads": threads, "prompt_tokens": length,
                          "new_tokens": new, "prefill_tokens_per_s": (prefill * 10).rounded() / 10,
                          "prefill_best_tokens_per_s": ((prefillRates.max() ?? 0) * 10).rounded() / 10,
                          "decode_tokens_per_s": (decode * 10).rounded() / 10, "kv_cache_bytes": cacheBytes])
    }
}
