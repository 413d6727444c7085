// HFConfig — read a Hugging Face `config.json` for the two model families we load: GPT-2 and Llama.
//
// What this file teaches: a model checkpoint is weights *plus* hyperparameters, and the
// hyperparameters live in a separate JSON file whose keys differ per family (GPT-2 says `n_embd`,
// Llama says `hidden_size`). We read each family into its own plain struct whose property names
// are the HF keys in camelCase, so the mapping is visible at a glance.
//
// Required keys throw `HFConfig.Error.missingKey` naming the key and the file. A few keys are
// optional *because HF itself treats them as optional* and real hub configs omit them; they get
// HF's class defaults, stated on each property (e.g. the original `gpt2` config has no
// `tie_word_embeddings`; pre-GQA Llama configs have no `num_key_value_heads`). Values are checked
// for type (an integer must be written as one) and sense (positive sizes, heads dividing widths).
//
// What it leaves out: every other family, RoPE scaling variants (`rope_scaling` / `rope_type`
// other than "default" are rejected), GPT-2 attention variants (`scale_attn_weights: false`,
// `scale_attn_by_inverse_layer_idx`, `reorder_and_upcast_attn` are rejected), and keys that only matter for training in PyTorch
// (dropout rates, initializer_range, use_cache).

import Foundation

/// Namespace for Hugging Face `config.json` files.
public enum HFConfig {
    /// What can be wrong with a config file. `file` is the path or name given when parsing.
    public enum Error: Swift.Error, Equatable, CustomStringConvertible {
        /// The file is not a JSON object (or has duplicate keys).
        case invalidJSON(file: String, reason: String)
        /// The file cannot be read (absent, a directory, no permission).
        case unreadable(file: String, reason: String)
        /// A required key is absent (or null).
        case missingKey(String, file: String)
        /// A key holds the wrong JSON type, e.g. 32.5 for a layer count.
        case wrongType(key: String, expected: String, file: String)
        /// A key's value makes no sense (non-positive size, heads not dividing the width, …).
        case invalidValue(key: String, reason: String, file: String)
        /// `model_type` is neither "gpt2" nor "llama".
        case unsupportedModelType(String, file: String)

        /// A one-line message naming the file and key.
        public var description: String {
            switch self {
            case .invalidJSON(let file, let reason): return "\(file): not valid JSON: \(reason)"
            case .unreadable(let file, let reason): return "\(file): cannot be read: \(reason)"
            case .missingKey(let key, let file): return "\(file): missing key '\(key)'"
            case .wrongType(let key, let expected, let file): return "\(file): key '\(key)' should be \(expected)"
            case .invalidValue(let key, let reason, let file): return "\(file): key '\(key)': \(reason)"
            case .unsupportedModelType(let type, let file): return "\(file): model_type '\(type)' is not supported (gpt2, llama)"
            }
        }
    }

    /// A config of either supported family, chosen by its `model_type` key.
    public enum Architecture: Sendable, Equatable {
        /// `model_type` "gpt2".
        case gpt2(GPT2)
        /// `model_type` "llama".
        case llama(Llama)

        /// The number of transformer blocks the config declares.
        public var layerCount: Int {
            switch self {
            case .gpt2(let config): return config.nLayer
            case .llama(let config): return config.numHiddenLayers
            }
        }

        /// Reads `config.json` at `url` and dispatches on `model_type` ("gpt2" or "llama").
        public init(contentsOf url: URL) throws {
            try self.init(json: try HFConfig.read(url), file: url.path)
        }

        /// Parses config JSON; `file` only labels errors.
        public init(json: Data, file: String = "config.json") throws {
            let keys = try ConfigKeys(json: json, file: file)
            let modelType: String = try keys.required("model_type")
            switch modelType {
            case "gpt2": self = .gpt2(try GPT2(keys))
            case "llama": self = .llama(try Llama(keys))
            default: throw Error.unsupportedModelType(modelType, file: file)
            }
        }
    }
}

extension HFConfig {
    /// The bytes of `url`, or `Error.unreadable` naming the path.
    static func read(_ url: URL) throws -> Data {
        do { return try Data(contentsOf: url) } catch {
            throw Error.unreadable(file: url.path, reason: error.localizedDescription)
        }
    }
}

// MARK: - GPT-2

