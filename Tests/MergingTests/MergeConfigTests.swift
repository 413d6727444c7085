// MergeConfigTests.swift — bad merge configs are errors naming the field; odd but legal values give
// finite merges; a merge that would divide by zero or stack past a model's blocks throws before it
// allocates anything.
import Foundation
import Testing
import Kernels
import Autodiff
import NN
@testable import Merging

@Suite struct MergeConfigTests {

    @Test(arguments: [
        // Values of the wrong type are refused, never read as a default.
        (#"{"merge_method": "linear", "models": [{"model": "a", "parameters": {"weight": "0.5"}}]}"#, "models[0].parameters.weight"),
        (#"{"merge_method": "linear", "models": [{"model": "a"}], "parameters": {"normalize": "yes"}}"#, "parameters.normalize"),
        (#"{"merge_method": "linear", "models": [{"model": "a"}], "parameters": {"normalize": 1}}"#, "parameters.normalize"),
        (#"{"merge_method": "linear", "models": [{"model": "a", "parameters": {"weight": true}}]}"#, "models[0].parameters.weight"),
        (#"{"merge_method": "linear", "models": [{"model": "a", "parameters": {"weight": [1, "x"]}}]}"#, "models[0].parameters.weight"),
        (#"{"merge_method": "linear", "models": [{"model": "a", "parameters": {"weight": 1e39}}]}"#, "models[0].parameters.weight"),
        (#"{"merge_method": "linear", "models": "a"}"#, "models"),
        (#"{"merge_method": "slerp", "base_model": 3, "models": [{"model": "a"}]}"#, "base_model"),
        // Out of range.
        (#"{"merge_method": "dare_ties", "base_model": "b", "models": [{"model": "a"}], "parameters": {"drop_probability": 1}}"#, "parameters.drop_probability"),
        (#"{"merge_method": "dare_ties", "base_model": "b", "models": [{"model": "a"}], "parameters": {"drop_probability": -0.1}}"#, "parameters.drop_probability"),
        (#"{"merge_method": "dare_ties", "base_model": "b", "models": [{"model": "a"}], "parameters": {"drop_probability": true}}"#, "parameters.drop_probability"),
        (#"{"merge_method": "breadcrumbs", "base_model": "b", "models": [{"model": "a", "parameters": {"gamma": -1}}]}"#, "models[0].parameters.gamma"),
        (#"{"merge_method": "ties", "base_model": "b", "models": [{"model": "a", "parameters": {"density": -0.5}}]}"#, "models[0].parameters.density"),
        // Fields and parameters mergekit would read differently from us are refused by name.
        (#"{"merge_method": "linear", "models": [{"model": "a"}], "tokenizer_source": "union"}"#, "tokenizer_source"),
        (#"{"merge_method": "linear", "models": [{"model": "a"}], "dtype": "bfloat16"}"#, "dtype"),
        (#"{"merge_method": "linear", "models": [{"model": "a"}], "out_dtype": "float16"}"#, "out_dtype"),
        (#"{"merge_method": "linear", "models": [{"model": "a"}], "modules": {}}"#, "modules"),
        (#"{"merge_method": "linear", "models": [{"model": "a"}], "colour": "blue"}"#, "colour"),
        (#"{"merge_method": "linear", "models": [{"model": "a", "parameters": {"density": 0.5}}]}"#, "models[0].parameters.density"),
        (#"{"merge_method": "ties", "base_model": "b", "models": [{"model": "a", "parameters": {"lambda": 2}}]}"#, "models[0].parameters.lambda"),
        (#"{"merge_method": "slerp", "base_model": "b", "models": [{"model": "a"}], "parameters": {"t": 0.5, "weight": 1}}"#, "parameters.weight"),
        (#"{"merge_method": "model_stock", "base_model": "b", "models": [{"model": "a"}, {"model": "c"}], "parameters": {"filter_wise": true}}"#, "parameters.filter_wise"),
        (#"{"merge_method": "linear", "base_model": "b", "models": [{"model": "a"}]}"#, "base_model"),
        (#"{"merge_method": "slerp", "base_model": "a", "models": [{"model": "a"}, {"model": "b"}]}"#, "parameters.t"),
        (#"{"merge_method": "slerp", "base_model": "a", "models": [{"model": "b"}, {"model": "c"}], "parameters": {"t": 0.5}}"#, "models"),
        // Slices: several sources, bad ranges, overflowing sums.
        (#"{"merge_method": "passthrough", "slices": [{"sources": [{"model": "a", "layer_range": [0, 2]}, {"model": "b", "layer_range": [0, 2]}]}]}"#, "slices[0].sources"),
        (#"{"merge_method": "passthrough", "slices": [{"sources": [{"model": "a", "layer_range": [0, 1000000000000]}]}]}"#, "slices[0].sources[0].layer_range"),
        (#"{"merge_method": "passthrough", "slices": [{"sources": [{"model": "a", "layer_range": [0, 2.5]}]}]}"#, "slices[0].sources[0].layer_range"),
        (#"{"merge_method": "passthrough", "slices": [{"sources": [{"model": "a", "layer_range": [0, 9223372036854775807]}]}, {"sources": [{"model": "a", "layer_range": [0, 9223372036854775807]}]}]}"#, "slices[0].sources[0].layer_range"),
        (#"{"merge_method": "passthrough", "slices": [{"sources": [{"model": "a", "layer_range": [0, 3000]}]}, {"sources": [{"model": "a", "layer_range": [0, 3000]}]}]}"#, "slices"),
        (#"{"merge_method": "passthrough", "slices": [{"sources": [{"model": "a", "layer_range": [0, 1]}], "residual_weight": 0.5}]}"#, "slices[0].residual_weight"),
        (#"{"merge_method": "passthrough", "slices": [{"sources": [{"model": "a", "layer_range": [0, 1], "parameters": {"scale": 2}}]}]}"#, "slices[0].sources[0].parameters.scale"),
    ])
    func badConfigsNameTheField(text: String, field: String) {
        #expect { try MergeConfig(json: Data(text.utf8), file: "m.json") } throws: { error in
            (error as? MergeConfigError)?.field == field || { Issue.record("got \(error)"); return false }()
        }
    }

    func tiny(seed: UInt64) -> GPT {
        var rng = RNG(seed: seed)
        return GPT(config: .gpt2(vocabularySize: 11, contextLength: 8, embeddingSize: 8, layers: 2, heads: 2), rng: &rng)
    }

    @Test func weightsSummingToZeroWithNormalizeAreAnErrorNotNaN() throws {
        let config = try MergeConfig(json: Data(#"{"merge_method": "linear", "models": [{"model": "a", "parameters": {"weight": 1}}, {"model": "b", "parameters": {"weight": -1}}]}"#.utf8))
        let (a, b) = (tiny(seed: 1), tiny(seed: 2))
        #expect { try ModelMerge.run(config) { $0 == "a" ? a : b } } throws: { "\($0)".contains("sum to 0") }
    }

    @Test func tinyDensitiesAndAllowedExtremesGiveFiniteMerges() throws {
        let (base, a, b) = (tiny(seed: 1), tiny(seed: 2), tiny(seed: 3))
        for text in [
            #"{"merge_method": "dare_ties", "base_model": "base", "models": [{"model": "a", "parameters": {"density": 1e-320}}, {"model": "b"}], "parameters": {"seed": 3}}"#,
            #"{"merge_method": "ties", "base_model": "base", "models": [{"model": "a", "parameters": {"density": 0}}, {"model": "b", "parameters": {"density": 1e-300}}]}"#,
            #"{"merge_method": "breadcrumbs", "base_model": "base", "models": [{"model": "a", "parameters": {"density": 0.9, "gamma": 1}}]}"#,
            #"{"merge_method": "task_arithmetic", "base_model": "base", "models": [{"model": "a", "parameters": {"weight": 1}}, {"model": "b", "parameters": {"weight": -1}}], "parameters": {"normalize": true}}"#,
        ] {
            let merged = try ModelMerge.run(MergeConfig(json: Data(text.utf8))) { ["base": base, "a": a, "b": b][$0]! }
            #expect(merged.namedParameters().allSatisfy { $0.tensor.values.allSatisfy(\.isFinite) }, "\(text)")
        }
    }

    @Test func slicesPastTheModelsBlocksThrowBeforeAllocating() throws {
        let m = tiny(seed: 1)
        let config = try MergeConfig(json: Data(#"{"merge_method": "passthrough", "slices": [{"sources": [{"model": "m", "layer_range": [0, 4000]}]}]}"#.utf8))
        let meter = MemoryMeter()
        try meter.install {
            #expect { try ModelMerge.run(config) { _ in m } } throws: { "\($0)".contains("exceeds its 2 blocks") }
        }
        // Nothing the size of a 4000-block model was allocated (one block of this model is ~2 KB).
        #expect(meter.peakTotal < 1_000_000, "peak \(meter.peakTotal) bytes")
    }
}
