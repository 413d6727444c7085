// QLoRA.swift — LoRA on a 4-bit base: quantize the frozen weights to NF4, train fp32 adapters on top.
//
// Teaches: the recipe of Dettmers et al. (2023) that fine-tunes a 65B model on one 48 GB GPU.
// LoRA already removed the gradients and optimizer state of the base weights; what is left is the base
// weights themselves, 4 bytes each in fp32. QLoRA stores them in NF4 with double-quantized scales
// (≈4.127 bits, so ≈0.129× the fp32 bytes) and dequantizes them on the fly in every forward and
// backward GEMM; gradients flow *through* the frozen 4-bit weight to the fp32 LoRA matrices A and B.
// Here `prepare` adds the LoRA adapter as usual, then packs each adapted layer's weight into an
// `NF4Weight` (QuantizedLinear.swift): the fp32 buffer is released, and the memory meter sees the
// packed bytes instead. The LoRA layer on top is the same as on an fp32 base.
// Leaves out: paged optimizers (unified-memory paging has no CPU analogue here), quantizing the
// embeddings and output head (QLoRA leaves them in 16-bit too), merging into a 4-bit base.
import Foundation
import Kernels
import Autodiff
import NN
import PEFT

/// How QLoRA stores the frozen base.
public struct QLoRAConfig: Sendable, Equatable {
    /// The adapter trained on top (QLoRA's paper uses all linear layers).
    public var lora: LoRAConfig
    /// NF4 values per absmax block (64 in the paper).
    public var blockSize: Int
    /// Whether the block scales are double-quantized (8-bit, blocks of 256).
    public var doubleQuantize: Bool

    /// A config; the paper's defaults for the base's storage.
    public init(lora: LoRAConfig, blockSize: Int = 64, doubleQuantize: Bool = true) {
        self.lora = lora
        self.blockSize = blockSize
        self.doubleQuantize = doubleQuantize
    }
}

/// What `QLoRA.prepare` did, in bytes.
public struct QLoRABaseSummary: Sendable {
    /// Linear layers whose weight is now NF4.
    public var quantizedLayers: Int
    /// fp32 bytes those weights held before.
    public var fp32Bytes: Int
    /// Bytes they hold now (packed codes + scales).
    public var quantizedBytes: Int
    /// quantizedBytes / fp32Bytes.
    public var ratio: Double { fp32Bytes == 0 ? 0 : Double(quantizedBytes) / Double(fp32Bytes) }
}

/// Model-level QLoRA operations.
public enum QLoRA {
    /// Adds LoRA adapter `name` to `model` (everything else frozen) and stores the weight of every adapted
    /// layer in NF4. Throws for DoRA or PiSSA (both need the fp32 weight) and for non-finite weights.
    @discardableResult
    public static func prepare(_ model: GPT, adapter name: String, config: QLoRAConfig, seed: UInt64) throws -> QLoRABaseSummary {
        guard !config.lora.useDoRA, config.lora.initialization != .pissa else {
            throw QuantizationError("QLoRA: DoRA and PiSSA need the fp32 base weight; use plain LoRA initialisation")
        }
        LoRA.add(name, to: model, config: config.lora, seed: seed)
        return try quantizeBase(of: model, blockSize: config.blockSize, doubleQuantize: config.doubleQuantize)
    }

    /// Replaces the fp32 weight of every Linear that carries a LoRA layer by an NF4 copy (the float
    /// buffer is freed). Layers already quantized are left alone.
    public static func quantizeBase(of model: GPT, blockSize: Int = 64, doubleQuantize: Bool = true) throws -> QLoRABaseSummary {
        var summary = QLoRABaseSummary(quantizedLayers: 0, fp32Bytes: 0, quantizedBytes: 0)
        for (path, layer, _) in LoRA.loraLayers(of: model) where layer.packedWeight == nil {
            let nf4: NF4Weight
            do {
                nf4 = try NF4Weight(layer.weight, blockSize: blockSize, doubleQuantize: doubleQuantize)
            } catch let error as QuantizationError {
                throw QuantizationError("QLoRA: layer \(path): \(error.description)")
            }
            summary.fp32Bytes += layer.weight.byteCount
            summary.quantizedBytes += nf4.byteCount
            summary.quantizedLayers += 1
            QuantizedLinear.pack(layer, with: nf4)
        }
        return summary
    }

    /// The NF4 weights of `model`'s quantized layers, with their paths.
    public static func quantizedWeights(of model: GPT) -> [(path: String, weight: NF4Weight)] {
        LoRA.linearLayers(of: model).compactMap { path, layer in QuantizedLinear.nf4Weight(of: layer).map { (path, $0) } }
    }
}
