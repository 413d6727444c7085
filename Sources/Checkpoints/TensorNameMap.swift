// TensorNameMap — which tensors a Hugging Face checkpoint of a given config must contain, and
// with which shapes; and a check of a file against that list.
//
// What this file teaches: the weights of a transformer are a flat dictionary of names, and the
// names encode the architecture. Writing the expected names and shapes down as data (derived from
// the config) lets us verify a checkpoint completely *before* copying a single weight into a
// model, with an error listing exactly what is missing, extra or mis-shaped.
//
// Two HF conventions show up in the shapes:
// - GPT-2 uses `Conv1D` layers, which store weights as [in, out] (y = x·W + b), so
//   `attn.c_attn.weight` is [C, 3C] with q, k, v side by side along the output axis.
// - Llama uses `nn.Linear`, which stores [out, in] (y = x·Wᵀ), so `q_proj.weight` is [H·D, C].
//
// Names are "canonical": GPT-2 names without the "transformer." prefix that GPT2LMHeadModel
// adds (files with and without it both validate), Llama names exactly as HF writes them.
//
// What it leaves out: sharded checkpoints (several files + index.json) and other architectures.

import Foundation

/// Expected tensor names and shapes for one architecture and config.
public struct TensorNameMap: Sendable, Equatable {
    /// One expected tensor: its canonical name and shape.
    public struct Entry: Sendable, Hashable {
        /// Canonical tensor name, e.g. "h.0.attn.c_attn.weight".
        public var name: String
        /// Expected shape.
        public var shape: [Int]
        /// Creates an entry.
        public init(name: String, shape: [Int]) {
            self.name = name
            self.shape = shape
        }
    }

    /// Tensors the file must contain.
    public var required: [Entry]
    /// Tensors the file may contain; if present, their shape must match (e.g. a tied `lm_head.weight`).
    public var optional: [Entry]
    /// Canonical names a file may contain with any shape and which a loader ignores (e.g. the
    /// causal-mask buffers `h.{i}.attn.bias` that old GPT-2 checkpoints saved).
    public var ignored: Set<String>
    /// Prefixes a file's names may carry in front of the canonical names ("transformer.").
    public var strippablePrefixes: [String]

    /// Creates a map from explicit lists.
    public init(required: [Entry], optional: [Entry] = [], ignored: Set<String> = [], strippablePrefixes: [String] = []) {
        self.required = required
        self.optional = optional
        self.ignored = ignored
        self.strippablePrefixes = strippablePrefixes
    }
}

// MARK: - The two architectures

extension TensorNameMap {
    /// GPT-2 (`GPT2LMHeadModel`). C = n_embd, V = vocab, P = n_positions, F = n_inner (4C).
    ///
    ///     wte.weight [V, C]      wpe.weight [P, C]
    ///     h.{i}.ln_1.weight/bias [C]
    ///     h.{i}.attn.c_attn.weight [C, 3C]   h.{i}.attn.c_attn.bias [3C]     (Conv1D: [in, out])
    ///     h.{i}.attn.c_proj.weight [C, C]    h.{i}.attn.c_proj.bias [C]
    ///     h.{i}.ln_2.weight/bias [C]
    ///     h.{i}.mlp.c_fc.weight [C, F]       h.{i}.mlp.c_fc.bias [F]
    ///     h.{i}.mlp.c_proj.weight [F, C]     h.{i}.mlp.c_proj.bias [C]
    ///     ln_f.weight/bias [C]
    ///     lm_head.weight [V, C]  (optional when tied, required otherwise)
    public static func gpt2(_ config: HFConfig.GPT2) -> TensorNameMap {
        let (c, f) = (config.nEmbd, config.nInner)
        var required = [Entry(name: "wte.weight", shape: [config.vocabSize, c]),
                        Entry(name: "wpe.weight", shape: [config.nPositions, c])]
        var ignored = Set<String>()
        for i in 0..<config.nLayer {
            let block = "h.\(i)."
            required += [
                Entry(name: block + "ln_1.weight", shape: [c]), Entry(name: block + "ln_1.bias", shape: [c]),
                Entry(name: block + "attn.c_attn.weight", shape: [c, 3 * c]), Entry(name: block + "attn.c_attn.bias", shape: [3 * c]),
                Entry(name: block + "attn.c_proj.weight", shape: [c, c]), Entry(name: block + "attn.c_proj.bias", shape: [c]),
                Entry(name: block + "ln_2.weight", shape: [c]), Entry(name: block + "ln_2.bias", shape: [c]),
                Entry(name: block + "mlp.c_fc.weight", shape: [c, f]), Entry(name: block + "mlp.c_fc.bias", shape: [f]),
                Entry(name: block + "mlp.c_proj.weight", shape: [f, c]), Entry(name: block + "mlp.c_proj.bias", shape: [c]),
            ]
            // Non-trainable buffers (causal mask, masked-score constant) in older exports.
            ignored.formUnion([block + "attn.bias", block + "attn.masked_bias"])
        }
        required += [Entry(name: "ln_f.weight", shape: [c]), Entry(name: "ln_f.bias", shape: [c])]
        let head = Entry(name: "lm_head.weight", shape: [config.vocabSize, c])
        return TensorNameMap(required: config.tieWordEmbeddings ? required : required + [head],
                             optional: config.tieWordEmbeddings ? [head] : [],
                             ignored: ignored, strippablePrefixes: ["transformer."])
    }

