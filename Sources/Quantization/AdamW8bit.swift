// AdamW8bit.swift — AdamW whose two state buffers are stored in 8 bits, blockwise (bitsandbytes' Adam8bit).
//
// Teaches: shrinking the largest term of the training-memory equation. AdamW keeps m and v, 8 bytes
// per trainable parameter in fp32. Dettmers et al. (2022, "8-bit optimizers via block-wise
// quantization") store each in 8-bit dynamic-map codes with one fp32 absmax per block of 256 values:
// 1 + 4/256 ≈ 1.016 bytes per value, ~3.9× smaller. Each step, per block: decode m and v to fp32,
// do the ordinary AdamW update, re-quantize with the block's new absmax. Blocks keep an outlier from
// spoiling the precision of the whole tensor; the dynamic map keeps ~2 significant digits across
// magnitudes 1e-6…1, which is what Adam's moments span. m is signed (signed map), v ≥ 0 (unsigned map).
// Like bitsandbytes, tensors with fewer than `minimumQuantizedSize` values keep fp32 states (biases,
// norm scales): quantizing them saves nothing and costs accuracy.
// Checkpoints store the codes and block scales as they are (not decoded values): decode → re-encode is
// not the identity, and a resumed run must continue bit for bit.
// Leaves out: paged states, stochastic rounding, the fused GPU kernel.
import Foundation
import Kernels
import Autodiff
import Optim

/// One state buffer of one parameter: 8-bit codes + per-block absmax, or plain fp32 for small tensors.
final class QuantizedState {
    let count: Int
    let blockSize: Int
    let map: DynamicMap
    /// Codes (one byte per value) and absmax (per block), counted as optimizer state; nil when fp32.
    let codes: MeteredAllocation<UInt8>?
    let absmax: MeteredAllocation<Float>?
    /// The fp32 fallback.
    let plain: MeteredAllocation<Float>?

    init(count: Int, blockSize: Int, map: DynamicMap, quantized: Bool) {
        (self.count, self.blockSize, self.map) = (count, blockSize, map)
        if quantized {
            // All-zero state: every code must stand for 0 (the map's index of 0.0), absmax 0.
            let zeroCode = UInt8(map.values.firstIndex(of: 0)!)
            codes = MeteredAllocation(count: count, zero: zeroCode, role: .optimizerState)
            absmax = MeteredAllocation(count: (count + blockSize - 1) / blockSize, zero: 0, role: .optimizerState)
            plain = nil
        } else {
            plain = MeteredAllocation(count: count, zero: 0, role: .optimizerState)
            (codes, absmax) = (nil, nil)
        }
    }

    var byteCount: Int { (codes?.byteCount ?? 0) + (absmax?.byteCount ?? 0) + (plain?.byteCount ?? 0) }

    /// Decodes values `range` into `scratch` (or points at the fp32 values directly).
    func read(_ range: Range<Int>, into scratch: UnsafeMutablePointer<Float>) -> UnsafeMutablePointer<Float> {
        if let plain { return plain.pointer + range.lowerBound }
        let scale = absmax!.pointer[range.lowerBound / blockSize]
        for i in range { scratch[i - range.lowerBound] = map.values[Int(codes!.pointer[i])] * scale }
        return scratch
    }

    /// Re-quantizes the block `range` from `values` (no-op for fp32 state, which was updated in place).
    func write(_ range: Range<Int>, from values: UnsafeMutablePointer<Float>) {
        guard let codes, let absmax else { return }
        var scale: Float = 0
        for i in 0..<range.count { scale = max(scale, abs(values[i])) }
        absmax.pointer[range.lowerBound / blockSize] = scale
        let inverse: Float = scale > 0 ? 1 / scale : 0
        for i in range { codes.pointer[i] = map.nearestIndex(values[i - range.lowerBound] * inverse) }
    }

    /// All values decoded.
    func values() -> [Float] {
        var result = [Float](repeating: 0, count: count)
        var scratch = [Float](repeating: 0, count: blockSize)
        scratch.withUnsafeMutableBufferPointer { s in
            for start in stride(from: 0, to: count, by: blockSize) {
                let range = start ..< min(count, start + blockSize)
                let decoded = read(range, into: s.baseAddress!)
                for i in range { result[i] = decoded[i - start] }
            }
        }
        return result
    }

