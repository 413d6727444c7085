// GenerateBench.swift — `bench generate`: prefill and decode tokens/s with the KV cache.
//
// Greedy generation of 128 new tokens after a 64-token prompt (no stop token, so every run decodes
// the full 128; a model with a shorter context gets a quarter of it as prompt and the rest as new
// tokens, so the context never fills and every step is a true one-position decode), at 1 and 2 threads. Prefill is one batched pass over the prompt (matrix products,
// compute-bound); decode is one position per token (matrix-vector products, bound by reading every
// weight once per token). Models: the built-in base model's architecture (random weights — speed does
// not depend on them) and, with `--model=DIR` (a Hugging Face directory such as SmolLM2-135M-Instruct),
// that model. The prompt ids are (i · 7919 + 13) mod V, i = 0…63, so Benchmarks/compare/
// generate_transformers.py feeds transformers exactly the same tokens.
import Foundation
import Kernels
import Autodiff
import NN
import Training
import Checkpoints

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
                let model = try ModelCheckpoint.load(directory: URL(fileURLWithPath: path))
                model.setTrainable(false)
                models.append((URL(fileURLWithPath: path).lastPathComponent, model))
            } catch {
                print("skipped \(path): \(error)")
            }
        } else {
            print("(give --model=DIR, e.g. a SmolLM2-135M-Instruct Hugging Face directory, to measure a real model too)")
        }
        for (label, model) in models {
            for threads in [1, 2] { measure(label, model, threads: threads, repetitions: quick ? 1 : 3) }
        }
    }

    /// `--model=DIR` from the command line.
    static func modelPath() -> String? {
        CommandLine.arguments.first { $0.hasPrefix("--model=") }.map { String($0.dropFirst("--model=".count)) }
    }

    static func measure(_ label: String, _ model: GPT, threads: Int, repetitions: Int) {
        let context = model.config.contextLength
        let length = min(promptLength, context / 4), new = min(newTokens, context - length)
        let ids = prompt(length: length, vocabulary: model.config.vocabularySize)
        let request = GenerationRequest(maxNewTokens: new)
        var runs: [Generation] = []
        Parallelism.$threads.withValue(threads) {
            var rng = RNG(seed: 0)
            _ = model.generate(prompt: Array(ids.prefix(8)), request: GenerationRequest(maxNewTokens: 4), rng: &rng)  // warm-up
            for _ in 0..<repetitions { runs.append(model.generate(prompt: ids, request: request, rng: &rng)) }
        }
        // Medians of the two rates over the repetitions.
        func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }
        let prefill = median(runs.map(\.prefillTokensPerSecond)), decode = median(runs.map(\.decodeTokensPerSecond))
        let cacheBytes = KVCache(config: model.config, capacity: length + new).byteCount
        print(Measure.pad(label, 26) + Measure.pad("\(threads)", 9) + Measure.pad("\(length)+\(new)", 12) + Measure.pad(String(format: "%.1f", prefill), 15)
              + Measure.pad(String(format: "%.1f", decode), 14) + String(format: "%.1f", Double(cacheBytes) / 1e6))
        Measure.emitJSON(["bench": "generate", "model": label, "threads": threads, "prompt_tokens": length,
                          "new_tokens": new, "prefill_tokens_per_s": (prefill * 10).rounded() / 10,
                          "decode_tokens_per_s": (decode * 10).rounded() / 10, "kv_cache_bytes": cacheBytes])
    }
}
