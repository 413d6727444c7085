// IntegerQuantization.swift — post-training quantization to int8/int4: absmax and zero-point.
//
// Teaches: the two affine maps every int quantizer is built from, and why granularity matters.
// - Absmax (symmetric): s = max|x| / qmax with qmax = 2^(b−1) − 1; q = round(x / s) ∈ [−qmax, qmax];
//   x̂ = q·s. Zero stays exactly zero; one outlier stretches s for the whole group.
// - Zero-point (asymmetric, unsigned): s = (max − min) / (2^b − 1), z = round(−min / s);
//   q = clamp(round(x / s) + z, 0, 2^b − 1); x̂ = (q − z)·s. Uses all codes when the values are skewed
//   (e.g. after a ReLU).
// Granularity — which values share one scale: the whole tensor, each output channel (row), or each
// block of n consecutive values. Smaller groups follow the data more closely and cost more scales;
// `bitsPerValue` counts them.
// Leaves out: calibration with percentiles/MSE search, GPTQ/AWQ's error-compensating rounding.
import Foundation
import Kernels

/// Which values share a scale.
public enum Granularity: Sendable, Equatable, CustomStringConvertible {
    /// One scale for the whole matrix.
    case tensor
    /// One scale per row (a linear layer's output channel).
    case channel
    /// One scale per `n` consecutive values (row-major).
    case block(Int)

    public var description: String {
        switch self {
        case .tensor: return "per tensor"
        case .channel: return "per channel"
        case .block(let n): return "blocks of \(n)"
        }
    }

    /// Values per group for a [rows, columns] matrix.
    func groupSize(rows: Int, columns: Int) -> Int {
        switch self {
        case .tensor: return rows * columns
        case .channel: return columns
        case .block(let n): return n
        }
    }
}

/// The affine scheme.
public enum IntegerScheme: String, Sendable {
    /// Symmetric, signed codes, no zero point.
    case absmax
    /// Asymmetric, unsigned codes with a zero point.
    case zeroPoint
}

/// A matrix quantized to b-bit integers with one scale (and zero point) per group.
public struct IntegerQuantized: Sendable {
    /// The integer codes, one per value (stored wide here; `storageBytes` counts b bits each).
    public let codes: [Int32]
    /// One scale per group.
    public let scales: [Float]
    /// One zero point per group (empty for absmax).
    public let zeroPoints: [Int32]
    public let bits: Int
    public let scheme: IntegerScheme
    public let granularity: Granularity
    /// Values per group.
    public let groupSize: Int

    /// x̂ = (q − z)·s for every value.
    public func dequantized() -> [Float] {
        codes.indices.map { i in
            let group = i / groupSize
            let zero = zeroPoints.isEmpty ? 0 : zeroPoints[group]
            return Float(codes[i] - zero) * scales[group]
        }
    }

    /// Bytes if packed: b bits per code, 4 per scale, 1 per zero point.
    public var storageBytes: Int { (codes.count * bits + 7) / 8 + 4 * scales.count + zeroPoints.count }
    /// Stored bits per value, scales included.
    public var bitsPerValue: Double { Double(storageBytes * 8) / Double(codes.count) }
}

/// Post-training quantizers.
public enum PostTrainingQuantization {
    /// Quantizes `values` ([rows, columns] row-major) with `bits`-bit integers. Throws on a bad bit width,
    /// shape or block size, or a non-finite value.
    public static func quantize(_ values: [Float], rows: Int, columns: Int, bits: Int, scheme: IntegerScheme = .absmax,
                                granularity: Granularity = .tensor) throws -> IntegerQuantized {
        guard (2...16).contains(bits) else { throw QuantizationError("integer quantization: \(bits) bits is outside 2…16") }
        guard rows > 0, columns > 0, values.count == rows * columns else {
            throw QuantizationError("integer quantization: \(values.count) values do not fill [\(rows), \(columns)]")
        }
        let groupSize = granularity.groupSize(rows: rows, columns: columns)
        guard groupSize > 0, values.count % groupSize == 0 else {
            throw QuantizationError("integer quantization: \(granularity) does not divide \(values.count) values")
        }
        if let bad = values.firstIndex(where: { !$0.isFinite }) {
            throw QuantizationError("integer quantization: value \(values[bad]) at index \(bad) is not finite")
        }
        let groups = values.count / groupSize
        var codes = [Int32](repeating: 0, count: values.count)
        var scales = [Float](repeating: 0, count: groups), zeros: [Int32] = []
        for group in 0..<groups {
            let range = group * groupSize ..< (group + 1) * groupSize
            switch scheme {
            case .absmax:
                // s = max|x| / qmax; q = round(x/s), clamped to the symmetric range.
                let qmax = Float((1 << (bits - 1)) - 1)
                let scale = values[range].reduce(Float(0)) { max($0, abs($1)) } / qmax
                scales[group] = scale
                for i in range { codes[i] = Int32(roundClamp(values[i], scale: scale, low: -qmax, high: qmax)) }
            case .zeroPoint:
                // The range must contain 0 so that 0 is exactly representable (padding, ReLU zeros).
                let low = min(0, values[range].min()!), high = max(0, values[range].max()!)
                let levels = Float((1 << bits) - 1)
                let scale = (high - low) / levels
                let zero = scale > 0 ? min(max((-low / scale).rounded(.toNearestOrEven), 0), levels) : 0
                scales[group] = scale
                zeros.append(Int32(zero))
                for i in range {
                    codes[i] = Int32(roundClamp(values[i], scale: scale, low: -zero, high: levels - zero) + zero)
                }
            }
        }
        return IntegerQuantized(codes: codes, scales: scales, zeroPoints: zeros, bits: bits, scheme: scheme,
                                granularity: granularity, groupSize: groupSize)
    }

    /// round(x / s) (half to even), clamped to [low, high]; 0 when s is 0.
    @inline(__always)
    static func roundClamp(_ x: Float, scale: Float, low: Float, high: Float) -> Float {
        guard scale > 0 else { return 0 }
        return min(max((x / scale).rounded(.toNearestOrEven), low), high)
    }
}

/// How far a quantized copy is from the original.
public struct QuantizationErrorMetrics: Sendable, CustomStringConvertible {
    /// Mean squared error.
    public let meanSquaredError: Double
    /// Largest absolute error.
    public let maxError: Double
    /// √MSE / RMS(original): the error relative to the values' typical size.
    public let relativeRMSError: Double

    /// Compares `approximation` with `original` (same length).
    public init(original: [Float], approximation: [Float]) {
        require(original.count == approximation.count && !original.isEmpty,
                "QuantizationErrorMetrics: \(original.count) vs \(approximation.count) values")
        var squared = 0.0, worst = 0.0, energy = 0.0
        for (x, y) in zip(original, approximation) {
            let e = Double(x) - Double(y)
            squared += e * e
            worst = max(worst, abs(e))
            energy += Double(x) * Double(x)
        }
        meanSquaredError = squared / Double(original.count)
        maxError = worst
        relativeRMSError = energy > 0 ? (squared / energy).squareRoot() : 0
    }

    public var description: String {
        String(format: "MSE %.3e, max error %.3e, relative RMS %.4f", meanSquaredError, maxError, relativeRMSError)
    }
}
