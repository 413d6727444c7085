// Zoo.swift — the other parameter-efficient methods, on the same base model.
//
// Teaches: PEFT methods differ in *where* they put a few new (or unfrozen) parameters:
// - BitFit: unfreeze only the biases (no new parameters at all; a model built without biases, such as
//   Llama, first gets zero biases on its block linears, so it still starts as the base).
// - IA3: learn vectors that rescale activations — keys and values in attention, the MLP's hidden
//   units — initialised to 1 (Liu et al., 2022).
// - Houlsby adapters: a bottleneck MLP (down, nonlinearity, up) added after the attention and MLP
//   outputs, both projections drawn N(0, 0.01²) clipped at 2σ so the adapter starts near the identity
//   (Houlsby et al., 2019, §3.6).
// - Prompt tuning: P learned "virtual token" embeddings before every input (Lester et al., 2021).
// - Prefix tuning: P learned keys and values in every attention layer (Li & Liang, 2021), trained
//   through their MLP reparameterisation and started from real tokens' activations (PrefixTuning.swift).
// Each reaches the model through one of NN's hooks: a `LinearAdapter` on a Linear layer (IA3,
// adapters, LoRA), a `PromptPrefix` on the GPT (prompt tuning), an `AttentionPrefix` on each
// attention layer (prefix tuning) — the model never knows which method is installed.
// BitFit, IA3 and LoRA start as the identity, Houlsby adapters within ~1e-3 of it; prompt and prefix
// tuning change the model from step 0 (the extra positions take part in attention), as a real text
// prefix would.
// Leaves out: P-tuning v2 details, (IA)³'s own loss terms.
import Kernels
import Autodiff
import NN

/// A parameter-efficient fine-tuning method and its size knob.
public enum PEFTMethod: Sendable, Equatable, CustomStringConvertible {
    case lora(LoRAConfig)
    case bitFit
    case ia3
    case houlsby(bottleneck: Int)
    case promptTuning(tokens: Int)
    case prefixTuning(tokens: Int)

    public var description: String {
        switch self {
        case .lora(let c): return "LoRA r=\(c.rank) (\(c.targets.joined(separator: "+")))"
        case .bitFit: return "BitFit"
        case .ia3: return "IA3"
        case .houlsby(let m): return "Houlsby adapters (m=\(m))"
        case .promptTuning(let p): return "prompt tuning (\(p) tokens)"
        case .prefixTuning(let p): return "prefix tuning (\(p) tokens, MLP)"
        }
    }
}

/// Applying PEFT methods to a model (caseless namespace).
public enum PEFTZoo {
    /// Freezes the base model, adds `method`'s parameters, returns the number of trainable parameters.
    @discardableResult
    public static func apply(_ method: PEFTMethod, to model: GPT, seed: UInt64) throws -> Int {
        var rng = RNG(seed: seed)
        let c = model.config.embeddingSize
        switch method {
        case .lora(let config):
            return try LoRA.add("default", to: model, config: config, seed: seed)
        case .bitFit:
            model.setTrainable(false)
            addZeroBiasesIfAbsent(model)
            model.setTrainable(true) { $0.hasSuffix(".bias") }
        case .ia3:
            model.setTrainable(false)
            for (path, layer) in LoRA.linearLayers(of: model) {
                let name = path.split(separator: ".").last.map(String.init) ?? path
                switch name {
                case "c_attn":           // GPT-2's fused q|k|v: scale the k and v columns.
                    layer.adapter = OutputScale(width: 3 * c, learnedFrom: c)
                case "k_proj", "v_proj": // Llama: scale keys and values.
                    layer.adapter = OutputScale(width: layer.outFeatures, learnedFrom: 0)
                case "down_proj":        // the MLP's hidden units, at the input of its down projection.
                    layer.adapter = InputScale(width: layer.inFeatures)
                case "c_proj" where path.contains(".mlp."):
                    layer.adapter = InputScale(width: layer.inFeatures)
                default: continue
                }
            }
        case .houlsby(let bottleneck):
            model.setTrainable(false)
            for (path, layer) in LoRA.linearLayers(of: model) where path.hasSuffix("c_proj") || path.hasSuffix("o_proj") || path.hasSuffix("down_proj") {
                layer.adapter = BottleneckAdapter(width: layer.outFeatures, bottleneck: bottleneck, rng: &rng)
            }
        case .promptTuning(let tokens):
            model.setTrainable(false)
            // Initialise from the embeddings of random vocabulary tokens (Lester et al.'s best simple init).
            let rows = (0..<tokens).map { _ in rng.below(model.config.vocabularySize) }
            model.promptPrefix = VirtualTokens(makeParameter(Tensor.withNoGrad { model.tokenEmbedding.weight.indexSelect(rows) }))
        case .prefixTuning(let tokens):
            model.setTrainable(false)
            // Real tokens to start from: random vocabulary entries, as for prompt tuning.
            let ids = (0..<tokens).map { _ in Int32(rng.below(model.config.vocabularySize)) }
            try installPrefix(on: model, ids: ids, hidden: prefixHiddenWidth(model.config), rng: &rng)
        }
        return model.parameterCount(trainableOnly: true)
    }

