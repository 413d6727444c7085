// PEFTGradientCheckTests.swift — gradient checks of every PEFT method's forward pass: DoRA, IA3, Houlsby
// adapters on one layer (the input, the adapter's parameters and the layer's own W and b), and each
// method installed in a whole model by `PEFTZoo.apply` (the loss w.r.t. the method's parameters, the base
// frozen), prompt tokens and prefix keys/values included.
//
// At initialisation these methods are the identity (B = 0, up = 0, scales = 1), a point where a wrong
// gradient of the terms behind them is invisible, so every parameter is redrawn at scale 0.3 first
// (TestSupport/GradientChecking.swift). Each test asserts that the number of checked scalars is every
// input plus every trainable parameter, and the model-level tests that the base got no gradient.
import Testing
import Kernels
import Autodiff
import NN
@testable import PEFT
import TestSupport

@Suite struct PEFTGradientCheckTests {
    /// x [2, 3, in] with N(0, 1) entries, requiring a gradient.
    func input(width: Int, seed: UInt64) -> Tensor {
        var rng = RNG(seed: seed)
        return Tensor.randomNormal([2, 3, width], rng: &rng, requiresGrad: true)
    }

    /// Checks `layer` (adapter installed, every parameter redrawn) w.r.t. x and all its parameters.
    func checkLayer(_ layer: Linear, _ label: String, seed: UInt64) {
        ModuleGradientCheck.randomize(layer, seed: seed)
        let x = input(width: layer.inFeatures, seed: seed + 1)
        let result = ModuleGradientCheck.check(layer, inputs: [x]) { layer(x) }
        #expect(result.passed, "\(label): \(result)")
        #expect(result.checked == ModuleGradientCheck.scalarCount(layer, inputs: [x]), "\(label): not every scalar was checked")
    }

    @Test func doraLayer() {
        var rng = RNG(seed: 1)
        let layer = Linear(6, 5, rng: &rng)
        let lora = LoRALayer()
        lora.add("d", config: LoRAConfig(rank: 2, alpha: 3, useDoRA: true), layer: layer, rng: &rng)
        lora.active = ["d"]
        layer.adapter = lora
        #expect(lora.weights("d")?.magnitude != nil)
        checkLayer(layer, "DoRA (x, W, b, A, B, m)", seed: 2)
    }

    @Test func ia3OutputScaleOnTheKeyAndValueColumns() {
        var rng = RNG(seed: 3)
        let layer = Linear(4, 12, rng: &rng)   // a fused q|k|v of width 4: the last 8 columns are learned
        layer.adapter = OutputScale(width: 12, learnedFrom: 4)
        checkLayer(layer, "IA3 output scale", seed: 4)
    }

    @Test func ia3InputScale() {
        var rng = RNG(seed: 5)
        let layer = Linear(8, 3, rng: &rng)
        layer.adapter = InputScale(width: 8)
        checkLayer(layer, "IA3 input scale", seed: 6)
    }

    @Test func houlsbyAdapter() {
        var rng = RNG(seed: 7)
        let layer = Linear(5, 6, rng: &rng)
        layer.adapter = BottleneckAdapter(width: 6, bottleneck: 3, rng: &rng)
        checkLayer(layer, "Houlsby adapter (down, its bias, up, its bias)", seed: 8)
    }

    static let methods: [PEFTMethod] = [.ia3, .houlsby(bottleneck: 3), .promptTuning(tokens: 2), .prefixTuning(tokens: 2),
                                        .lora(LoRAConfig(rank: 2, alpha: 4, useDoRA: true, targets: ["c_attn", "q_proj", "down_proj"]))]

    /// The mean next-token loss w.r.t. the method's parameters, with the method installed in a whole
    /// model of each flavour (the Llama one has grouped KV heads, so prefix tuning's per-query-head keys
    /// meet GQA).
    @Test(arguments: PEFTGradientCheckTests.methods, [TinyModels.gpt2, TinyModels.llama])
    func installedInAModel(_ method: PEFTMethod, _ config: GPTConfig) throws {
        var rng = RNG(seed: 9)
        let model = GPT(config: config, rng: &rng)
        try PEFTZoo.apply(method, to: model, seed: 10)
        ModuleGradientCheck.randomize(model, seed: 11)
        let trainable = model.parameterCount(trainableOnly: true)
        #expect(trainable > 0 && trainable < model.parameterCount(), "\(method): the base must be frozen")
        let ids: [Int32] = [1, 4, 0, 10, 2, 3, 5, 1]
        let targets: [Int32] = [4, 0, 10, 2, 3, 5, 1, 9]
        let result = ModuleGradientCheck.check(model, inputs: []) {
            Tensor.crossEntropy(model(ids, batch: 2, steps: 4), targets: targets)
        }
        #expect(result.passed, "\(method) on \(config.flavour): \(result)")
        #expect(result.checked == trainable, "\(method) on \(config.flavour): not every trainable scalar was checked")
        let frozenWithGradient = model.namedParameters().filter { !$0.tensor.requiresGrad && $0.tensor.grad != nil }.map(\.name)
        #expect(frozenWithGradient.isEmpty, "frozen parameters got gradients: \(frozenWithGradient)")
    }
}
