// AdapterFiles.swift — LoRA adapters in Hugging Face PEFT's file layout.
//
// Teaches: an adapter is a few megabytes you can ship separately from its base model. PEFT writes
//   adapter_config.json          {"peft_type": "LORA", "r": 8, "lora_alpha": 16, "target_modules": [...], …}
//   adapter_model.safetensors    base_model.model.<module path>.lora_A.weight [r, in]
//                                base_model.model.<module path>.lora_B.weight [out, r]
//                                (+ …lora_magnitude_vector [out] for DoRA)
// where the module path is the transformers one ("transformer.h.0.attn.c_attn" for GPT-2,
// "model.layers.0.self_attn.q_proj" for Llama). GPT-2's Conv1D layers are flagged fan_in_fan_out; the
// LoRA matrices keep the shapes above either way.
// Leaves out: other PEFT types' files, modules_to_save, layer-pattern options.
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
        flavour == .gpt2 ? "transformer." + path : "model." + path
    }

    /// Writes adapter `name` of `model` to `directory` (adapter_config.json + adapter_model.safetensors),
    /// replacing the directory as a whole.
    public static func save(_ name: String, of model: GPT, to directory: URL, baseModel: String = "") throws {
        let layers = LoRA.loraLayers(of: model).compactMap { path, _, lora in lora.weights(name).map { (path, $0) } }
        guard let config = layers.first?.1.config else { throw AdapterFileError(description: "no adapter named \"\(name)\" on the model") }
        var tensors: [SafeTensors.NamedTensor] = []
        for (path, weights) in layers {
            let prefix = "base_model.model." + huggingFacePath(path, flavour: model.config.flavour) + "."
            for (kind, tensor) in weights.named {
                tensors.append(try SafeTensors.NamedTensor(name: prefix + kind, shape: tensor.shape, floats: tensor.values))
            }
        }
        let modules = Array(Set(layers.map { $0.0.split(separator: ".").last.map(String.init) ?? $0.0 })).sorted()
        let json: [String: Any] = [
            "peft_type": "LORA", "task_type": "CAUSAL_LM", "r": config.rank, "lora_alpha": Double(config.alpha),
            "lora_dropout": Double(config.dropout), "target_modules": modules, "fan_in_fan_out": model.config.flavour == .gpt2,
            "bias": "none", "use_rslora": config.useRSLoRA, "use_dora": config.useDoRA,
            "init_lora_weights": config.initialization == .gaussian ? "gaussian" : (config.initialization == .pissa ? "pissa" : "true"),
            "base_model_name_or_path": baseModel, "inference_mode": true, "modules_to_save": NSNull(),
        ]
        // The two files belong together: replace the directory as a whole (see AtomicDirectory).
        let configJSON = try JSONSerialization.data(withJSONObject: json, options: [.prettyPrinted, .sortedKeys])
        try AtomicDirectory.write(to: directory) { staging in
            try SafeTensors.write(tensors, metadata: ["format": "pt"], to: staging.appendingPathComponent("adapter_model.safetensors"))
            try AtomicFile.write(configJSON, to: staging.appendingPathComponent("adapter_config.json"))
        }
    }

    /// Reads the adapter in `directory` onto `model` as adapter `name` (and makes it active).
    /// Every tensor must match a targeted layer by name and shape; otherwise the error names it.
    public static func load(_ name: String, into model: GPT, from directory: URL) throws {
        let configURL = directory.appendingPathComponent("adapter_config.json")
        guard let data = try? Data(contentsOf: configURL),
              let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw AdapterFileError(description: "\(configURL.path): missing or not a JSON object")
        }
        func field<T>(_ key: String, _ type: T.Type) throws -> T {
            guard let value = json[key] as? T else { throw AdapterFileError(description: "\(configURL.path): field \"\(key)\" missing or of the wrong type") }
            return value
        }
        guard try field("peft_type", String.self) == "LORA" else {
            throw AdapterFileError(description: "\(configURL.path): peft_type \(json["peft_type"] ?? "") is not LORA")
        }
        let targets: [String]
        if let list = json["target_modules"] as? [String] { targets = list }
        else if let single = json["target_modules"] as? String { targets = [single] }
        else { throw AdapterFileError(description: "\(configURL.path): field \"target_modules\" missing or of the wrong type") }
        let config = LoRAConfig(rank: try field("r", Int.self), alpha: Float(try field("lora_alpha", Double.self)),
                                dropout: Float((json["lora_dropout"] as? Double) ?? 0), useRSLoRA: (json["use_rslora"] as? Bool) ?? false,
                                useDoRA: (json["use_dora"] as? Bool) ?? false, targets: targets)
        let weightsURL = directory.appendingPathComponent("adapter_model.safetensors")
        let file = try SafeTensors.File(contentsOf: weightsURL)
        // Attach fresh adapters (freezing the base), then overwrite every tensor from the file.
        LoRA.add(name, to: model, config: config, seed: 0)
        var expected = Set<String>()
        for (path, _, lora) in LoRA.loraLayers(of: model) {
            guard let weights = lora.weights(name) else { continue }
            let prefix = "base_model.model." + huggingFacePath(path, flavour: model.config.flavour) + "."
            for (kind, tensor) in weights.named {
                let key = prefix + kind
                expected.insert(key)
                guard let info = file.tensors[key] else {
                    LoRA.remove(name, from: model)
                    throw AdapterFileError(description: "\(weightsURL.path): missing tensor \(key)")
                }
                guard info.shape == tensor.shape else {
                    LoRA.remove(name, from: model)
                    throw AdapterFileError(description: "\(weightsURL.path): tensor \(key) has shape \(info.shape), the model needs \(tensor.shape)")
                }
                let values = try file.floats(of: key)
                values.withUnsafeBufferPointer { tensor.data.update(from: $0.baseAddress!, count: values.count) }
            }
        }
        if let extra = file.names.first(where: { !expected.contains($0) }) {
            LoRA.remove(name, from: model)
            throw AdapterFileError(description: "\(weightsURL.path): tensor \(extra) matches no targeted layer of the model")
        }
    }
}