    /// BitFit on a model built without biases (Llama, SmolLM2: no linear layer has one, and RMSNorm has
    /// none): gives every block's linear layer a zero bias [out] — the outputs are unchanged, so the model
    /// still starts as the base — for BitFit to train. A model that has biases (GPT-2) is left as it is;
    /// the output head (`lm_head`) gets none, as in BitFit's paper, which trains the encoder's biases.
    static func addZeroBiasesIfAbsent(_ model: GPT) {
        guard !model.namedParameters().contains(where: { $0.name.hasSuffix(".bias") }) else { return }
        for (path, layer) in LoRA.linearLayers(of: model) where layer.bias == nil && !path.hasSuffix("lm_head") {
            layer.bias = makeParameter(Tensor(zeros: [layer.outFeatures]))
        }
    }

    /// The width m of prefix tuning's reparameterising MLP: C/4 (at least 8).
    public static func prefixHiddenWidth(_ config: GPTConfig) -> Int { max(config.embeddingSize / 4, 8) }

    /// Multiply-adds per token the method adds at inference, beyond the base model (merged LoRA: 0).
    public static func extraInferenceMultiplyAdds(_ method: PEFTMethod, model: GPT, contextLength t: Int) -> Int {
        let (c, layers) = (model.config.embeddingSize, model.config.layers)
        switch method {
        case .lora: return 0                                // merged into W before serving
        case .bitFit: return 0
        case .ia3: return layers * (2 * c + model.config.mlpSize)   // one multiply per scaled unit
        case .houlsby(let m): return layers * 2 * (2 * c * m)       // two bottleneck MLPs per block
        case .promptTuning(let p), .prefixTuning(let p):
            // every query attends to p more keys and values in every layer: 2·p·C per token per layer
            _ = t
            return layers * 2 * p * c
        }
    }
}

/// IA3: y = base(x) ⊙ l on output columns [learnedFrom, width) (the rest scaled by a constant 1).
final class OutputScale: LinearAdapter {
    let scale: Tensor
    let fixed: Tensor?
    init(width: Int, learnedFrom: Int) {
        scale = makeParameter(Tensor(repeating: 1, shape: [width - learnedFrom]))
        fixed = learnedFrom > 0 ? Tensor(repeating: 1, shape: [learnedFrom]) : nil
    }
    var adapterParameters: [(name: String, tensor: Tensor)] { [("ia3_l", scale)] }
    func forward(_ x: Tensor, layer: Linear) -> Tensor {
        let full = fixed.map { Tensor.concat([$0, scale], axis: 0) } ?? scale
        return layer.baseForward(x) * full
    }
}

/// IA3 on a layer's input: y = base(x ⊙ l).
final class InputScale: LinearAdapter {
    let scale: Tensor
    init(width: Int) { scale = makeParameter(Tensor(repeating: 1, shape: [width])) }
    var adapterParameters: [(name: String, tensor: Tensor)] { [("ia3_l", scale)] }
    func forward(_ x: Tensor, layer: Linear) -> Tensor { layer.baseForward(x * scale) }
}

/// A Houlsby bottleneck after a layer: y = h + up(gelu(down(h))), h = base(x). Both projections are
/// drawn N(0, σ²) with σ = 0.01, clipped at ±2σ (the paper's near-identity start), biases 0.
final class BottleneckAdapter: LinearAdapter {
    static let initialStd: Float = 0.01
    let down: Tensor, downBias: Tensor, up: Tensor, upBias: Tensor
    init(width: Int, bottleneck: Int, rng: inout RNG) {
        func nearZero(_ shape: [Int]) -> Tensor {
            let std = Self.initialStd
            let drawn = Tensor.randomNormal(shape, std: std, rng: &rng)
            return Tensor(drawn.values.map { Swift.min(Swift.max($0, -2 * std), 2 * std) }, shape: shape)
        }
        down = makeParameter(nearZero([bottleneck, width]))
        downBias = makeParameter(Tensor(zeros: [bottleneck]))
        up = makeParameter(nearZero([width, bottleneck]))
        upBias = makeParameter(Tensor(zeros: [width]))
    }
    var adapterParameters: [(name: String, tensor: Tensor)] {
        [("adapter_down.weight", down), ("adapter_down.bias", downBias), ("adapter_up.weight", up), ("adapter_up.bias", upBias)]
    }
    func forward(_ x: Tensor, layer: Linear) -> Tensor {
        let h = layer.baseForward(x)
        let hidden = (Tensor.matmul(h, down, transposeB: true) + downBias).gelu()
        return h + (Tensor.matmul(hidden, up, transposeB: true) + upBias)
    }
}

/// Prompt tuning: P trainable embeddings [P, C] the model places before every sequence.
final class VirtualTokens: PromptPrefix {
    let embeddings: Tensor
    init(_ embeddings: Tensor) { self.embeddings = embeddings }
    var prefixParameters: [(name: String, tensor: Tensor)] { [("virtual_tokens", embeddings)] }
}

