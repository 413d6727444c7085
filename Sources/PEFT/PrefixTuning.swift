// PrefixTuning.swift — prefix tuning as its paper trains it: reparameterised, started from real text.
//
// Teaches: Li & Liang (2021) found that optimising the prefix keys and values directly is unstable
// and start-sensitive, and trained them through a reparameterisation instead: a small MLP maps P
// trainable embeddings to every layer's prefix, and once training ends only its output (the prefix,
// P keys and values per layer) is kept. They also found that starting from the activations of real
// words beats a random start. Both, here:
//   keys_l, values_l [H, P, D] = K₀_l, V₀_l + split_l( W₂ · tanh(W₁ · E + b₁) + b₂ )
//   E [P, C]     trainable, started at the token embeddings of P real tokens
//   W₁ [m, C], b₁ [m]; W₂ [L·2C, m] starts at 0, b₂ [L·2C] at 0 (so training starts from K₀, V₀)
//   K₀_l, V₀_l   constants: the keys and values layer l computes for those P tokens, recorded by running
//                the model on them once (pre-rotation keys for Llama; grouped KV heads expanded to H)
// At step 0 the model therefore attends to a real text prefix — not to random vectors that change its
// output arbitrarily. Trainable during training: P·C + m·C + m + 2LC·m + 2LC; served: 2·L·P·C.
// Leaves out: dropping the MLP after training (serving reads the same computed keys), P-tuning v2's
// per-layer embeddings, the paper's larger MLP width.
import Kernels
import Autodiff
import NN

/// A thrown problem while installing prefix tuning (the message names the model and the sizes).
public struct PrefixTuningError: Error, CustomStringConvertible {
    public let description: String
}

/// The shared generator of every layer's prefix: E → MLP → [P, L·2C].
final class PrefixGenerator {
    let embeddings: Tensor, down: Tensor, downBias: Tensor, up: Tensor, upBias: Tensor
    let tokens: Int, layers: Int, width: Int

    init(embeddings: Tensor, hidden: Int, layers: Int, rng: inout RNG) {
        let (p, c) = (embeddings.shape[0], embeddings.shape[1])
        (tokens, self.layers, width) = (p, layers, c)
        self.embeddings = makeParameter(embeddings)
        // W₁ like a Linear layer's default (std 1/√C); W₂ at 0, so the reparameterised part starts at 0.
        down = makeParameter(Tensor.randomNormal([hidden, c], std: 1 / Float(c).squareRoot(), rng: &rng))
        downBias = makeParameter(Tensor(zeros: [hidden]))
        up = makeParameter(Tensor(zeros: [layers * 2 * c, hidden]))
        upBias = makeParameter(Tensor(zeros: [layers * 2 * c]))
    }

    /// The learned offsets of all layers: [P, L·2C].
    func offsets() -> Tensor {
        let hidden = (Tensor.matmul(embeddings, down, transposeB: true) + downBias).tanh()
        return Tensor.matmul(hidden, up, transposeB: true) + upBias
    }

    /// Layer `layer`'s key (part 0) or value (part 1) offsets as [H, P, D].
    func offset(layer: Int, part: Int, heads: Int) -> Tensor {
        let start = (2 * layer + part) * width
        return offsets().slice(axis: 1, start..<(start + width)).reshaped([tokens, heads, width / heads]).permuted([1, 0, 2])
    }
}

/// One attention layer's prefix: the recorded real-token keys and values plus the generator's offsets.
final class ReparameterisedPrefix: AttentionPrefix {
    let generator: PrefixGenerator
    let layer: Int, heads: Int
    /// K₀, V₀ [H, P, D]: constants (no gradient).
    let initialKeys: Tensor, initialValues: Tensor
    /// Only the first layer lists the shared generator's parameters, so each is counted once.
    let ownsGenerator: Bool

    init(generator: PrefixGenerator, layer: Int, heads: Int, initialKeys: Tensor, initialValues: Tensor) {
        (self.generator, self.layer, self.heads, self.initialKeys, self.initialValues) = (generator, layer, heads, initialKeys, initialValues)
        ownsGenerator = layer == 0
    }

    // The last keys and values handed out stay referenced here until the next access: the cached
    // generation path reads `keys.data` and must not get a pointer into a tensor already freed.
    private var lastKeys: Tensor?, lastValues: Tensor?

    var keys: Tensor {
        let keys = initialKeys + generator.offset(layer: layer, part: 0, heads: heads)
        lastKeys = keys
        return keys
    }
    var values: Tensor {
        let values = initialValues + generator.offset(layer: layer, part: 1, heads: heads)
        lastValues = values
        return values
    }
    var prefixParameters: [(name: String, tensor: Tensor)] {
        guard ownsGenerator else { return [] }
        return [("prefix_embeddings", generator.embeddings), ("prefix_mlp.down.weight", generator.down),
                ("prefix_mlp.down.bias", generator.downBias), ("prefix_mlp.up.weight", generator.up),
                ("prefix_mlp.up.bias", generator.upBias)]
    }
}