    /// The stored parts, exactly, as Float arrays by slot suffix: fp32 state as "" (the values);
    /// quantized state as ".codes" (each byte 0…255, exact in Float) and ".absmax" (one per block).
    /// Saving the parts, not decoded values, is what makes a resume bitwise: decoding and re-encoding
    /// is not the identity (the signed map has +1 but not −1, so a block whose absmax is negative
    /// decodes to 0.993·absmax and would get a new, smaller scale).
    func parts() -> [(suffix: String, values: [Float])] {
        if let plain { return [("", Array(UnsafeBufferPointer(start: plain.pointer, count: count)))] }
        let blocks = (count + blockSize - 1) / blockSize
        return [(".codes", (0..<count).map { Float(codes!.pointer[$0]) }),
                (".absmax", Array(UnsafeBufferPointer(start: absmax!.pointer, count: blocks)))]
    }

    /// Checks parts saved by `parts()` (keys `key` + suffix in `saved`) and returns a closure that
    /// stores them; nothing is changed until the closure runs. Codes must be integers 0…255, block
    /// scales and fp32 values finite, and ≥ 0 where `nonNegative` (a second moment).
    func validatedLoad(_ saved: [String: [Float]], key: String, nonNegative: Bool) throws -> () -> Void {
        func slot(_ suffix: String, count expected: Int) throws -> [Float] {
            guard let values = saved[key + suffix] else { throw OptimizerStateError(description: "optimizer state: missing \(key + suffix)") }
            guard values.count == expected else {
                throw OptimizerStateError(description: "optimizer state: \(key + suffix) has \(values.count) values, expected \(expected)")
            }
            return values
        }
        func check(_ values: [Float], _ name: String, _ valid: (Float) -> Bool, _ rule: String) throws {
            if let bad = values.firstIndex(where: { !valid($0) }) {
                throw OptimizerStateError(description: "optimizer state: \(name) holds \(values[bad]) at element \(bad) (\(rule))")
            }
        }
        if let plain {
            let values = try slot("", count: count)
            try check(values, key, { $0.isFinite && (!nonNegative || $0 >= 0) }, nonNegative ? "must be finite and ≥ 0" : "must be finite")
            return { values.withUnsafeBufferPointer { plain.pointer.update(from: $0.baseAddress!, count: values.count) } }
        }
        let codeValues = try slot(".codes", count: count)
        let scales = try slot(".absmax", count: (count + blockSize - 1) / blockSize)
        try check(codeValues, key + ".codes", { $0 >= 0 && $0 <= 255 && $0.rounded() == $0 }, "must be an integer 0…255")
        try check(scales, key + ".absmax", { $0.isFinite && $0 >= 0 }, "must be finite and ≥ 0")
        let (codes, absmax) = (codes!, absmax!)
        return {
            for i in 0..<codeValues.count { codes.pointer[i] = UInt8(codeValues[i]) }
            scales.withUnsafeBufferPointer { absmax.pointer.update(from: $0.baseAddress!, count: scales.count) }
        }
    }
}

/// AdamW with 8-bit blockwise states (same update rule and defaults as `AdamW`).
public final class AdamW8bit: Optimizer {
    public let parameters: [(name: String, tensor: Tensor)]
    public let beta1: Float, beta2: Float, epsilon: Float, weightDecay: Float
    public private(set) var stepCount = 0
    /// Values per quantization block (256, as in bitsandbytes).
    public let blockSize: Int
    /// Tensors smaller than this keep fp32 states (bitsandbytes' `min_8bit_size`, 4096).
    public let minimumQuantizedSize: Int
    private let firstMoment: [QuantizedState]
    private let secondMoment: [QuantizedState]
    private let decays: [Bool]

    /// An 8-bit AdamW over the trainable `parameters`.
    public init(_ parameters: [(name: String, tensor: Tensor)], beta1: Float = 0.9, beta2: Float = 0.999,
                epsilon: Float = 1e-8, weightDecay: Float = 0.01, blockSize: Int = 256, minimumQuantizedSize: Int = 4096) {
        self.parameters = parameters.filter { $0.tensor.requiresGrad }
        (self.beta1, self.beta2, self.epsilon, self.weightDecay) = (beta1, beta2, epsilon, weightDecay)
        (self.blockSize, self.minimumQuantizedSize) = (blockSize, minimumQuantizedSize)
        firstMoment = self.parameters.map {
            QuantizedState(count: $0.tensor.count, blockSize: blockSize, map: .signed, quantized: $0.tensor.count >= minimumQuantizedSize)
        }
        secondMoment = self.parameters.map {
            QuantizedState(count: $0.tensor.count, blockSize: blockSize, map: .unsigned, quantized: $0.tensor.count >= minimumQuantizedSize)
        }
        decays = self.parameters.map { $0.tensor.rank >= 2 }
    }

