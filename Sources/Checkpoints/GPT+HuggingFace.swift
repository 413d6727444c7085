// GPT+HuggingFace.swift — our GPT to and from a Hugging Face model directory.
//
// Teaches: loading weights is renaming plus a few transposes. Our parameter names already follow HF
// (see NN/GPT.swift); the differences are GPT-2's Conv1D layers, stored [in, out] where our Linear
// stores [out, in], and Llama's "model." prefix. Saving writes the same layout, so a TinyTune
// checkpoint *is* an HF checkpoint (config.json + model.safetensors) and one loader serves both.
// Leaves out: sharded files, fp16/bf16 saving (weights are written as F32), tokenizer files.
import Foundation
import Kernels
import Autodiff
import NN

/// Loading and saving `GPT` models in the Hugging Face layout (caseless namespace).
public enum ModelCheckpoint {
    /// A checkpoint that does not fit the model or is not supported, with the reason.
    public struct Error: Swift.Error, CustomStringConvertible {
        public let description: String
    }

    /// The GPT-2 layers stored by HF as Conv1D ([in, out]).
    static let conv1DSuffixes = ["attn.c_attn.weight", "attn.c_proj.weight", "mlp.c_fc.weight", "mlp.c_proj.weight"]

    /// The HF canonical name of one of our parameters, and whether HF stores it transposed.
    public static func huggingFaceName(of name: String, flavour: GPTConfig.Flavour) -> (name: String, transposed: Bool) {
        switch flavour {
        case .gpt2: return (name, conv1DSuffixes.contains { name.hasSuffix($0) })
        case .llama: return (name == "lm_head.weight" ? name : "model." + name, false)
        }
    }

    /// Our config for an HF config (throws for features we do not implement, and for anything
    /// `GPT.init` would refuse, so no config read from a file can reach its trap). `file` labels errors.
    public static func gptConfig(_ architecture: HFConfig.Architecture, file: String = "config.json") throws -> GPTConfig {
        let config = try translatedConfig(architecture, file: file)
        if let problem = config.validationError() { throw Error(description: "\(file): \(problem)") }
        return config
    }

    private static func translatedConfig(_ architecture: HFConfig.Architecture, file: String) throws -> GPTConfig {
        switch architecture {
        case .gpt2(let hf):
            guard ["gelu_new", "gelu_pytorch_tanh", "gelu"].contains(hf.activationFunction) else {
                throw Error(description: "\(file): activation_function '\(hf.activationFunction)' is not supported")
            }
            var config = GPTConfig.gpt2(vocabularySize: hf.vocabSize, contextLength: hf.nPositions,
                                        embeddingSize: hf.nEmbd, layers: hf.nLayer, heads: hf.nHead)
            config.mlpSize = hf.nInner
            config.normEpsilon = hf.layerNormEpsilon
            config.tiedEmbeddings = hf.tieWordEmbeddings
            config.geluApproximation = hf.activationFunction == "gelu" ? "erf" : "tanh"
            return config
        case .llama(let hf):
            guard hf.hiddenAct == "silu" else {
                throw Error(description: "\(file): hidden_act '\(hf.hiddenAct)' is not supported (silu only)")
            }
            guard !hf.attentionBias && !hf.mlpBias else {
                throw Error(description: "\(file): attention_bias / mlp_bias are not supported")
            }
            guard hf.headDim * hf.numAttentionHeads == hf.hiddenSize else {
                throw Error(description: "\(file): head_dim \(hf.headDim) × heads \(hf.numAttentionHeads) ≠ hidden_size \(hf.hiddenSize)")
            }
            return GPTConfig.llama(vocabularySize: hf.vocabSize, contextLength: hf.maxPositionEmbeddings,
                                   embeddingSize: hf.hiddenSize, layers: hf.numHiddenLayers,
                                   heads: hf.numAttentionHeads, kvHeads: hf.numKeyValueHeads,
                                   mlpSize: hf.intermediateSize, ropeTheta: Float(hf.ropeTheta),
                                   normEpsilon: hf.rmsNormEps, tiedEmbeddings: hf.tieWordEmbeddings)
        }
    }

