// AdapterFiles.swift — LoRA adapters in Hugging Face PEFT's file layout.
//
// Teaches: an adapter is a few megabytes you can ship separately from its base model. PEFT writes
//   adapter_config.json          {"peft_type": "LORA", "r": 8, "lora_alpha": 16, "target_modules": [...], …}
//   adapter_model.safetensors    base_model.model.<module path>.lora_A.weight [r, in]
//                                base_model.model.<module path>.lora_B.weight [out, r]
//                                (+ …lora_magnitude_vector [out] for DoRA)
// where the module path is the transformers one ("transformer.h.0.attn.c_attn" for GPT-2,
// "model.layers.0.self_attn.q_proj" for Llama). GPT-2's Conv1D layers are flagged fan_in_fan_out; the
// LoRA matrices keep the shapes above either way. Which layers an adapter covers is decided by its
// config with PEFT's rules (see AdapterConfig.swift).
// Loading validates everything — config, every tensor's presence, shape and values — before it touches
// the model, so a file that fails to load leaves the model exactly as it was.
// Leaves out: other PEFT types' files, modules_to_save (refused).
import Foundation
import Autodiff
import NN
import Checkpoints

/// A problem reading or applying an adapter, naming the file and tensor.
public struct AdapterFileError: Error, CustomStringConvertible, Equatable {
    public let description: String
}

/// Saving and loading PEFT-layout LoRA adapters (caseless namespace).
public enum AdapterFiles {
    /// The transformers module path of one of our layer paths.
    static func huggingFacePath(_ path: String, flavour: GPTConfig.Flavour) -> String {
        if path == "lm_head" { return path }
        return flavour == .gpt2 ? "transformer." + path : "model." + path
    }

    /// Writes adapter `name` of `model` to `directory` (adapter_config.json + adapter_model.safetensors),
    /// replacing the directory as a whole.
    /// Layers with another r or α than the first get `rank_pattern` / `alpha_pattern` entries (full paths).
    public static func save(_ name: String, of model: GPT, to directory: URL, baseModel: String = "") throws {
        let layers = LoRA.loraLayers(of: model).compactMap { path, _, lora in lora.weights(name).map { (path, $0) } }
        guard let config = layers.first?.1.config else { throw AdapterFileError(description: "no adapter named \"\(name)\" on the model") }
        let flavour = model.config.flavour
        var tensors: [SafeTensors.NamedTensor] = []
        var rankPattern: [String: Int] = [:], alphaPattern: [String: Double] = [:]
        for (path, weights) in layers {
            let prefix = "base_model.model." + huggingFacePath(path, flavour: flavour) + "."
            for (kind, tensor) in weights.named {
                tensors.append(try SafeTensors.NamedTensor(name: prefix + kind, shape: tensor.shape, floats: tensor.values))
            }
            if weights.config.rank != config.rank { rankPattern[huggingFacePath(path, flavour: flavour)] = weights.config.rank }
            if weights.config.alpha != config.alpha { alphaPattern[huggingFacePath(path, flavour: flavour)] = Double(weights.config.alpha) }
        }
        // Short module names when they pick exactly the adapted layers (the usual case), else full paths.
        let adapted = Set(layers.map(\.0))
        let shortNames = Set(adapted.map { $0.split(separator: ".").last.map(String.init) ?? $0 })
        let shortCover = Set(LoRA.linearLayers(of: model).map(\.path).filter { path in shortNames.contains { path.hasSuffix("." + $0) } })
        let modules = shortCover == adapted ? shortNames.sorted() : adapted.map { huggingFacePath($0, flavour: flavour) }.sorted()
        var json: [String: Any] = [
            "peft_type": "LORA", "task_type": "CAUSAL_LM", "r": config.rank, "lora_alpha": Double(config.alpha),
            "lora_dropout": Double(config.dropout), "target_modules": modules, "fan_in_fan_out": flavour == .gpt2,
            "bias": "none", "use_rslora": config.useRSLoRA, "use_dora": config.useDoRA,
            // PEFT takes a boolean (true = its default Kaiming-uniform init) or a method's name.
            "init_lora_weights": config.initialization == .gaussian ? "gaussian" : (config.initialization == .pissa ? "pissa" : true),
            "base_model_name_or_path": baseModel, "inference_mode": true, "modules_to_save": NSNull(),
        ]
        if !rankPattern.isEmpty { json["rank_pattern"] = rankPattern }
        if !alphaPattern.isEmpty { json["alpha_pattern"] = alphaPattern }
        // The two files belong together: replace the directory as a whole (see AtomicDirectory).
        let configJSON = try JSONSerialization.data(withJSONObject: json, options: [.prettyPrinted, .sortedKeys])
        try AtomicDirectory.write(to: directory) { staging in
            try SafeTensors.write(tensors, metadata: ["format": "pt"], to: staging.appendingPathComponent("adapter_model.safetensors"))
            try AtomicFile.write(configJSON, to: staging.appendingPathComponent("adapter_config.json"))
        }
    }

