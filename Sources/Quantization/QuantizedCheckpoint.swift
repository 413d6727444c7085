// QuantizedCheckpoint.swift — a model saved with its linear weights in NF4: the bytes on disk are the
// bytes in memory.
//
// Teaches: what a 4-bit checkpoint contains. Each quantized weight becomes up to four tensors —
// the packed codes (U8, two per byte, first in the high nibble), and either the fp32 block scales or
// their double-quantized form (U8 codes, F32 second-level scales, F32 mean); everything else (embeddings,
// norms, the output head) stays F32. Loading rebuilds `NF4Weight`s directly from those bytes, so a
// quantized model is never expanded to fp32: each quantized Linear holds its NF4 weight packed
// (QuantizedLinear.swift), ready for QLoRA or for plain inference.
// Names are ours ("h.0.attn.c_attn.weight.nf4" …), recorded in the file's metadata with the block
// size and shapes. Leaves out: bitsandbytes' own serialization (its quant_state JSON blob).
import Foundation
import Kernels
import Autodiff
import NN
import Checkpoints

/// Saving and loading models whose linear weights are stored in NF4.
public enum QuantizedCheckpoint {
    /// The weights file inside a quantized checkpoint directory.
    public static let fileName = "model.nf4.safetensors"

    /// Writes config.json and `model.nf4.safetensors` for `model` into `directory`: every Linear but the
    /// head in NF4 (already-quantized layers as they are), the rest F32. Returns the file's byte count.
    @discardableResult
    public static func save(_ model: GPT, to directory: URL, blockSize: Int = 64, doubleQuantize: Bool = true) throws -> Int {
        var tensors: [SafeTensors.NamedTensor] = []
        var metadata = ["format": "tinytune-nf4", "block_size": String(blockSize)]
        let quantizedLayers = Dictionary(uniqueKeysWithValues: WeightQuantization.layers(of: model).map { ($0.path + ".weight", $0.layer) })
        for (name, parameter) in model.namedParameters() {
            guard let layer = quantizedLayers[name] else {
                // Adapter tensors are not part of the base checkpoint.
                if name.contains(".lora_") { continue }
                tensors.append(try SafeTensors.NamedTensor(name: name, shape: parameter.shape, floats: parameter.values))
                continue
            }
            let weight: NF4Weight
            if let existing = QuantizedLinear.nf4Weight(of: layer) {
                weight = existing
            } else {
                weight = try NF4Weight(parameter, blockSize: blockSize, doubleQuantize: doubleQuantize)
            }
            metadata["shape." + name] = "\(weight.rows),\(weight.columns)"
            tensors.append(SafeTensors.NamedTensor(name: name + ".nf4", dtype: .u8, shape: [weight.packedBytes.count],
                                                   bytes: Data(weight.packedBytes)))
            if let dq = weight.doubleQuantized {
                tensors.append(SafeTensors.NamedTensor(name: name + ".absmax_codes", dtype: .u8, shape: [dq.quantized.codes.count],
                                                       bytes: Data(dq.quantized.codes)))
                tensors.append(try SafeTensors.NamedTensor(name: name + ".absmax_scales", shape: [dq.quantized.absmax.count],
                                                           floats: dq.quantized.absmax))
                tensors.append(try SafeTensors.NamedTensor(name: name + ".absmax_offset", shape: [1], floats: [dq.offset]))
            } else if let scales = weight.blockScales {
                tensors.append(try SafeTensors.NamedTensor(name: name + ".absmax", shape: [scales.count], floats: scales))
            }
        }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let url = directory.appendingPathComponent(fileName)
        try SafeTensors.write(tensors, metadata: metadata, to: url)
        try AtomicFile.write(try ModelCheckpoint.configJSON(model.config), to: directory.appendingPathComponent("config.json"))
        return (try FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int) ?? 0
    }

