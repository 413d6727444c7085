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
        var rng = RNG(seed: 0)   // placeholder values, all overwritten below
        let model = GPT(config: config, rng: &rng)
        model.setTrainable(false)
        let layers = Dictionary(uniqueKeysWithValues: WeightQuantization.layers(of: model).map { ($0.path + ".weight", $0.layer) })
        for (name, parameter) in model.namedParameters() {
            if let layer = layers[name], file.tensors[name + ".nf4"] != nil {
                let weight = try nf4(name, file: file, blockSize: blockSize, label: label)
                guard weight.rows == layer.outFeatures, weight.columns == layer.inFeatures else {
                    throw QuantizationError("\(label): \(name) is [\(weight.rows), \(weight.columns)], the model needs \(parameter.shape)")
                }
                QuantizedLinear.pack(layer, with: weight)
                continue
            }
            guard file.tensors[name] != nil else { throw QuantizationError("\(label): tensor \(name) is missing") }
            let values = try file.floats(of: name)
            guard values.count == parameter.count else {
                throw QuantizationError("\(label): \(name) has \(values.count) values, the model needs \(parameter.shape)")
            }
            values.withUnsafeBufferPointer { parameter.data.update(from: $0.baseAddress!, count: values.count) }
        }
        return model
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
