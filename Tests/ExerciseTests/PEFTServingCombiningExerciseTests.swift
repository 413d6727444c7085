// PEFTServingCombiningExerciseTests.swift — tests for exercises 7.1 (IA3), 9.1 (mixed-batch segments) and
// 14.1 (LoRA concatenation), against hand-computed values and the library.
// Select them with: swift test --filter "Task 7.1" (or "Task 9.1", "Task 14.1").
import Testing
import ExerciseKit
import Workbook
import WorkbookCatalogue
import Kernels
import Autodiff
import NN
import PEFT
import Merging

@Suite(.implemented("7.1")) struct `Task 7.1 — IA3 rescaling` {
    @Test func `Task 7.1 — hand-computed`() throws {
        // width 1, in 2: W = [[1, 0], [0, 1], [1, 1]], bias [0, 1, 0], x = [2, 3] → y = [2, 4, 5];
        // scales (k, v) = (0.5, -1) → [2, 2, -5]: the query is untouched.
        let y = try ia3Attention(x: [2, 3], w: [1, 0, 0, 1, 1, 1], bias: [0, 1, 0], scales: [0.5, -1], inFeatures: 2, width: 1)
        #expect(y == [2, 2, -5])
    }

    @Test func `Task 7.1 — equals the library's IA3 layer on GPT-2's c_attn`() throws {
        var rng = RNG(seed: 4)
        let model = GPT(config: .gpt2(vocabularySize: 10, contextLength: 4, embeddingSize: 8, layers: 1, heads: 2), rng: &rng)
        try PEFTZoo.apply(.ia3, to: model, seed: 1)
        let (_, layer) = try #require(LoRA.linearLayers(of: model).first { $0.path.hasSuffix("c_attn") })
        let scale = try #require(layer.adapter?.adapterParameters.first?.tensor)
        for i in 0..<scale.count { scale.data[i] = 1 + 0.5 * rng.normal() }     // a trained-looking l
        let x = (0..<8).map { _ in rng.normal() }
        let expected = Tensor.withNoGrad { layer(Tensor(x, shape: [1, 8])).values }
        let got = try ia3Attention(x: x, w: layer.weight.values, bias: layer.bias?.values ?? [Float](repeating: 0, count: 24),
                                   scales: scale.values, inFeatures: 8, width: 8)
        #expect(got.count == 24)
        #expect(zip(got, expected).allSatisfy { abs($0 - $1) < 1e-5 })
    }
}

@Suite(.implemented("9.1")) struct `Task 9.1 — mixed-batch segments` {
    @Test func `Task 9.1 — grouped, sorted by name, base rows left out`() throws {
        let segments = try adapterSegments(["record", nil, "reverse", "record", nil, "arith"])
        #expect(segments.map(\.adapter) == ["arith", "record", "reverse"])
        #expect(segments.map(\.rows) == [[5], [0, 3], [2]])
        #expect(try adapterSegments([nil, nil]).isEmpty)
        #expect(try adapterSegments([]).isEmpty)
    }
}

@Suite(.implemented("14.1")) struct `Task 14.1 — LoRA concatenation` {
    /// A layer [out 3, in 4] with adapters of ranks 2 and 1 and scalings 2 and 3 (B filled at random).
    static func fixture() throws -> (layer: Linear, lora: LoRALayer, model: GPT) {
        var rng = RNG(seed: 21)
        let model = GPT(config: .gpt2(vocabularySize: 10, contextLength: 4, embeddingSize: 8, layers: 1, heads: 2), rng: &rng)
        try LoRA.add("one", to: model, config: LoRAConfig(rank: 2, alpha: 4), seed: 1)
        try LoRA.add("two", to: model, config: LoRAConfig(rank: 1, alpha: 3), seed: 2)
        for (_, _, lora) in LoRA.loraLayers(of: model) {
            for name in ["one", "two"] { let b = lora.weights(name)!.b; for i in 0..<b.count { b.data[i] = rng.normal() } }
        }
        let (_, layer, lora) = LoRA.loraLayers(of: model)[0]
        return (layer, lora, model)
    }

    @Test func `Task 14.1 — hand-computed`() throws {
        // in 1, out 2: adapter 1 (r 1, s 2): A [[1]], B [[1], [2]]; adapter 2 (r 1, s 1): A [[3]], B [[4], [5]].
        // Weights 1 and 0.5: A = [[1], [3]], B = [[2, 2], [4, 2.5]].
        let (a, b) = try concatenateAdapters([([1], [1, 2], 1, 2), ([3], [4, 5], 1, 1)], weights: [1, 0.5], inFeatures: 1, outFeatures: 2)
        #expect(a == [1, 3])
        #expect(b == [2, 2, 4, 2.5])
    }

    @Test func `Task 14.1 — equals the library's concatenation, and B·A is the weighted sum`() throws {
        let f = try Self.fixture()
        let one = f.lora.weights("one")!, two = f.lora.weights("two")!
        let (inFeatures, outFeatures) = (f.layer.inFeatures, f.layer.outFeatures)
        let (a, b) = try concatenateAdapters([(one.a.values, one.b.values, 2, one.config.scaling), (two.a.values, two.b.values, 1, two.config.scaling)],
                                             weights: [0.5, 2], inFeatures: inFeatures, outFeatures: outFeatures)
        AdapterMerge.combine(["one", "two"], weights: [0.5, 2], using: .concatenation, into: "both", model: f.model)
        let library = f.lora.weights("both")!
        #expect(a == library.a.values && b == library.b.values)
        // Independently: B·A = 0.5·s₁B₁A₁ + 2·s₂B₂A₂, entry by entry.
        let expected = zip(AdapterMerge.delta(one, weight: 0.5, inFeatures: inFeatures, outFeatures: outFeatures),
                           AdapterMerge.delta(two, weight: 2, inFeatures: inFeatures, outFeatures: outFeatures)).map(+)
        for o in 0..<outFeatures {
            for i in 0..<inFeatures {
                let product = (0..<3).reduce(Float(0)) { $0 + b[o * 3 + $1] * a[$1 * inFeatures + i] }
                #expect(abs(product - expected[o * inFeatures + i]) < 1e-5)
            }
        }
    }
}
