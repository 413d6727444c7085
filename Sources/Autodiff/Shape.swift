// Shape.swift — broadcasting rules and the one helper that undoes broadcasting for gradients.
//
// Teaches: NumPy broadcasting. Align shapes at the right; each pair of extents must be equal or one
// of them 1; the result takes the larger. An input that was broadcast received the *same* value in
// many output positions, so its gradient is the *sum* of the output gradient over those positions:
// that is `unbroadcast`.
// Leaves out: negative strides, views.
import Kernels

/// Shape arithmetic (caseless namespace).
public enum Shapes {
    /// The broadcast shape of `a` and `b`, or nil when they are incompatible.
    public static func broadcast(_ a: [Int], _ b: [Int]) -> [Int]? {
        let rank = max(a.count, b.count)
        var result = [Int](repeating: 1, count: rank)
        for i in 0..<rank {
            // Walk from the right; missing leading axes count as 1.
            let x = i < rank - a.count ? 1 : a[i - (rank - a.count)]
            let y = i < rank - b.count ? 1 : b[i - (rank - b.count)]
            if x != y && x != 1 && y != 1 { return nil }
            result[i] = x == 1 ? y : x
        }
        return result
    }

    /// Row-major element strides of `shape`.
    public static func strides(_ shape: [Int]) -> [Int] { Elementwise.contiguousStrides(shape) }

    /// Strides for reading a tensor of `shape` as if it had the (broadcast) shape `target`:
    /// broadcast axes get stride 0, missing leading axes too.
    public static func broadcastStrides(_ shape: [Int], to target: [Int]) -> [Int] {
        let own = strides(shape)
        let offset = target.count - shape.count
        return (0..<target.count).map { axis in
            axis < offset || shape[axis - offset] == 1 ? 0 : own[axis - offset]
        }
    }

    /// Normalises a possibly negative axis (−1 = last) against `rank`, with a clear message.
    public static func axis(_ axis: Int, rank: Int, op: String) -> Int {
        let resolved = axis < 0 ? axis + rank : axis
        require(resolved >= 0 && resolved < rank, "\(op): axis \(axis) out of range for rank \(rank)")
        return resolved
    }
}

extension Tensor {
    /// Sums a gradient of shape `gradShape` (at `grad`) down to this tensor's shape and adds it into
    /// this tensor's gradient — the backward of broadcasting.
    func accumulateUnbroadcast(_ grad: UnsafePointer<Float>, gradShape: [Int]) {
        let target = gradientBuffer()
        if gradShape == shape {
            for i in 0..<count { target[i] += grad[i] }
            return
        }
        let reduced = Shapes.unbroadcast(grad, from: gradShape, to: shape)
        for i in 0..<count { target[i] += reduced[i] }
    }
}

extension Shapes {
    /// Sums `values` (laid out as `from`) over the axes that broadcasting added or stretched, giving
    /// an array laid out as `to`. Requires `broadcast(to, from) == from`.
    public static func unbroadcast(_ values: UnsafePointer<Float>, from: [Int], to: [Int]) -> [Float] {
        require(broadcast(to, from) == from, "unbroadcast: shape \(to) does not broadcast to \(from)")
        // Pad the target shape with leading 1s, then reduce one broadcast axis at a time.
        let padded = [Int](repeating: 1, count: from.count - to.count) + to
        var current = Array(UnsafeBufferPointer(start: values, count: from.reduce(1, *)))
        var currentShape = from
        for axis in 0..<from.count where padded[axis] == 1 && currentShape[axis] != 1 {
            let outer = currentShape[..<axis].reduce(1, *)
            let inner = currentShape[(axis + 1)...].reduce(1, *)
            var next = [Float](repeating: 0, count: outer * inner)
            current.withUnsafeBufferPointer { src in
                next.withUnsafeMutableBufferPointer { dst in
                    Reduce.sum(src.baseAddress!, outer: outer, n: currentShape[axis], inner: inner, out: dst.baseAddress!)
                }
            }
            current = next
            currentShape[axis] = 1
        }
        return current
    }
}
