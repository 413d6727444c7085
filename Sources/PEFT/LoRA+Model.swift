// LoRA+Model.swift — putting LoRA on a model: choose layers by name, freeze the base, manage adapters.
//
// Teaches: "get_peft_model" in a page. Walk the model's Linear layers, attach a LoRA layer to each one
// whose name matches the targets, freeze every base parameter; the only trainable tensors left are the
// adapters'. Switching tasks is then switching which adapter is active.
// Leaves out: saving (see AdapterFiles.swift) and serving many adapters at once (MultiAdapter.swift).
import Kernels
import Autodiff
import NN

/// Model-level LoRA operations (caseless namespace).
public enum LoRA {
    /// Every Linear of `model` with its path, e.g. ("h.0.attn.c_attn", layer).
    public static func linearLayers(of model: GPT) -> [(path: String, layer: Linear)] {
        model.namedModules().compactMap { path, module in (module as? Linear).map { (path, $0) } }
    }

    /// The LoRA layers installed on `model`, with their paths.
    public static func loraLayers(of model: GPT) -> [(path: String, layer: Linear, lora: LoRALayer)] {
        linearLayers(of: model).compactMap { path, layer in (layer.adapter as? LoRALayer).map { (path, layer, $0) } }
    }

    /// Adds adapter `name` to every targeted Linear, makes it the active adapter, freezes everything else.
    /// Returns the number of trainable parameters. Throws (changing nothing) when no layer matches the
    /// targets; the error lists the targets and the model's layer names.
    @discardableResult
    public static func add(_ name: String, to model: GPT, config: LoRAConfig, seed: UInt64) throws -> Int {
        guard config.rank >= 1, config.rank <= AdapterConfig.maximumRank, config.alpha.isFinite else {
            throw AdapterFileError(description: "LoRA: rank \(config.rank) must be in 1...\(AdapterConfig.maximumRank) and alpha \(config.alpha) finite")
        }
        let targeted = linearLayers(of: model).filter { config.targets(path: $0.path) }
        guard !targeted.isEmpty else {
            throw AdapterFileError(description: "LoRA: no Linear layer matches targets \(config.targets); the model's layers are "
                                   + linearLayers(of: model).map(\.path).joined(separator: ", "))
        }
        var rng = RNG(seed: seed)
        model.setTrainable(false)
        for (_, layer) in targeted {
            let lora = (layer.adapter as? LoRALayer) ?? LoRALayer()
            lora.add(name, config: config, layer: layer, rng: &rng)
            lora.active = [name]
            layer.adapter = lora
        }
        trainOnly(name, on: model)
        return model.parameterCount(trainableOnly: true)
    }

    /// Makes adapter `name` the only trainable tensors of the LoRA layers.
    static func trainOnly(_ name: String, on model: GPT) {
        for (_, _, lora) in loraLayers(of: model) {
            for (adapterName, weights) in lora.adapters {
                for (_, tensor) in weights.named { tensor.requiresGrad = adapterName == name }
            }
        }
    }

    /// Makes `names` the active adapters on every LoRA layer (empty: the base model).
    public static func setActive(_ names: [String], on model: GPT) {
        for (_, _, lora) in loraLayers(of: model) { lora.active = names.filter { lora.weights($0) != nil } }
    }

    /// Folds adapter `name` into the base weights of every layer that has it. Throws, changing
    /// nothing, when one of those layers has a quantized base weight (QLoRA): dequantize it first.
    public static func merge(_ name: String, into model: GPT) throws {
        try checkMergeable(name, model)
        for (_, layer, lora) in loraLayers(of: model) { lora.merge(name, layer: layer) }
    }

    /// Throws naming the first layer whose base weight is quantized and carries adapter `name`.
    static func checkMergeable(_ name: String, _ model: GPT) throws {
        if let (path, _, _) = loraLayers(of: model).first(where: { $0.layer.packedWeight != nil && $0.lora.weights(name) != nil }) {
            throw AdapterFileError(description: "LoRA: cannot merge \"\(name)\" into \(path): its base weight is quantized (dequantize it first)")
        }
    }

    /// Takes adapter `name` back out of the base weights.
    public static func unmerge(_ name: String, from model: GPT) {
        for (_, layer, lora) in loraLayers(of: model) { lora.unmerge(name, layer: layer) }
    }

    /// Merges adapter `name` into the base weights and drops every LoRA layer: the result is a plain
    /// model (other adapters on the same layers are discarded too). Throws, changing nothing, for a
    /// quantized base.
    public static func mergeAndUnload(_ name: String, from model: GPT) throws {
        try checkMergeable(name, model)
        for (_, layer, lora) in loraLayers(of: model) {
            lora.merge(name, layer: layer)
            layer.adapter = nil
        }
    }

    /// Removes adapter `name` everywhere (and the LoRA layers left empty).
    public static func remove(_ name: String, from model: GPT) {
        for (_, layer, lora) in loraLayers(of: model) {
            lora.remove(name, layer: layer)
            if lora.adapters.isEmpty { layer.adapter = nil }
        }
    }

    /// Trainable parameters of adapter `name`: Σ r·(in + out) over its layers (+ DoRA magnitudes).
    public static func parameterCount(_ name: String, in model: GPT) -> Int {
        loraLayers(of: model).compactMap { $0.lora.weights(name)?.parameterCount }.reduce(0, +)
    }
}