extension HFConfig {
    /// GPT-2 hyperparameters (`GPT2Config` in transformers). C = `nEmbd`, H = `nHead`.
    public struct GPT2: Sendable, Equatable {
        /// `vocab_size`, V (required).
        public var vocabSize: Int
        /// `n_positions`: number of learned positions, the context length (required).
        public var nPositions: Int
        /// `n_embd`: residual width C (required).
        public var nEmbd: Int
        /// `n_layer`: number of blocks (required).
        public var nLayer: Int
        /// `n_head`: attention heads; must divide `nEmbd` (required).
        public var nHead: Int
        /// `n_inner`: MLP hidden width; HF default (absent or null) 4·C.
        public var nInner: Int
        /// `layer_norm_epsilon`; HF default 1e-5.
        public var layerNormEpsilon: Float
        /// `activation_function`; HF default "gelu_new" (the tanh approximation of GELU).
        public var activationFunction: String
        /// `tie_word_embeddings`: the LM head reuses `wte`; HF default true.
        public var tieWordEmbeddings: Bool

        /// Per-head width C / H.
        public var headDim: Int { nEmbd / nHead }

        /// Memberwise; use `init(json:file:)` for files.
        public init(vocabSize: Int, nPositions: Int, nEmbd: Int, nLayer: Int, nHead: Int, nInner: Int? = nil,
                    layerNormEpsilon: Float = 1e-5, activationFunction: String = "gelu_new", tieWordEmbeddings: Bool = true) {
            self.vocabSize = vocabSize
            self.nPositions = nPositions
            self.nEmbd = nEmbd
            self.nLayer = nLayer
            self.nHead = nHead
            self.nInner = nInner ?? 4 * nEmbd
            self.layerNormEpsilon = layerNormEpsilon
            self.activationFunction = activationFunction
            self.tieWordEmbeddings = tieWordEmbeddings
        }

        /// Reads `config.json` at `url`.
        public init(contentsOf url: URL) throws {
            try self.init(json: try HFConfig.read(url), file: url.path)
        }

        /// Parses config JSON; `file` only labels errors.
        public init(json: Data, file: String = "config.json") throws {
            try self.init(try ConfigKeys(json: json, file: file))
        }

        init(_ keys: ConfigKeys) throws {
            let nEmbd: Int = try keys.positive("n_embd")
            self.init(
                vocabSize: try keys.positive("vocab_size"), nPositions: try keys.positive("n_positions"),
                nEmbd: nEmbd, nLayer: try keys.positive("n_layer"), nHead: try keys.positive("n_head"),
                nInner: try keys.optionalPositive("n_inner"),
                layerNormEpsilon: try keys.optional("layer_norm_epsilon") ?? 1e-5,
                activationFunction: try keys.optional("activation_function") ?? "gelu_new",
                tieWordEmbeddings: try keys.optional("tie_word_embeddings") ?? true)
            try keys.check(nEmbd % nHead == 0, "n_head", "\(nHead) heads do not divide n_embd \(nEmbd)")
            // Attention variants our model does not implement: refuse rather than load wrongly.
            try keys.check(try keys.optional("scale_attn_weights") ?? true, "scale_attn_weights",
                           "false (unscaled attention) is not supported")
            try keys.check(!(try keys.optional("scale_attn_by_inverse_layer_idx") ?? false), "scale_attn_by_inverse_layer_idx",
                           "true is not supported")
            try keys.check(!(try keys.optional("reorder_and_upcast_attn") ?? false), "reorder_and_upcast_attn",
                           "true is not supported")
            try keys.epsilon(layerNormEpsilon, "layer_norm_epsilon")
        }
    }
}

// MARK: - Llama

extension HFConfig {
    /// Llama hyperparameters (`LlamaConfig` in transformers). C = `hiddenSize`.
    public struct Llama: Sendable, Equatable {
        /// `vocab_size`, V (required).
        public var vocabSize: Int
        /// `hidden_size`: residual width C (required).
        public var hiddenSize: Int
        /// `intermediate_size`: SwiGLU hidden width (required).
        public var intermediateSize: Int
        /// `num_hidden_layers` (required).
        public var numHiddenLayers: Int
        /// `num_attention_heads`: query heads (required).
        public var numAttentionHeads: Int
        /// `num_key_value_heads`: key/value heads for grouped-query attention; must divide the
        /// query heads. HF default: `num_attention_heads` (plain multi-head attention).
        public var numKeyValueHeads: Int
        /// `head_dim`: per-head width; HF default C / `num_attention_heads`.
        public var headDim: Int
        /// `rms_norm_eps` (required).
        public var rmsNormEps: Float
        /// RoPE base θ: top-level `rope_theta`, or `rope_parameters.rope_theta` (transformers ≥ 5);
        /// HF default 10000.
        public var ropeTheta: Double
        /// `max_position_embeddings`: the context length RoPE was trained for (required).
        public var maxPositionEmbeddings: Int
        /// `tie_word_embeddings`: `lm_head` reuses `embed_tokens`; HF default false for Llama.
        public var tieWordEmbeddings: Bool
        /// `hidden_act`: the gate activation; HF default "silu".
        public var hiddenAct: String
        /// `attention_bias`: q/k/v/o projections carry biases; HF default false.
        public var attentionBias: Bool
        /// `mlp_bias`: gate/up/down projections carry biases; HF default false.
        public var mlpBias: Bool

