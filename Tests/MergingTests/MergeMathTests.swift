// MergeMathTests.swift — each merge method on small hand-checkable vectors, and its defining properties.
import Foundation
import Testing
import Kernels
import Autodiff
import NN
import PEFT
@testable import Merging
import TestSupport

@Suite struct MergeMathTests {
    @Test func slerpOfOrthogonalUnitVectors() {
        let mid = MergeMath.slerp([1, 0], [0, 1], t: 0.5)
        #expect(abs(mid[0] - 0.70711) < 1e-5 && abs(mid[1] - 0.70711) < 1e-5)
        // Endpoints, and the lerp fallback for nearly colinear vectors.
        #expect(MergeMath.slerp([1, 2], [3, -1], t: 0).enumerated().allSatisfy { abs($0.element - [1, 2][$0.offset]) < 1e-6 })
        #expect(MergeMath.slerp([1, 0], [1, 0.0001], t: 0.5) == [1, 0.00005])
    }

    @Test func linearAndTaskArithmeticByHand() {
        #expect(MergeMath.linear([[1, 2], [3, 6]], weights: [1, 3]) == [2.5, 5])
        #expect(MergeMath.linear([[1, 2], [3, 6]], weights: [1, 1], normalize: false) == [4, 8])
        let base: [Float] = [1, 1], tuned: [Float] = [3, 0]
        let tau = MergeMath.taskVector(tuned, base: base)
        #expect(tau == [2, -1])
        #expect(MergeMath.taskArithmetic(base: base, taskVectors: [tau], lambdas: [0]) == base)         // λ = 0: the base
        #expect(MergeMath.taskArithmetic(base: base, taskVectors: [tau], lambdas: [1]) == tuned)
        let added = MergeMath.taskArithmetic(base: base, taskVectors: [tau], lambdas: [1])
        #expect(MergeMath.taskArithmetic(base: added, taskVectors: [tau], lambdas: [-1]) == base)      // negation undoes it
    }

    @Test func mergingIdenticalModelsReturnsTheModel() {
        let x: [Float] = [0.5, -2, 3]
        #expect(MergeMath.linear([x, x, x], weights: [0.2, 0.3, 0.5]).enumerated().allSatisfy { abs($0.element - x[$0.offset]) < 1e-6 })
        #expect(MergeMath.slerp(x, x, t: 0.3).enumerated().allSatisfy { abs($0.element - x[$0.offset]) < 1e-6 })
        #expect(MergeMath.ties([x, x], density: 1) == x)
    }

    @Test func tiesByHand() {
        // τ₁ = [3, −1, 0.1, 2], τ₂ = [1, 2, −0.2, −4]; density 0.5 keeps the 2 largest of each:
        // τ̂₁ = [3, 0, 0, 2], τ̂₂ = [0, 2, 0, −4]; elected signs: sign(3)=+, sign(2)=+, 0, sign(−2)=−;
        // disjoint mean: [3, 2, 0, −4].
        #expect(MergeMath.ties([[3, -1, 0.1, 2], [1, 2, -0.2, -4]], density: 0.5) == [3, 2, 0, -4])
        #expect(MergeMath.disjointMean([[1, -2], [3, 1], [-1, -1]]) == [2, -1.5])
    }

    @Test func dareKeepsTheExpectation() {
        let tau: [Float] = [1, -2, 0.5, 4]
        var rng = RNG(seed: 1)
        var sum = [Double](repeating: 0, count: 4)
        let trials = 20_000
        for _ in 0..<trials {
            for (i, v) in MergeMath.dare(tau, dropProbability: 0.7, rng: &rng).enumerated() { sum[i] += Double(v) }
        }
        for i in 0..<4 { #expect(abs(sum[i] / Double(trials) - Double(tau[i])) < 0.05 * max(1, abs(Double(tau[i])))) }
        var a = RNG(seed: 3), b = RNG(seed: 3)
        #expect(MergeMath.dare(tau, dropProbability: 0.5, rng: &a) == MergeMath.dare(tau, dropProbability: 0.5, rng: &b))
    }

    @Test func breadcrumbsDropOutliersAndSmallValues() {
        // Magnitudes 5 > 4 > 3 > 2 > 1: γ = 0.2 drops 5, density 0.4 keeps 4 and 3.
        #expect(MergeMath.breadcrumbs([1, -5, 3, 2, -4], density: 0.4, gamma: 0.2) == [0, 0, 3, 0, -4])
    }

    @Test func modelStockRatio() {
        // Identical directions: cos = 1 → t = 1; orthogonal: cos = 0 → t = 0; two at 60°: t = 2·0.5/1.5.
        #expect(MergeMath.modelStockRatio([[1, 0], [2, 0]]) == 1)
        #expect(MergeMath.modelStockRatio([[1, 0], [0, 1]]) == 0)
        #expect(abs(MergeMath.modelStockRatio([[1, 0], [0.5, Float(3).squareRoot() / 2]]) - 2.0 / 3) < 1e-6)
    }
}

@Suite struct ModelMergeTests {
    let config = GPTConfig.gpt2(vocabularySize: 13, contextLength: 8, embeddingSize: 8, layers: 3, heads: 2)
    func model(_ seed: UInt64) -> GPT { var rng = RNG(seed: seed); return GPT(config: config, rng: &rng) }
    func json(_ text: String) throws -> MergeConfig { try MergeConfig(json: Data(text.utf8), file: "m.json") }

