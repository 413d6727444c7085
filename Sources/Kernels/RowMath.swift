// RowMath.swift — sums, maxima and dot products along one contiguous row, eight lanes at a time.
//
// Teaches: why a reduction loop `for c in 0..<n { s += x[c] }` runs one add at a time: floating-point
// addition is not associative, so the compiler must keep the written order. Summing into eight
// independent lanes (and adding the lanes at the end) is a different but equally valid order; it
// lets the loop use SIMD registers and hides the add latency. Every row kernel uses these helpers, so
// a row's result does not depend on thread count or on which row it is.
// Leaves out: compensated (Kahan) summation.

/// Vectorised reductions over `count` contiguous floats (caseless namespace).
public enum RowMath {
    /// Σ x[i].
    @inlinable @inline(__always)
    public static func sum(_ x: UnsafePointer<Float>, _ count: Int) -> Float {
        var lanes = SIMD8<Float>()
        var i = 0
        while i &+ 8 <= count { lanes += UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self); i &+= 8 }
        var total = lanes.sum()
        while i < count { total += x[i]; i &+= 1 }
        return total
    }

    /// max x[i] (−∞ for an empty row).
    @inlinable @inline(__always)
    public static func max(_ x: UnsafePointer<Float>, _ count: Int) -> Float {
        var lanes = SIMD8<Float>(repeating: -.infinity)
        var i = 0
        while i &+ 8 <= count {
            let v = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self)
            lanes.replace(with: v, where: v .> lanes)
            i &+= 8
        }
        var best = lanes.max()
        while i < count { if x[i] > best { best = x[i] }; i &+= 1 }
        return best
    }

    /// Σ x[i]·y[i].
    @inlinable @inline(__always)
    public static func dot(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ count: Int) -> Float {
        var lanes = SIMD8<Float>()
        var i = 0
        while i &+ 8 <= count {
            lanes.addProduct(UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self),
                             UnsafeRawPointer(y + i).loadUnaligned(as: SIMD8<Float>.self))
            i &+= 8
        }
        var total = lanes.sum()
        while i < count { total += x[i] * y[i]; i &+= 1 }
        return total
    }

    /// Σ (x[i] − shift)², the centred sum of squares of a row (for variances).
    @inlinable @inline(__always)
    public static func squaredDeviations(_ x: UnsafePointer<Float>, _ count: Int, from shift: Float) -> Float {
        var lanes = SIMD8<Float>()
        let center = SIMD8<Float>(repeating: shift)
        var i = 0
        while i &+ 8 <= count {
            let d = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self) - center
            lanes.addProduct(d, d)
            i &+= 8
        }
        var total = lanes.sum()
        while i < count { total += (x[i] - shift) * (x[i] - shift); i &+= 1 }
        return total
    }

    /// y[i] = exp(x[i] − shift) for every i, returning Σ y[i] (softmax's numerator and denominator).
    @inlinable @inline(__always)
    public static func shiftedExp(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ count: Int,
                                  shift: Float) -> Float {
        // The exp loop vectorises (FastMath is branch-free); the sum is taken in eight lanes after it.
        for c in 0..<count { y[c] = FastMath.exp(x[c] - shift) }
        return sum(y, count)
    }
}
