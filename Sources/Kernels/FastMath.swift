// FastMath.swift — exp and tanh written so the compiler can vectorise them.
//
// Teaches: why activation functions can cost as much as the matrix multiplies around them: libm's
// expf/tanhf are scalar calls. Written out as range reduction + polynomial, the same loop becomes
// 8 lanes of AVX arithmetic.
//   exp(x) = 2ⁿ · e^r with n = round(x / ln 2), r = x − n·ln 2 ∈ [−ln2/2, ln2/2], e^r by a degree-6
//   polynomial (Cephes' coefficients); 2ⁿ is built directly in the exponent bits.
//   tanh(x) = sign(x) · (1 − 2 / (e^{2|x|} + 1)).
// Accuracy: exp within ~2 ulp over its range; tanh within ~1e-7 absolute.
// Leaves out: denormal outputs (exp underflows to 0 below −87.3).

/// Vectorisable elementary functions (caseless namespace).
public enum FastMath {
    /// eˣ for Float; saturates to +∞ above 88.72 and to 0 below −87.33.
    @inlinable @inline(__always)
    public static func exp(_ x: Float) -> Float {
        // Work on a clamped copy and fix the out-of-range results with selects at the end (branch-free,
        // so loops over this function vectorise; −∞ still gives exactly 0, as masked attention needs).
        let clamped = Swift.min(Swift.max(x, -87.33654), 88.72283)
        // n = round(x·log₂e); r = x − n·ln2 computed in two parts for accuracy.
        let n = (clamped * 1.44269504).rounded(.toNearestOrEven)
        var r = clamped - n * 0.693359375
        r = r + n * 2.12194440e-4
        // e^r ≈ 1 + r + r²·P(r).
        var p: Float = 1.9875691500e-4
        p = p * r + 1.3981999507e-3
        p = p * r + 8.3334519073e-3
        p = p * r + 4.1665795894e-2
        p = p * r + 1.6666665459e-1
        p = p * r + 5.0000001201e-1
        let er = p * r * r + r + 1
        // 2ⁿ: put n + 127 in the exponent field.
        let scale = Float(bitPattern: UInt32(Int32(n) + 127) << 23)
        let value = er * scale
        return x < -87.33654 ? 0 : (x > 88.72283 ? .infinity : value)
    }

    /// tanh(x) via exp, odd-symmetric.
    @inlinable @inline(__always)
    public static func tanh(_ x: Float) -> Float {
        let e = exp(2 * abs(x))
        let magnitude = 1 - 2 / (e + 1)
        return x < 0 ? -magnitude : magnitude
    }

    /// 1 / (1 + e⁻ˣ).
    @inlinable @inline(__always)
    public static func sigmoid(_ x: Float) -> Float { 1 / (1 + exp(-x)) }
}