    @Test func taskArithmeticWithLambdaZeroIsTheBaseAndIdenticalModelsMergeToThemselves() throws {
        let models = ["base": model(1), "a": model(2)]
        let zero = try ModelMerge.run(json("""
            {"merge_method": "task_arithmetic", "base_model": "base", "models": [{"model": "a"}], "parameters": {"lambda": 0}}
            """)) { models[$0]! }
        #expect(zero.parameters.map(\.values) == models["base"]!.parameters.map(\.values))
        let soup = try ModelMerge.run(json("""
            {"merge_method": "linear", "models": [{"model": "a"}, {"model": "a", "parameters": {"weight": 3}}]}
            """)) { models[$0]! }
        let worst = maxDifference(soup.parameters.map(\.values), models["a"]!.parameters.map(\.values))
        #expect(worst < Tolerance.identical)
    }

    @Test func depthUpscalingStacksBlocks() throws {
        let m = model(3)
        // SOLAR-style: two copies of a 3-block model, dropping 1 block at the seam each → 2·(3 − 1) = 4 blocks.
        let stacked = try ModelMerge.run(json("""
            {"merge_method": "passthrough", "slices": [{"sources": [{"model": "m", "layer_range": [0, 2]}]},
                                                     {"sources": [{"model": "m", "layer_range": [1, 3]}]}]}
            """)) { _ in m }
        #expect(stacked.config.layers == 4)
        #expect(stacked.parameter(named: "h.2.attn.c_attn.weight")!.values == m.parameter(named: "h.1.attn.c_attn.weight")!.values)
        #expect(stacked.parameter(named: "h.3.mlp.c_fc.bias")!.values == m.parameter(named: "h.2.mlp.c_fc.bias")!.values)
    }

    @Test(arguments: [
        ("{\"models\": []}", "merge_method"),
        ("{\"merge_method\": \"magic\", \"models\": [{\"model\": \"a\"}]}", "merge_method"),
        ("{\"merge_method\": \"ties\", \"models\": [{\"model\": \"a\"}]}", "base_model"),
        ("{\"merge_method\": \"ties\", \"base_model\": \"b\", \"models\": [{\"model\": \"a\", \"parameters\": {\"density\": 2}}]}", "models[0].parameters.density"),
        ("{\"merge_method\": \"passthrough\", \"slices\": [{\"sources\": [{\"model\": \"a\", \"layer_range\": [3, 1]}]}]}", "slices[0].sources[0].layer_range"),
    ])
    func badConfigsNameTheField(text: String, field: String) {
        #expect { try MergeConfig(json: Data(text.utf8), file: "m.json") } throws: { error in
            (error as? MergeConfigError)?.field == field
        }
    }
}

@Suite struct AdapterMergeTests {
    func modelWithTwoAdapters() -> GPT {
        var rng = RNG(seed: 4)
        let m = GPT(config: .gpt2(vocabularySize: 13, contextLength: 8, embeddingSize: 8, layers: 2, heads: 2), rng: &rng)
        LoRA.add("one", to: m, config: LoRAConfig(rank: 2, alpha: 4), seed: 5)
        LoRA.add("two", to: m, config: LoRAConfig(rank: 3, alpha: 3), seed: 6)
        for (_, _, lora) in LoRA.loraLayers(of: m) {
            for name in ["one", "two"] {
                let b = lora.weights(name)!.b
                for i in 0..<b.count { b.data[i] = rng.normal() * 0.2 }
            }
        }
        return m
    }

    let ids: [Int32] = [1, 4, 2, 7, 3, 9]

    @Test func concatenationEqualsBothAdaptersTogether() {
        let m = modelWithTwoAdapters()
        LoRA.setActive(["one", "two"], on: m)
        let together = Tensor.withNoGrad { m(ids, batch: 1, steps: 6) }
        AdapterMerge.combine(["one", "two"], weights: [1, 1], using: .concatenation, into: "both", model: m)
        LoRA.setActive(["both"], on: m)
        let concatenated = Tensor.withNoGrad { m(ids, batch: 1, steps: 6) }
        #expect(maxDifference(together, concatenated) < Tolerance.rounding)
        #expect(LoRA.loraLayers(of: m)[0].lora.weights("both")!.config.rank == 5)
    }

    @Test func svdAtFullCombinedRankIsExactAndLowerRankApproximates() {
        let m = modelWithTwoAdapters()
        LoRA.setActive(["one", "two"], on: m)
        let together = Tensor.withNoGrad { m(ids, batch: 1, steps: 6) }
        AdapterMerge.combine(["one", "two"], weights: [1, 1], using: .svd(rank: 5), into: "svd5", model: m)
        AdapterMerge.combine(["one", "two"], weights: [1, 1], using: .svd(rank: 1), into: "svd1", model: m)
        LoRA.setActive(["svd5"], on: m)
        let exact = Tensor.withNoGrad { m(ids, batch: 1, steps: 6) }
        LoRA.setActive(["svd1"], on: m)
        let approximate = Tensor.withNoGrad { m(ids, batch: 1, steps: 6) }
        let exactError = maxDifference(together, exact)
        let approximateError = maxDifference(together, approximate)
        #expect(exactError < 1e-4)
        #expect(approximateError > exactError)
    }
}