    /// Builds a GPT from a validated HF checkpoint, copying (and where needed transposing) every weight.
    public static func model(from checkpoint: HFCheckpoint) throws -> GPT {
        let config = try gptConfig(checkpoint.architecture, file: checkpoint.configLabel)
        // Every size in `config` was checked against a tensor of the file (HFCheckpoint validated the
        // names and shapes), so the allocation below is bounded by what the file holds.
        var rng = RNG(seed: 0)  // placeholder initial values, all overwritten below
        let model = GPT(config: config, rng: &rng)
        for (name, parameter) in model.namedParameters() {
            let (hfName, transposed) = huggingFaceName(of: name, flavour: config.flavour)
            let shape = try checkpoint.shape(hfName)
            let expected = transposed ? parameter.shape.reversed() : parameter.shape
            guard shape == Array(expected) else {
                throw Error(description: "\(checkpoint.weightsLabel): tensor \(hfName): shape \(shape) does not fit parameter \(name) \(parameter.shape)")
            }
            let values = try checkpoint.floats(hfName)
            // A NaN or infinite weight makes every logit NaN: refuse it here, where the tensor can be named.
            if let bad = values.firstIndex(where: { !$0.isFinite }) {
                throw Error(description: "\(checkpoint.weightsLabel): tensor \(hfName) holds \(values[bad]) at element \(bad)")
            }
            if transposed {
                // HF [in, out] → ours [out, in].
                let (rows, cols) = (shape[0], shape[1])
                for r in 0..<rows { for c in 0..<cols { parameter.data[c * rows + r] = values[r * cols + c] } }
            } else {
                values.withUnsafeBufferPointer { parameter.data.update(from: $0.baseAddress!, count: values.count) }
            }
        }
        return model
    }

    /// Loads `directory` (config.json + model.safetensors), validating every tensor name and shape.
    public static func load(directory: URL) throws -> GPT {
        try model(from: HFCheckpoint(directory: directory))
    }

    /// The HF config.json for our config.
    public static func configJSON(_ config: GPTConfig) throws -> Data {
        var json: [String: Any]
        switch config.flavour {
        case .gpt2:
            json = ["model_type": "gpt2", "architectures": ["GPT2LMHeadModel"], "vocab_size": config.vocabularySize,
                    "n_positions": config.contextLength, "n_embd": config.embeddingSize, "n_layer": config.layers,
                    "n_head": config.heads, "n_inner": config.mlpSize, "layer_norm_epsilon": Double(config.normEpsilon),
                    "activation_function": config.geluApproximation == "erf" ? "gelu" : "gelu_new",
                    "tie_word_embeddings": config.tiedEmbeddings]
        case .llama:
            json = ["model_type": "llama", "architectures": ["LlamaForCausalLM"], "vocab_size": config.vocabularySize,
                    "hidden_size": config.embeddingSize, "intermediate_size": config.mlpSize,
                    "num_hidden_layers": config.layers, "num_attention_heads": config.heads,
                    "num_key_value_heads": config.kvHeads, "head_dim": config.headSize,
                    "rms_norm_eps": Double(config.normEpsilon), "rope_theta": Double(config.ropeTheta),
                    "max_position_embeddings": config.contextLength, "tie_word_embeddings": config.tiedEmbeddings,
                    "hidden_act": "silu", "attention_bias": false, "mlp_bias": false]
        }
        return try JSONSerialization.data(withJSONObject: json, options: [.prettyPrinted, .sortedKeys])
    }

    /// The model's weights as HF-named safetensors entries (F32), transposing Conv1D layers back.
    public static func tensors(of model: GPT) throws -> [SafeTensors.NamedTensor] {
        try model.namedParameters().map { name, parameter in
            let (hfName, transposed) = huggingFaceName(of: name, flavour: model.config.flavour)
            var values = parameter.values
            var shape = parameter.shape
            if transposed {
                let (rows, cols) = (shape[0], shape[1])
                values = [Float](repeating: 0, count: values.count)
                for r in 0..<rows { for c in 0..<cols { values[c * rows + r] = parameter.data[r * cols + c] } }
                shape = [cols, rows]
            }
            return try SafeTensors.NamedTensor(name: hfName, shape: shape, floats: values)
        }
    }

    /// Writes config.json and model.safetensors into `directory` (created if needed), each atomically.
    public static func save(_ model: GPT, to directory: URL, metadata: [String: String] = [:]) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try SafeTensors.write(try tensors(of: model), metadata: metadata.merging(["format": "pt"]) { a, _ in a },
                              to: directory.appendingPathComponent("model.safetensors"))
        try AtomicFile.write(try configJSON(model.config), to: directory.appendingPathComponent("config.json"))
    }
}