/// Passes a layer's output through unchanged and keeps it (to record real-token keys and values).
private final class OutputRecorder: LinearAdapter {
    let previous: LinearAdapter?
    var output: Tensor?
    init(previous: LinearAdapter?) { self.previous = previous }
    var adapterParameters: [(name: String, tensor: Tensor)] { previous?.adapterParameters ?? [] }
    func forward(_ x: Tensor, layer: Linear) -> Tensor {
        let y = previous?.forward(x, layer: layer) ?? layer.baseForward(x)
        output = y
        return y
    }
}

extension PEFTZoo {
    /// Installs reparameterised prefix tuning with MLP width `hidden`, started from the activations of
    /// the tokens `ids` (one prefix position each). Throws when the prefix does not fit the context or
    /// the model has no attention projections to record.
    static func installPrefix(on model: GPT, ids: [Int32], hidden: Int, rng: inout RNG) throws {
        let config = model.config
        guard !ids.isEmpty, ids.count <= config.contextLength, ids.allSatisfy({ $0 >= 0 && Int($0) < config.vocabularySize }) else {
            throw PrefixTuningError(description: "prefix tuning: \(ids.count) tokens must be 1…\(config.contextLength) ids below \(config.vocabularySize)")
        }
        let (keys, values) = try realActivations(model, ids: ids)
        let embeddings = Tensor.withNoGrad { model.tokenEmbedding.weight.indexSelect(ids.map(Int.init)) }
        let generator = PrefixGenerator(embeddings: embeddings, hidden: hidden, layers: config.layers, rng: &rng)
        for (layer, block) in model.blocks.enumerated() {
            block.attention.prefix = ReparameterisedPrefix(generator: generator, layer: layer, heads: config.heads,
                                                           initialKeys: keys[layer], initialValues: values[layer])
        }
    }

    /// Every layer's keys and values [H, P, D] for `ids` run through the model (no gradient).
    static func realActivations(_ model: GPT, ids: [Int32]) throws -> (keys: [Tensor], values: [Tensor]) {
        let config = model.config
        let (h, hkv, d, c, p) = (config.heads, config.kvHeads, config.headSize, config.embeddingSize, ids.count)
        // Record the projections of every block, then run the model once.
        var recorders: [[(Linear, OutputRecorder)]] = []
        for block in model.blocks {
            let attention = block.attention
            let layers = attention.c_attn.map { [$0] } ?? [attention.k_proj, attention.v_proj].compactMap { $0 }
            guard !layers.isEmpty else { throw PrefixTuningError(description: "prefix tuning: a block has no key/value projection") }
            recorders.append(layers.map { layer in
                let recorder = OutputRecorder(previous: layer.adapter)
                layer.adapter = recorder
                return (layer, recorder)
            })
        }
        defer { for (layer, recorder) in recorders.joined() { layer.adapter = recorder.previous } }
        _ = Tensor.withNoGrad { model(ids, batch: 1, steps: p) }
        // [1, P, heads·D] → [H, P, D], repeating grouped KV heads (KV head g serves query heads g·H/Hkv…).
        func perHead(_ y: Tensor, columns: Range<Int>, kvHeads: Int) -> Tensor {
            let heads = y.reshaped([p, y.shape[2]]).slice(axis: 1, columns).reshaped([p, kvHeads, d]).permuted([1, 0, 2])
            return kvHeads == h ? heads : heads.indexSelect((0..<h).map { $0 / (h / kvHeads) })
        }
        var keys: [Tensor] = [], values: [Tensor] = []
        for layerRecorders in recorders {
            let outputs = layerRecorders.compactMap { $0.1.output }
            guard outputs.count == layerRecorders.count else { throw PrefixTuningError(description: "prefix tuning: a projection was not run") }
            if outputs.count == 1 {                       // GPT-2: fused q | k | v
                keys.append(perHead(outputs[0], columns: c..<(2 * c), kvHeads: h))
                values.append(perHead(outputs[0], columns: (2 * c)..<(3 * c), kvHeads: h))
            } else {                                      // Llama: k_proj, v_proj
                keys.append(perHead(outputs[0], columns: 0..<(hkv * d), kvHeads: hkv))
                values.append(perHead(outputs[1], columns: 0..<(hkv * d), kvHeads: hkv))
            }
        }
        return (keys.map { $0.detached() }, values.map { $0.detached() })
    }
}
