// QAT.swift — quantizing a whole model: after training (PTQ) or while training (QAT).
//
// Teaches: the two moments at which weights can be rounded to a coarse grid.
// - Post-training quantization rounds the trained weights once. Every weight moves by up to half a
//   grid step, and the errors of all layers add up in the output; at 4 bits this can hurt.
// - Quantization-aware training keeps fp32 "shadow" weights but runs every forward pass through the
//   rounded ones (`Tensor.fakeQuantize`, straight-through gradient). The loss therefore sees the
//   rounding error, and training moves the shadow weights to places where the *rounded* network works
//   well. At the end the shadow weights are rounded once more — to exactly the grid the network was
//   trained on, so nothing changes.
// Both act on every Linear except the output head (kept in full precision, as is common practice).
// Weights are stored back as the dequantized floats (simulated quantization): the accuracy is exactly
// that of int-b storage; the bytes are reported from the packed size.
// Leaves out: activation quantization (W4A16 here, not W4A4), learned scales, per-layer bit widths.
import Foundation
import Kernels
import Autodiff
import NN

/// Which grid QAT and model-level PTQ use.
public struct WeightQuantizationConfig: Sendable, Equatable {
    /// Integer bits (symmetric absmax grid: q ∈ [−(2^(b−1)−1), 2^(b−1)−1]).
    public var bits: Int
    /// Values sharing a scale: per channel (row) or per block.
    public var granularity: Granularity

    /// A config (int4 per channel by default).
    public init(bits: Int = 4, granularity: Granularity = .channel) {
        self.bits = bits
        self.granularity = granularity
    }

    /// The largest code, 2^(b−1) − 1.
    var qmax: Int { (1 << (bits - 1)) - 1 }
}

/// A Linear's adapter that runs the layer with its weight fake-quantized (QAT).
public final class FakeQuantizedLinear: LinearAdapter {
    /// The grid.
    public let config: WeightQuantizationConfig

    /// An adapter for the given grid.
    public init(config: WeightQuantizationConfig) { self.config = config }

    public func forward(_ x: Tensor, layer: Linear) -> Tensor {
        let groupSize = config.granularity.groupSize(rows: layer.outFeatures, columns: layer.inFeatures)
        // Scales from the current shadow weights: s = max|w| / qmax per group (constants for backward).
        let w = layer.weight.data
        let scales: [Float] = (0..<(layer.weight.count / groupSize)).map { group in
            var best: Float = 0
            for i in group * groupSize ..< (group + 1) * groupSize { best = max(best, abs(w[i])) }
            return best / Float(config.qmax)
        }
        let rounded = Tensor.fakeQuantize(layer.weight, scales: scales, groupSize: groupSize, qmin: -config.qmax, qmax: config.qmax)
        return layer.forward(x, weight: rounded)
    }

    public var adapterParameters: [(name: String, tensor: Tensor)] { [] }
}

/// What a model-level quantization did.
public struct ModelQuantizationSummary: Sendable {
    /// Linear layers quantized.
    public var layers: Int
    /// Their fp32 bytes, and bytes if stored packed (codes + scales).
    public var fp32Bytes: Int, packedBytes: Int
    /// Weight error over all quantized layers.
    public var error: QuantizationErrorMetrics
}

/// Model-level PTQ and QAT.
public enum WeightQuantization {
    /// The Linear layers that get quantized: all but the output head.
    public static func layers(of model: GPT) -> [(path: String, layer: Linear)] {
        model.namedModules().compactMap { path, module in
            guard let linear = module as? Linear, !path.hasSuffix("lm_head") else { return nil }
            return (path, linear)
        }
    }

    /// PTQ: rounds every weight of every Linear but the head to the grid, in place (removing any QAT
    /// adapters first). Throws for an invalid grid, naming the layer.
    @discardableResult
    public static func quantize(_ model: GPT, config: WeightQuantizationConfig) throws -> ModelQuantizationSummary {
        var originals: [Float] = [], approximations: [Float] = []
        var summary = ModelQuantizationSummary(layers: 0, fp32Bytes: 0, packedBytes: 0,
                                               error: QuantizationErrorMetrics(original: [0], approximation: [0]))
        for (path, layer) in layers(of: model) {
            if layer.adapter is FakeQuantizedLinear { layer.adapter = nil }
            let values = layer.weight.values
            let quantized: IntegerQuantized
            do {
                quantized = try PostTrainingQuantization.quantize(values, rows: layer.outFeatures, columns: layer.inFeatures,
                                                                  bits: config.bits, granularity: config.granularity)
            } catch let error as QuantizationError {
                throw QuantizationError("\(path).weight: \(error.description)")
            }
            let rounded = quantized.dequantized()
            rounded.withUnsafeBufferPointer { layer.weight.data.update(from: $0.baseAddress!, count: rounded.count) }
            originals += values
            approximations += rounded
            summary.layers += 1
            summary.fp32Bytes += layer.weight.byteCount
            summary.packedBytes += quantized.storageBytes
        }
        if !originals.isEmpty { summary.error = QuantizationErrorMetrics(original: originals, approximation: approximations) }
        return summary
    }

    /// QAT: installs a fake-quantizing adapter on every Linear but the head. Train as usual afterwards
    /// (the fp32 weights stay trainable), then call `quantize` with the same config.
    public static func prepareForQAT(_ model: GPT, config: WeightQuantizationConfig) throws {
        guard (2...16).contains(config.bits) else { throw QuantizationError("QAT: \(config.bits) bits is outside 2…16") }
        for (path, layer) in layers(of: model) {
            let groupSize = config.granularity.groupSize(rows: layer.outFeatures, columns: layer.inFeatures)
            guard groupSize > 0, layer.weight.count % groupSize == 0 else {
                throw QuantizationError("QAT: \(config.granularity) does not divide \(path).weight \(layer.weight.shape)")
            }
            layer.adapter = FakeQuantizedLinear(config: config)
        }
    }
}
