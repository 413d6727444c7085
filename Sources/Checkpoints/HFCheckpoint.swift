// HFCheckpoint — a Hugging Face model directory (config.json + model.safetensors), read,
// validated against the tensor-name map of its architecture, and addressable by canonical name.
//
// What this file teaches: the full loading pipeline up to, but not including, the model:
// config → expected tensors → file → validation report → weights by name. A model-specific
// mapping (which canonical tensor goes into which parameter, and which ones need a transpose)
// sits on top of this and is all that remains to load HF weights into our GPT.
//
// Notes for that mapping (each one is exercised by Tests/CheckpointsTests/ReferenceForwardTests,
// a naive Double forward pass that reproduces transformers' logits to ~5e-6):
// - GPT-2 projections are Conv1D, stored [in, out] and applied as y = x·W + b. `c_attn` packs
//   q | k | v along the output axis (columns 0..<C, C..<2C, 2C..<3C); head h is the D-wide slice
//   h·D..<(h+1)·D inside each. A Linear that stores [out, in] needs these transposed.
// - Llama projections are nn.Linear, stored [out, in] and applied as y = W·x (no biases unless
//   `attention_bias` / `mlp_bias`). Query head h uses key/value head h / (H / K).
// - Attention scores are scaled by 1/√D in both (GPT-2: `scale_attn_weights`; the config
//   reader refuses the other GPT-2 scaling options). Causal mask, softmax over keys 0...t.
// - GPT-2: pre-LN blocks, LayerNorm with biased variance and ε = `layer_norm_epsilon`; MLP is
//   c_proj(gelu_new(c_fc(x))) with gelu_new = 0.5x(1 + tanh(√(2/π)(x + 0.044715x³))); final
//   `ln_f`; logits = ln_f(x)·wteᵀ (tied; `lm_head.weight` is usually absent from the file).
//   Input = wte[token] + wpe[position].
// - Llama: RMSNorm x / √(mean(x²) + ε) · w (no bias, no mean subtraction); MLP is
//   down(silu(gate(x)) ⊙ up(x)); final `model.norm`; separate `lm_head` unless tied.
//   RoPE is HF's rotate_half layout: within each head of width D, element j pairs with j + D/2
//   (not 2j with 2j+1), angle = position · θ^(-2j/D) for j < D/2:
//     out[j] = x[j]·cos − x[j+D/2]·sin,   out[j+D/2] = x[j+D/2]·cos + x[j]·sin.
//   It is applied to q and k after the projections, positions counted from 0.
//
// What it leaves out: building the model itself (that needs NN), sharded checkpoints, tokenizers.

import Foundation

/// A validated Hugging Face checkpoint directory.
public struct HFCheckpoint: Sendable {
    /// The parsed config.json.
    public let architecture: HFConfig.Architecture
    /// The parsed model.safetensors.
    public let file: SafeTensors.File
    /// The name map the file was validated against.
    public let map: TensorNameMap
    /// Canonical name → name in the file (e.g. "wte.weight" → "transformer.wte.weight").
    public let fileNames: [String: String]
    /// The config's path (or name), for errors about its values.
    public let configLabel: String
    /// The weights file's path (or name), for errors about its tensors.
    public let weightsLabel: String

    /// Reads `directory/config.json` and `directory/model.safetensors` and validates the tensors.
    /// Throws `HFConfig.Error`, `SafeTensors.Error`, or `TensorNameMap.Mismatch` listing every
    /// missing, unexpected and mis-shaped tensor.
    public init(directory: URL) throws {
        let architecture = try HFConfig.Architecture(contentsOf: directory.appendingPathComponent("config.json"))
        let weightsURL = directory.appendingPathComponent("model.safetensors")
        try self.init(architecture: architecture, file: try SafeTensors.File(contentsOf: weightsURL), label: weightsURL.path,
                      configLabel: directory.appendingPathComponent("config.json").path)
    }

    /// Validates an already parsed config and file; `label` names the file in errors, `configLabel` the config.
    public init(architecture: HFConfig.Architecture, file: SafeTensors.File, label: String = "model.safetensors",
                configLabel: String = "config.json") throws {
        // The layer count decides how many names the map lists: check it against the file first.
        let needed = TensorNameMap.requiredTensorCount(architecture)
        guard let needed, needed <= file.tensors.count else {
            throw TensorNameMap.TooFewTensors(file: label, layers: architecture.layerCount, needed: needed,
                                              present: file.tensors.count)
        }
        let map = TensorNameMap.forArchitecture(architecture)
        let report = file.validate(against: map)
        guard report.isValid else { throw TensorNameMap.Mismatch(file: label, report: report) }
        self.architecture = architecture
        self.file = file
        self.map = map
        self.fileNames = report.fileNames
        self.weightsLabel = label
        self.configLabel = configLabel
    }

    /// Whether a canonical tensor is present (always true for required ones; optional ones such
    /// as a tied `lm_head.weight` may be absent).
    public func contains(_ canonicalName: String) -> Bool { fileNames[canonicalName] != nil }

    /// Shape of a tensor by canonical name.
    public func shape(_ canonicalName: String) throws -> [Int] {
        try file.info(try fileName(canonicalName)).shape
    }

    /// Elements of a tensor by canonical name, row-major, converted to Float (see `SafeTensors.File.floats(of:)`).
    public func floats(_ canonicalName: String) throws -> [Float] {
        try file.floats(of: try fileName(canonicalName))
    }

    private func fileName(_ canonicalName: String) throws -> String {
        guard let name = fileNames[canonicalName] else {
            throw SafeTensors.FileError(path: weightsLabel, underlying: SafeTensors.Error.tensorNotFound(canonicalName))
        }
        return name
    }
}