    /// Loads a directory written by `save`: the F32 tensors into a fresh GPT, the NF4 ones as the packed
    /// weights of their Linear layers (no adapters). Throws naming a missing or mis-sized tensor.
    public static func load(directory: URL) throws -> GPT {
        let config = try ModelCheckpoint.gptConfig(HFConfig.Architecture(contentsOf: directory.appendingPathComponent("config.json")))
        let file = try SafeTensors.File(contentsOf: directory.appendingPathComponent(fileName))
        let label = directory.appendingPathComponent(fileName).path
        guard file.metadata["format"] == "tinytune-nf4", let blockSize = file.metadata["block_size"].flatMap(Int.init) else {
            throw QuantizationError("\(label): not a tinytune NF4 checkpoint (metadata format/block_size missing)")
        }
        guard blockSize >= 2, blockSize % 2 == 0, blockSize <= 1 << 20 else {
            throw QuantizationError("\(label): block_size \(blockSize) must be even and in 2...\(1 << 20)")
        }
        // Before allocating a model of config.json's size, check that the file holds that model.
        try checkDimensions(config, file: file, label: label)
        // Placeholder matrices (never the random fp32 model): each is packed from its NF4 blocks or
        // installed from the file's floats, and the last check refuses any left empty.
        let model = ModelCheckpoint.placeholderModel(config)
        var consumed = Set<String>()
        model.setTrainable(false)
        let layers = Dictionary(uniqueKeysWithValues: WeightQuantization.layers(of: model).map { ($0.path + ".weight", $0.layer) })
        let modules = Dictionary(uniqueKeysWithValues: model.namedModules().map { ($0.0, $0.1) })
        for (name, parameter) in model.namedParameters() {
            if let layer = layers[name], file.tensors[name + ".nf4"] != nil {
                let weight = try nf4(name, file: file, blockSize: blockSize, label: label)
                consumed.formUnion([".nf4", ".absmax", ".absmax_codes", ".absmax_scales", ".absmax_offset"].map { name + $0 })
                guard weight.rows == layer.outFeatures, weight.columns == layer.inFeatures else {
                    throw QuantizationError("\(label): \(name) is [\(weight.rows), \(weight.columns)], the model needs "
                                            + "[\(layer.outFeatures), \(layer.inFeatures)]")
                }
                QuantizedLinear.pack(layer, with: weight)
                continue
            }
            // A placeholder's shape comes from its layer (a linear's [out, in], an embedding's [rows, C]).
            let path = name.hasSuffix(".weight") ? String(name.dropLast(".weight".count)) : name
            let shape: [Int]
            if parameter.count == 0, let linear = modules[path] as? Linear { shape = [linear.outFeatures, linear.inFeatures] }
            else if parameter.count == 0, modules[path] is Embedding {
                shape = [path == "wpe" ? config.contextLength : config.vocabularySize, config.embeddingSize]
            } else { shape = parameter.shape }
            guard let info = file.tensors[name] else { throw QuantizationError("\(label): tensor \(name) is missing") }
            guard info.shape == shape else {
                throw QuantizationError("\(label): \(name) has shape \(info.shape), the model needs \(shape)")
            }
            try ModelCheckpoint.install(try file.floats(of: name), shape: shape, as: name, in: model, modules: modules, label: label)
            consumed.insert(name)
        }
        try ModelCheckpoint.checkFilled(model, label: label)
        model.setTrainable(false)
        if let extra = file.names.sorted().first(where: { !consumed.contains($0) }) {
            throw QuantizationError("\(label): tensor \(extra) belongs to no parameter of the model config.json describes")
        }
        return model
    }

    /// Checks config.json's sizes against the file before a model of that size is allocated: the block
    /// indices in the tensor names are exactly 0..<layers, and the embedding (and GPT-2 position)
    /// tables and one MLP weight have the config's shapes — so every allocation is bounded by the file.
    static func checkDimensions(_ config: GPTConfig, file: SafeTensors.File, label: String) throws {
        let blockPrefix = config.flavour == .gpt2 ? "h." : "layers."
        var blocks = Set<Int>()
        for name in file.names where name.hasPrefix(blockPrefix) {
            let parts = name.dropFirst(blockPrefix.count).split(separator: ".", maxSplits: 1)
            guard let index = parts.first.flatMap({ Int($0) }) else { throw QuantizationError("\(label): tensor \(name) has no block index") }
            blocks.insert(index)
        }
        // Distinct indices, all in 0..<layers, as many as layers: exactly 0..<layers (no Set of that size).
        guard blocks.count == config.layers, blocks.allSatisfy({ $0 >= 0 && $0 < config.layers }) else {
            throw QuantizationError("\(label): config.json has \(config.layers) blocks, the file has tensors for blocks "
                                    + "\(blocks.sorted().prefix(8).map(String.init).joined(separator: ", "))\(blocks.count > 8 ? ", …" : "")")
        }
        let c = config.embeddingSize
        func expect(_ name: String, _ shape: [Int]) throws {
            guard let info = file.tensors[name] else { throw QuantizationError("\(label): tensor \(name) is missing") }
            guard info.shape == shape else {
                throw QuantizationError("\(label): \(name) has shape \(info.shape), config.json implies \(shape)")
            }
        }
        func expectNF4(_ name: String, _ rows: Int, _ columns: Int) throws {
            if file.tensors[name] != nil { return try expect(name, [rows, columns]) }
            guard file.metadata["shape." + name] == "\(rows),\(columns)" else {
                throw QuantizationError("\(label): \(name) is \(file.metadata["shape." + name] ?? "missing"), config.json implies [\(rows), \(columns)]")
            }
        }
        switch config.flavour {
        case .gpt2:
            try expect("wte.weight", [config.vocabularySize, c])
            try expect("wpe.weight", [config.contextLength, c])
            try expectNF4("h.0.mlp.c_fc.weight", config.mlpSize, c)
        case .llama:
            try expect("embed_tokens.weight", [config.vocabularySize, c])
            try expectNF4("layers.0.mlp.up_proj.weight", config.mlpSize, c)
        }
    }

    /// Rebuilds the NF4 weight stored under `name`.
    static func nf4(_ name: String, file: SafeTensors.File, blockSize: Int, label: String) throws -> NF4Weight {
        let shape = (file.metadata["shape." + name] ?? "").split(separator: ",").compactMap { Int($0) }
        guard shape.count == 2 else { throw QuantizationError("\(label): metadata shape.\(name) is missing or malformed") }
        let packed = [UInt8](try file.bytes(of: name + ".nf4"))
        var floatScales: [Float]?, dq: DoubleQuantizedScales?
        if file.tensors[name + ".absmax_codes"] != nil {
            dq = try DoubleQuantizedScales(codes: [UInt8](try file.bytes(of: name + ".absmax_codes")),
                                           absmax: try file.floats(of: name + ".absmax_scales"),
                                           offset: try file.floats(of: name + ".absmax_offset").first ?? 0)
        } else {
            floatScales = try file.floats(of: name + ".absmax")
        }
        do {
            return try NF4Weight(packed: packed, rows: shape[0], columns: shape[1], blockSize: blockSize,
                                 floatScales: floatScales, doubleQuantized: dq)
        } catch let error as QuantizationError {
            throw QuantizationError("\(label): \(name): \(error.description)")
        }
    }
}