    /// Llama (`LlamaForCausalLM`). C = hidden, H = heads, K = KV heads, D = head_dim,
    /// I = intermediate, V = vocab. All projections are nn.Linear, stored [out, in].
    ///
    ///     model.embed_tokens.weight [V, C]
    ///     model.layers.{i}.input_layernorm.weight [C]
    ///     model.layers.{i}.self_attn.q_proj.weight [H·D, C]   k_proj, v_proj [K·D, C]
    ///     model.layers.{i}.self_attn.o_proj.weight [C, H·D]
    ///     model.layers.{i}.post_attention_layernorm.weight [C]
    ///     model.layers.{i}.mlp.gate_proj.weight [I, C]   up_proj [I, C]   down_proj [C, I]
    ///     model.norm.weight [C]
    ///     lm_head.weight [V, C]  (required unless tied; optional when tied)
    /// With `attention_bias` / `mlp_bias`, each projection also has a `.bias` of its output size.
    public static func llama(_ config: HFConfig.Llama) -> TensorNameMap {
        let c = config.hiddenSize, i = config.intermediateSize
        let q = config.numAttentionHeads * config.headDim, kv = config.numKeyValueHeads * config.headDim
        var required = [Entry(name: "model.embed_tokens.weight", shape: [config.vocabSize, c])]
        // A projection [out, in] and, if the config asks for it, its bias [out].
        func linear(_ name: String, out: Int, in inputs: Int, bias: Bool) -> [Entry] {
            [Entry(name: name + ".weight", shape: [out, inputs])] + (bias ? [Entry(name: name + ".bias", shape: [out])] : [])
        }
        for layer in 0..<config.numHiddenLayers {
            let block = "model.layers.\(layer)."
            required.append(Entry(name: block + "input_layernorm.weight", shape: [c]))
            required += linear(block + "self_attn.q_proj", out: q, in: c, bias: config.attentionBias)
            required += linear(block + "self_attn.k_proj", out: kv, in: c, bias: config.attentionBias)
            required += linear(block + "self_attn.v_proj", out: kv, in: c, bias: config.attentionBias)
            required += linear(block + "self_attn.o_proj", out: c, in: q, bias: config.attentionBias)
            required.append(Entry(name: block + "post_attention_layernorm.weight", shape: [c]))
            required += linear(block + "mlp.gate_proj", out: i, in: c, bias: config.mlpBias)
            required += linear(block + "mlp.up_proj", out: i, in: c, bias: config.mlpBias)
            required += linear(block + "mlp.down_proj", out: c, in: i, bias: config.mlpBias)
        }
        required.append(Entry(name: "model.norm.weight", shape: [c]))
        let head = Entry(name: "lm_head.weight", shape: [config.vocabSize, c])
        return TensorNameMap(required: config.tieWordEmbeddings ? required : required + [head],
                             optional: config.tieWordEmbeddings ? [head] : [])
    }

    /// How many tensors a checkpoint of `architecture` must contain at least, computed without
    /// building any name (nil if the count overflows). A loader compares it with the file's tensor
    /// count *before* calling `forArchitecture`, whose lists grow with the layer count: a config
    /// claiming 2⁶² layers must be refused by arithmetic, not by running out of memory.
    public static func requiredTensorCount(_ architecture: HFConfig.Architecture) -> Int? {
        let (perLayer, fixed, layers): (Int, Int, Int)
        switch architecture {
        case .gpt2(let config):
            // 12 per block; wte, wpe, ln_f.weight, ln_f.bias; lm_head unless tied.
            (perLayer, fixed, layers) = (12, config.tieWordEmbeddings ? 4 : 5, config.nLayer)
        case .llama(let config):
            // 2 norms + 7 projections per block (+ their biases); embed_tokens, norm; lm_head unless tied.
            let biases = (config.attentionBias ? 4 : 0) + (config.mlpBias ? 3 : 0)
            (perLayer, fixed, layers) = (9 + biases, config.tieWordEmbeddings ? 2 : 3, config.numHiddenLayers)
        }
        let (product, overflow) = perLayer.multipliedReportingOverflow(by: layers)
        return overflow ? nil : product + fixed
    }

    /// The map for either architecture.
    public static func forArchitecture(_ architecture: HFConfig.Architecture) -> TensorNameMap {
        switch architecture {
        case .gpt2(let config): return gpt2(config)
        case .llama(let config): return llama(config)
        }
    }
}
