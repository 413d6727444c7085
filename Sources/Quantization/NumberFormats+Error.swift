// NumberFormats+Error.swift — how much each format loses on the values a network actually holds.
//
// Teaches: a float format's error is *relative* — about 2^−(M+1) of each value, whatever its size, as
// long as the value is inside the normal range — while an integer grid's error is *absolute* (half a
// step), so small values lose most. And range matters as much as precision: weights drawn from
// N(0, 0.02²) sit below fp8 E4M3's smallest normal (2^−6) and entirely below fp4's smallest number, so
// they only survive when a scale first stretches them onto the format's range (absmax scaling).
// Leaves out: per-channel and per-block scales and outliers (chapter 11), and errors of whole matmuls.
import Kernels
import Autodiff

/// Measures the rounding error of number formats on Gaussian activations and weight-like values.
public enum RoundingStudy {
    /// One format's measured errors.
    public struct Row: Sendable {
        /// Format name and bits per number.
        public var name: String, bits: Int
        /// Whether this format was measured with an absmax scale in every column (integer formats have no
        /// range of their own, so they always are).
        public var alwaysScaled: Bool
        /// RMS relative error on N(0, 1) samples.
        public var standardNormal: Double
        /// ‖round(x) − x‖ / ‖x‖ on the same N(0, 1) samples.
        public var standardNormalNormalized: Double
        /// RMS relative error on weight-like N(0, weightStd²) samples, rounded as they are.
        public var weights: Double
        /// RMS relative error on the same weights after scaling their absmax onto the format's max.
        public var weightsScaled: Double
    }

    /// sqrt(mean of ((r − x) / x)²) over the nonzero x: the typical relative error of one value.
    ///
    /// A value rounded to 0 counts as relative error 1; a value sent to ±∞ or NaN makes the result ∞.
    /// `values` and `rounded` have the same length.
    public static func rmsRelative(_ values: [Float], rounded: [Float]) -> Double {
        require(values.count == rounded.count, "rmsRelative: \(values.count) values but \(rounded.count) rounded")
        var sum = 0.0, count = 0
        for (x, r) in zip(values, rounded) where x != 0 {
            let relative = (Double(r) - Double(x)) / Double(x)
            sum += relative.isNaN ? .infinity : relative * relative
            count += 1
        }
        return count == 0 ? 0 : (sum / Double(count)).squareRoot()
    }

    /// ‖rounded − values‖ / ‖values‖: the error energy relative to the signal's (∞ on overflow).
    public static func normalizedError(_ values: [Float], rounded: [Float]) -> Double {
        require(values.count == rounded.count, "normalizedError: \(values.count) values but \(rounded.count) rounded")
        var error = 0.0, signal = 0.0
        for (x, r) in zip(values, rounded) {
            let d = Double(r) - Double(x)
            error += d.isNaN ? .infinity : d * d
            signal += Double(x) * Double(x)
        }
        return signal == 0 ? 0 : (error / signal).squareRoot()
    }

    /// `values` rounded to `format` after scaling their largest magnitude onto the format's range.
    ///
    /// Integer formats use the absmax scale: x ↦ code · scale with scale = absmax / maxCode. Float formats
    /// multiply by the power of two s = 2^⌊log₂(largestFinite / absmax)⌋ (at most 2^127) and divide by it afterwards —
    /// exact operations, so the only error is the format's own rounding, and absmax · s cannot overflow.
    /// (For a float format a scale only moves values into range; precision is relative anyway.)
    /// All-zero or non-finite input is rounded unscaled.
    public static func roundScaled(_ values: [Float], format: any NumberFormat) -> [Float] {
        let absmax = values.reduce(Float(0)) { max($0, abs($1)) }
        guard absmax > 0, absmax.isFinite else { return values.map(format.round) }
        if let integer = format as? IntegerFormat {
            let scale = integer.scale(absmax: absmax)
            return values.map { integer.round($0, scale: scale) }
        }
        // The ratio in Double, so fp32's max / 0.02 does not overflow; s itself must stay a finite fp32.
        let k = min((Double(format.largestFinite) / Double(absmax)).exponent, Float.greatestFiniteMagnitude.exponent)
        let s = Float(sign: .plus, exponent: k, significand: 1)
        return values.map { format.round($0 * s) / s }
    }

    /// Draws `samples` values from N(0, 1) and from N(0, weightStd²) (seeded), rounds them with every
    /// format, and reports the errors. Integer formats are always absmax-scaled.
    public static func measure(formats: [any NumberFormat] = NumberFormats.all, samples: Int, weightStd: Float = 0.02,
                               seed: UInt64) -> [Row] {
        require(samples > 0, "RoundingStudy.measure: samples must be positive, got \(samples)")
        var rng = RNG(seed: seed)
        let normal = (0..<samples).map { _ in rng.normal() }
        let weights = (0..<samples).map { _ in weightStd * rng.normal() }
        return formats.map { format in
            // An integer grid at scale 1 is just "round to integers": it needs a scale to mean anything.
            let alwaysScaled = format is IntegerFormat
            let roundedNormal = alwaysScaled ? roundScaled(normal, format: format) : normal.map(format.round)
            let roundedWeights = alwaysScaled ? roundScaled(weights, format: format) : weights.map(format.round)
            return Row(name: format.name, bits: format.bitWidth, alwaysScaled: alwaysScaled,
                       standardNormal: rmsRelative(normal, rounded: roundedNormal),
                       standardNormalNormalized: normalizedError(normal, rounded: roundedNormal),
                       weights: rmsRelative(weights, rounded: roundedWeights),
                       weightsScaled: rmsRelative(weights, rounded: roundScaled(weights, format: format)))
        }
    }
}