    /// One layer's adapter, read and checked, not yet installed.
    struct LoadedLayer {
        var layer: Linear
        var config: LoRAConfig
        var a: Tensor, b: Tensor, magnitude: Tensor?
    }

    /// Reads the adapter in `directory` onto `model` as adapter `name` (and makes it active; any
    /// adapter of that name already on the model is replaced). Every tensor must belong to a layer the
    /// config targets, with the shape that layer needs, and finite values; otherwise the error names it
    /// and the model is unchanged.
    public static func load(_ name: String, into model: GPT, from directory: URL) throws {
        let loaded = try read(from: directory, for: model)
        // Everything checked: now change the model.
        LoRA.remove(name, from: model)
        model.setTrainable(false)
        for entry in loaded {
            let lora = (entry.layer.adapter as? LoRALayer) ?? LoRALayer()
            lora.install(name, config: entry.config, a: entry.a, b: entry.b, magnitude: entry.magnitude)
            lora.active = [name]
            entry.layer.adapter = lora
        }
        LoRA.trainOnly(name, on: model)
    }

    /// Parses and validates the adapter files against `model` without modifying it.
    static func read(from directory: URL, for model: GPT) throws -> [LoadedLayer] {
        let configURL = directory.appendingPathComponent("adapter_config.json")
        guard let data = try? Data(contentsOf: configURL) else { throw AdapterFileError(description: "\(configURL.path): cannot be read") }
        let config = try AdapterConfig(json: data, file: configURL.path)
        let weightsURL = directory.appendingPathComponent("adapter_model.safetensors")
        let file: SafeTensors.File
        do { file = try SafeTensors.File(contentsOf: weightsURL) } catch {
            throw AdapterFileError(description: "\(weightsURL.path): \(error)")
        }
        let flavour = model.config.flavour
        let layers = LoRA.linearLayers(of: model)
        let targeted = layers.filter { config.targets(huggingFacePath($0.path, flavour: flavour)) }
        guard !targeted.isEmpty else {
            throw AdapterFileError(description: "\(configURL.path): target_modules \(config.targets.summary) match no Linear layer; "
                                   + "the model's are " + layers.map { huggingFacePath($0.path, flavour: flavour) }.joined(separator: ", "))
        }
        if let head = targeted.first(where: { $0.path == "lm_head" }) {
            throw AdapterFileError(description: "\(configURL.path): target_modules select \(head.path); LoRA on the output head is not supported")
        }
        var expected = Set<String>()
        var result: [LoadedLayer] = []
        for (path, layer) in targeted {
            let key = huggingFacePath(path, flavour: flavour)
            let (rank, alpha) = try config.rankAndAlpha(of: key, file: configURL.path)
            let loraConfig = LoRAConfig(rank: rank, alpha: Float(alpha), useRSLoRA: config.useRSLoRA, useDoRA: config.useDoRA, targets: [path])
            func tensor(_ kind: String, _ shape: [Int]) throws -> Tensor {
                let name = "base_model.model." + key + "." + kind
                expected.insert(name)
                guard let info = file.tensors[name] else { throw AdapterFileError(description: "\(weightsURL.path): missing tensor \(name)") }
                guard info.shape == shape else {
                    throw AdapterFileError(description: "\(weightsURL.path): tensor \(name) has shape \(info.shape), the model needs \(shape) (r = \(rank))")
                }
                let values = try file.floats(of: name)
                // Finite and below 1e6 in magnitude: a trained adapter's entries are far smaller, and larger
                // ones (a damaged file) overflow Float32 in B·A·x.
                guard values.allSatisfy({ $0.isFinite && abs($0) <= 1e6 }) else {
                    throw AdapterFileError(description: "\(weightsURL.path): tensor \(name) holds NaN, infinity or values beyond ±1e6")
                }
                return Tensor(values, shape: shape)
            }
            let a = try tensor("lora_A.weight", [rank, layer.inFeatures])
            let b = try tensor("lora_B.weight", [layer.outFeatures, rank])
            let magnitude = config.useDoRA ? try tensor("lora_magnitude_vector", [layer.outFeatures]) : nil
            result.append(LoadedLayer(layer: layer, config: loraConfig, a: a, b: b, magnitude: magnitude))
        }
        if let extra = file.names.sorted().first(where: { !expected.contains($0) }) {
            throw AdapterFileError(description: "\(weightsURL.path): tensor \(extra) matches no layer targeted by \(config.targets.summary)")
        }
        return result
    }
}
