// Comparison.swift — how the tests compare floats: the largest difference, and named tolerances.
//
// Teaches: "equal" for floats means "within a stated tolerance", and the tolerance should say why it is
// that size. `maxDifference` is the one measure the tests use (the L∞ distance); `Tolerance` names the
// few bounds they hold it to, so a reader sees "reordered sums" rather than a bare 1e-4.
// Leaves out: ULP-based comparison (the number-format tests count bits exactly instead).
import Autodiff

/// max |a[i] − b[i]| (0 when both are empty). Different lengths give +∞, so any bound fails.
public func maxDifference(_ a: [Float], _ b: [Float]) -> Float {
    guard a.count == b.count else { return .infinity }
    return zip(a, b).reduce(Float(0)) { Swift.max($0, abs($1.0 - $1.1)) }
}

/// max |a[i] − b[i]| over two tensors' values (+∞ when their shapes differ).
public func maxDifference(_ a: Tensor, _ b: Tensor) -> Float {
    a.shape == b.shape ? maxDifference(a.values, b.values) : .infinity
}

/// The largest `maxDifference` over pairs of arrays (e.g. every parameter of two models).
public func maxDifference(_ a: [[Float]], _ b: [[Float]]) -> Float {
    guard a.count == b.count else { return .infinity }
    return zip(a, b).reduce(Float(0)) { Swift.max($0, maxDifference($1.0, $1.1)) }
}

/// The bounds tests hold `maxDifference` to, for values of order 1 (caseless namespace).
public enum Tolerance {
    /// The same arithmetic in the same order, up to a copy or an identity (1e-6).
    public static let identical: Float = 1e-6
    /// A few float32 roundings apart: merge then unmerge, an adapter folded into W (1e-5).
    public static let rounding: Float = 1e-5
    /// Sums taken in another order: tiled or threaded GEMM, fused vs separate ops, another library (1e-4).
    public static let reordered: Float = 1e-4
}