    public var stateValuesPerParameter: Int { 2 }

    /// Bytes the states really hold (codes + block scales + fp32 fallbacks).
    public var quantizedStateBytes: Int { (firstMoment + secondMoment).map(\.byteCount).reduce(0, +) }

    public func step(learningRate: Float) {
        stepCount += 1
        let correction1 = 1 - Foundation.pow(beta1, Float(stepCount))
        let rootCorrection2 = (1 - Foundation.pow(beta2, Float(stepCount))).squareRoot()
        let stepSize = learningRate / correction1
        let (b1, b2, eps) = (beta1, beta2, epsilon)
        let scratchM = UnsafeMutablePointer<Float>.allocate(capacity: blockSize)
        let scratchV = UnsafeMutablePointer<Float>.allocate(capacity: blockSize)
        defer { scratchM.deallocate(); scratchV.deallocate() }
        for (index, (_, p)) in parameters.enumerated() {
            guard let grad = p.grad else { continue }
            let (theta, g) = (p.data, grad.data)
            let decay = decays[index] ? 1 - learningRate * weightDecay : 1
            for start in stride(from: 0, to: p.count, by: blockSize) {
                let range = start ..< min(p.count, start + blockSize)
                // Decode the block, update as AdamW does, encode again.
                let m = firstMoment[index].read(range, into: scratchM)
                let v = secondMoment[index].read(range, into: scratchV)
                for i in range {
                    let j = i - start
                    m[j] = b1 * m[j] + (1 - b1) * g[i]
                    v[j] = b2 * v[j] + (1 - b2) * g[i] * g[i]
                    theta[i] = theta[i] * decay - stepSize * m[j] / (v[j].squareRoot() / rootCorrection2 + eps)
                }
                firstMoment[index].write(range, from: m)
                secondMoment[index].write(range, from: v)
            }
        }
    }

    /// The states as stored: fp32 states as "<parameter>.exp_avg" / ".exp_avg_sq"; 8-bit ones as
    /// "<parameter>.exp_avg.codes" (bytes as Floats) and ".exp_avg.absmax" (block scales), so a
    /// checkpoint holds exactly what the optimizer holds and a resume continues bit for bit.
    /// `decodedStates()` gives the fp32 values the codes stand for.
    public func stateTensors() -> [(name: String, tensor: Tensor)] {
        [("exp_avg", firstMoment), ("exp_avg_sq", secondMoment)].flatMap { suffix, states in
            zip(parameters, states).flatMap { parameter, state in
                state.parts().map { part in
                    (parameter.name + "." + suffix + part.suffix, Tensor(part.values, shape: [part.values.count]))
                }
            }
        }
    }

    /// The states decoded to fp32, "<parameter>.exp_avg" / ".exp_avg_sq", in the parameters' shapes.
    public func decodedStates() -> [(name: String, tensor: Tensor)] {
        zip(parameters, firstMoment).map { ($0.0.name + ".exp_avg", Tensor($0.1.values(), shape: $0.0.tensor.shape)) }
            + zip(parameters, secondMoment).map { ($0.0.name + ".exp_avg_sq", Tensor($0.1.values(), shape: $0.0.tensor.shape)) }
    }

    /// Restores what `stateTensors()` saved. Every entry is checked before any is stored, so a
    /// throwing call leaves the optimizer exactly as it was.
    public func loadState(_ tensors: [String: [Float]], stepCount: Int) throws {
        try OptimizerStateError.checkStepCount(stepCount)
        var stores: [() -> Void] = []
        for (suffix, states) in [("exp_avg", firstMoment), ("exp_avg_sq", secondMoment)] {
            for (parameter, state) in zip(parameters, states) {
                stores.append(try state.validatedLoad(tensors, key: parameter.name + "." + suffix, nonNegative: suffix == "exp_avg_sq"))
            }
        }
        for store in stores { store() }
        self.stepCount = stepCount
    }
}
