// Ops+Reduce.swift — sum, mean and max over axes.
//
// Teaches: a sum's backward broadcasts the gradient back over the summed axes (every summand
// contributed with slope 1); a mean's divides by the count; a max's routes the gradient only to the
// element that won (the first one, on ties).
// Leaves out: min, product, variance as ops (compose them).
import Kernels

extension Tensor {
    /// Σ over `axes` (all axes when nil). `keepDims` keeps reduced axes as extent 1.
    public func sum(axes: [Int]? = nil, keepDims: Bool = false) -> Tensor {
        reduceSum(.sum, axes: axes, keepDims: keepDims, scale: 1)
    }

    /// Mean over `axes` (all axes when nil).
    public func mean(axes: [Int]? = nil, keepDims: Bool = false) -> Tensor {
        let reduced = (axes ?? Array(0..<rank)).map { shape[Shapes.axis($0, rank: rank, op: "mean")] }.reduce(1, *)
        return reduceSum(.mean, axes: axes, keepDims: keepDims, scale: 1 / Float(Swift.max(reduced, 1)))
    }

    /// The shared body of sum and mean: reduce axis by axis, then scale.
    private func reduceSum(_ op: Op, axes: [Int]?, keepDims: Bool, scale: Float) -> Tensor {
        let axisSet = Set((axes ?? Array(0..<rank)).map { Shapes.axis($0, rank: rank, op: op.rawValue) })
        let keptShape = shape.enumerated().map { axisSet.contains($0.offset) ? 1 : $0.element }
        let outShape = keepDims ? keptShape : shape.enumerated().filter { !axisSet.contains($0.offset) }.map(\.element)
        // Unbroadcasting to the kept shape *is* summing over the reduced axes.
        let summed = Shapes.unbroadcast(data, from: shape, to: keptShape)
        let out = Tensor(summed.map { $0 * scale }, shape: outShape)
        return Tensor.record(op, out, inputs: [self]) { out in
            // Broadcast the gradient back over the reduced axes, times the scale.
            let g = self.gradientBuffer(), dOut = out.grad!.data
            let strides = Shapes.broadcastStrides(keptShape, to: self.shape)
            let spread = [Float](unsafeUninitializedCapacity: self.count) { buffer, initialized in
                Tensor.copyStrided(from: dOut, strides: strides, to: buffer.baseAddress!, shape: self.shape)
                initialized = self.count
            }
            for i in 0..<self.count { g[i] += spread[i] * scale }
        }
    }

    /// Maximum along one axis (the winner takes the whole gradient; first index on ties).
    public func max(axis: Int, keepDims: Bool = false) -> Tensor {
        let ax = Shapes.axis(axis, rank: rank, op: "max")
        require(shape[ax] > 0, "max: empty axis \(ax) in shape \(shape)")
        let outer = shape[..<ax].reduce(1, *), n = shape[ax], inner = shape[(ax + 1)...].reduce(1, *)
        var outShape = shape
        if keepDims { outShape[ax] = 1 } else { outShape.remove(at: ax) }
        let out = Tensor(zeros: outShape)
        var winners = [Int32](repeating: 0, count: outer * inner)
        winners.withUnsafeMutableBufferPointer {
            Reduce.max(data, outer: outer, n: n, inner: inner, out: out.data, argmax: $0.baseAddress!)
        }
        return Tensor.record(.max, out, inputs: [self]) { out in
            let g = self.gradientBuffer(), dOut = out.grad!.data
            for o in 0..<outer {
                for i in 0..<inner { g[(o * n + Int(winners[o * inner + i])) * inner + i] += dOut[o * inner + i] }
            }
        }
    }
}