        /// Memberwise; use `init(json:file:)` for files.
        public init(vocabSize: Int, hiddenSize: Int, intermediateSize: Int, numHiddenLayers: Int,
                    numAttentionHeads: Int, numKeyValueHeads: Int? = nil, headDim: Int? = nil,
                    rmsNormEps: Float, ropeTheta: Double = 10_000, maxPositionEmbeddings: Int,
                    tieWordEmbeddings: Bool = false, hiddenAct: String = "silu",
                    attentionBias: Bool = false, mlpBias: Bool = false) {
            self.vocabSize = vocabSize
            self.hiddenSize = hiddenSize
            self.intermediateSize = intermediateSize
            self.numHiddenLayers = numHiddenLayers
            self.numAttentionHeads = numAttentionHeads
            self.numKeyValueHeads = numKeyValueHeads ?? numAttentionHeads
            self.headDim = headDim ?? hiddenSize / numAttentionHeads
            self.rmsNormEps = rmsNormEps
            self.ropeTheta = ropeTheta
            self.maxPositionEmbeddings = maxPositionEmbeddings
            self.tieWordEmbeddings = tieWordEmbeddings
            self.hiddenAct = hiddenAct
            self.attentionBias = attentionBias
            self.mlpBias = mlpBias
        }

        /// Reads `config.json` at `url`.
        public init(contentsOf url: URL) throws {
            try self.init(json: try HFConfig.read(url), file: url.path)
        }

        /// Parses config JSON; `file` only labels errors.
        public init(json: Data, file: String = "config.json") throws {
            try self.init(try ConfigKeys(json: json, file: file))
        }

        init(_ keys: ConfigKeys) throws {
            let hiddenSize: Int = try keys.positive("hidden_size")
            let heads: Int = try keys.positive("num_attention_heads")
            let keyValueHeads = try keys.optionalPositive("num_key_value_heads") ?? heads
            let headDim = try keys.optionalPositive("head_dim")
            if headDim == nil {
                try keys.check(hiddenSize % heads == 0, "num_attention_heads", "\(heads) heads do not divide hidden_size \(hiddenSize)")
            }
            try keys.check((headDim ?? hiddenSize / heads) % 2 == 0, headDim == nil ? "num_attention_heads" : "head_dim",
                           "RoPE needs an even head size, found \(headDim ?? hiddenSize / heads)")
            try keys.check(heads % keyValueHeads == 0, "num_key_value_heads",
                           "\(keyValueHeads) key/value heads do not divide \(heads) query heads")
            self.init(
                vocabSize: try keys.positive("vocab_size"), hiddenSize: hiddenSize,
                intermediateSize: try keys.positive("intermediate_size"),
                numHiddenLayers: try keys.positive("num_hidden_layers"),
                numAttentionHeads: heads, numKeyValueHeads: keyValueHeads, headDim: headDim,
                rmsNormEps: try keys.required("rms_norm_eps"), ropeTheta: try Self.ropeTheta(keys),
                maxPositionEmbeddings: try keys.positive("max_position_embeddings"),
                tieWordEmbeddings: try keys.optional("tie_word_embeddings") ?? false,
                hiddenAct: try keys.optional("hidden_act") ?? "silu",
                attentionBias: try keys.optional("attention_bias") ?? false,
                mlpBias: try keys.optional("mlp_bias") ?? false)
            try keys.epsilon(rmsNormEps, "rms_norm_eps")
            // θ < 1 would make the rotation frequencies θ^(-2j/D) grow with j (and 1e-300 rounds to a Float 0,
            // giving NaN angles); θ must also survive the conversion to Float our attention uses.
            try keys.check(ropeTheta >= 1 && Float(ropeTheta).isFinite, "rope_theta",
                           "must be in [1, 3.4e38] (a Float ≥ 1), found \(ropeTheta)")
        }

        /// θ from `rope_theta` or `rope_parameters`; any RoPE scaling scheme is refused, because
        /// it changes the rotation frequencies and our attention implements only the plain one.
        private static func ropeTheta(_ keys: ConfigKeys) throws -> Double {
            if case .object(let scaling)? = keys.value("rope_scaling"), !scaling.isEmpty {
                throw HFConfig.Error.invalidValue(key: "rope_scaling", reason: "RoPE scaling is not supported", file: keys.file)
            }
            if let parameters = try keys.nested("rope_parameters") {
                let type: String = try parameters.optional("rope_type") ?? "default"
                try parameters.check(type == "default", "rope_type", "'\(type)' is not supported, only 'default'")
                if let theta: Double = try parameters.optional("rope_theta") { return theta }
            }
            return try keys.optional("rope_theta") ?? 10_000
        }
    }
}
