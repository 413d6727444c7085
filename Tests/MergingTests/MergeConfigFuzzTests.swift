// MergeConfigFuzzTests.swift — seeded mutations of valid merge configs: parsing and merging either
// succeed with finite tensors or throw, never crash or hang.
import Foundation
import Testing
import Kernels
import TestSupport
import Autodiff
import NN
@testable import Merging

@Suite struct MergeConfigFuzzTests {
    @Test func mutatedConfigsNeverCrashOrGiveNaN() throws {
        var rng = RNG(seed: 1)
        let shape = GPTConfig.gpt2(vocabularySize: 11, contextLength: 8, embeddingSize: 8, layers: 2, heads: 2)
        let models = ["base": GPT(config: shape, rng: &rng), "a": GPT(config: shape, rng: &rng), "b": GPT(config: shape, rng: &rng)]
        let seeds = [
            #"{"merge_method": "ties", "base_model": "base", "models": [{"model": "a", "parameters": {"weight": 1, "density": 0.5}}, {"model": "b", "parameters": {"weight": 0.5, "density": 0.7}}], "parameters": {"normalize": true, "lambda": 1.0}}"#,
            #"{"merge_method": "slerp", "base_model": "a", "models": [{"model": "a"}, {"model": "b"}], "parameters": {"t": [{"filter": "attn", "value": [0, 0.5, 1]}, {"value": 0.3}]}}"#,
            #"{"merge_method": "passthrough", "slices": [{"sources": [{"model": "a", "layer_range": [0, 2]}]}, {"sources": [{"model": "b", "layer_range": [1, 2]}]}]}"#,
            #"{"merge_method": "dare_ties", "base_model": "base", "models": [{"model": "a", "parameters": {"weight": 1, "density": 0.5}}, {"model": "b", "parameters": {"weight": 1, "drop_probability": 0.3}}], "parameters": {"seed": 4}}"#,
            #"{"merge_method": "breadcrumbs", "base_model": "base", "models": [{"model": "a", "parameters": {"weight": 1, "density": 0.8, "gamma": 0.1}}]}"#,
            #"{"merge_method": "linear", "models": [{"model": "a", "parameters": {"weight": 0.3}}, {"model": "b", "parameters": {"weight": 0.7}}]}"#,
        ]
        var mutator = FileMutator(seed: 23)
        var (merged, refused) = (0, 0)
        for round in 0..<3000 {
            let (data, kind) = mutator.mutateText(seeds[round % seeds.count])
            do {
                let config = try MergeConfig(json: data, file: "fuzz.json")
                let model = try ModelMerge.run(config) { name in
                    guard let model = models[name] else { throw ModelMerge.Error(description: "unknown model \(name)") }
                    return model
                }
                merged += 1
                let finite = model.namedParameters().allSatisfy { $0.tensor.values.allSatisfy { $0.isFinite } }
                #expect(finite,
                        "round \(round) (\(kind)): non-finite merge of \(String(decoding: data, as: UTF8.self))")
            } catch {
                refused += 1
            }
        }
        #expect(merged > 0 && refused > 0, "merged \(merged), refused \(refused)")
    }
}
