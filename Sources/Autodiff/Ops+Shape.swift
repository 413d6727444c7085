// Ops+Shape.swift — ops that move values without computing: reshape, permute, slice, concat, gather.
//
// Teaches: the backward of a data movement is the same movement in reverse — a reshape's gradient is
// reshaped back, a permutation's is inverse-permuted, a slice scatters into zeros, a concat splits,
// and a gather (embedding lookup) *adds* rows back, because one row can be picked many times.
// Leaves out: zero-copy views; every result here is a fresh contiguous buffer.
import Kernels

extension Tensor {
    /// The same values with a new shape of equal element count. One extent may be −1 (inferred).
    public func reshaped(_ newShape: [Int]) -> Tensor {
        var resolved = newShape
        if let hole = newShape.firstIndex(of: -1) {
            let known = newShape.enumerated().filter { $0.offset != hole }.map(\.element).reduce(1, *)
            require(known > 0 && count % known == 0, "reshape: cannot infer −1 in \(newShape) for shape \(shape)")
            resolved[hole] = count / known
        }
        require(resolved.reduce(1, *) == count, "reshape: shape \(shape) cannot become \(newShape)")
        let out = Tensor(uninitialized: resolved)
        StridedCopy.copy(data, into: out.data, count: count)
        return Tensor.record(.reshape, out, inputs: [self]) { out in
            StridedCopy.accumulate(out.grad!.data, into: self.gradientBuffer(), count: self.count)
        }
    }

    /// Axes reordered: result axis i is input axis `order[i]`.
    public func permuted(_ order: [Int]) -> Tensor {
        require(order.sorted() == Array(0..<rank), "permute: \(order) is not a permutation of the axes of \(shape)")
        let outShape = order.map { shape[$0] }
        let inStrides = Shapes.strides(shape)
        let out = Tensor(uninitialized: outShape)
        // Read the input through permuted strides; the odometer copy does the movement.
        Tensor.copyStrided(from: data, strides: order.map { inStrides[$0] }, to: out.data, shape: outShape)
        return Tensor.record(.permute, out, inputs: [self]) { out in
            // The inverse movement: output position i came from input position given by `order`.
            // Added straight into the input's gradient (no temporary).
            let inverse = (0..<order.count).map { order.firstIndex(of: $0)! }
            let outStrides = Shapes.strides(outShape)
            StridedCopy.gather(from: out.grad!.data, strides: inverse.map { outStrides[$0] }, shape: self.shape,
                               into: self.gradientBuffer(), accumulate: true)
        }
    }

    /// Swaps two axes (negative axes count from the end).
    public func transposed(_ axis0: Int = -2, _ axis1: Int = -1) -> Tensor {
        let a = Shapes.axis(axis0, rank: rank, op: "transpose"), b = Shapes.axis(axis1, rank: rank, op: "transpose")
        var order = Array(0..<rank)
        order.swapAt(a, b)
        let result = permuted(order)
        result.node = result.node.map { Node(op: .transpose, inputs: $0.inputs, backward: $0.backward) }
        return result
    }

    /// Copies `shape`-many elements read at `strides` from `source` into contiguous `destination`.
    static func copyStrided(from source: UnsafePointer<Float>, strides: [Int], to destination: UnsafeMutablePointer<Float>,
                            shape: [Int]) {
        StridedCopy.gather(from: source, strides: strides, shape: shape, into: destination)
    }

    /// Elements `range` along `axis` (other axes whole).
    public func slice(axis: Int, _ range: Range<Int>) -> Tensor {
        let ax = Shapes.axis(axis, rank: rank, op: "slice")
        require(range.lowerBound >= 0 && range.upperBound <= shape[ax],
                     "slice: range \(range) out of bounds for axis \(ax) of shape \(shape)")
        let outer = shape[..<ax].reduce(1, *), inner = shape[(ax + 1)...].reduce(1, *)
        var outShape = shape
        outShape[ax] = range.count
        let out = Tensor(uninitialized: outShape)
        let width = range.count * inner, stride = shape[ax] * inner, start = range.lowerBound * inner
        for o in 0..<outer { (out.data + o * width).update(from: data + o * stride + start, count: width) }
        return Tensor.record(.slice, out, inputs: [self]) { out in
            // Scatter the gradient into the sliced window; the rest of the input got no gradient.
            let g = self.gradientBuffer(), dOut = out.grad!.data
            for o in 0..<outer {
                for i in 0..<width { g[o * stride + start + i] += dOut[o * width + i] }
            }
        }
    }

    /// Joins tensors along `axis`; all other extents must match.
    public static func concat(_ tensors: [Tensor], axis: Int) -> Tensor {
        require(!tensors.isEmpty, "concat: no tensors")
        let first = tensors[0]
        let ax = Shapes.axis(axis, rank: first.rank, op: "concat")
        for t in tensors {
            var a = t.shape, b = first.shape
            require(a.count == b.count, "concat: shapes \(first.shape) and \(t.shape) differ in rank")
            a[ax] = 0; b[ax] = 0
            require(a == b, "concat: shapes \(first.shape) and \(t.shape) differ off axis \(ax)")
        }
        var outShape = first.shape
        outShape[ax] = tensors.map { $0.shape[ax] }.reduce(0, +)
        let outer = first.shape[..<ax].reduce(1, *), inner = first.shape[(ax + 1)...].reduce(1, *)
        let outWidth = outShape[ax] * inner
        let out = Tensor(uninitialized: outShape)
        var offset = 0
        for t in tensors {
            let width = t.shape[ax] * inner
            for o in 0..<outer { (out.data + o * outWidth + offset).update(from: t.data + o * width, count: width) }
            offset += width
        }
        return record(.concat, out, inputs: tensors) { out in
            // Each input takes back its own band of columns.
            let dOut = out.grad!.data
            var offset = 0
            for t in tensors {
                let width = t.shape[ax] * inner
                if t.requiresGrad {
                    let g = t.gradientBuffer()
                    for o in 0..<outer {
                        for i in 0..<width { g[o * width + i] += dOut[o * outWidth + offset + i] }
                    }
                }
                offset += width
            }
        }
    }

    /// Stacks equal-shaped tensors along a new axis.
    public static func stack(_ tensors: [Tensor], axis: Int = 0) -> Tensor {
        require(!tensors.isEmpty, "stack: no tensors")
        let shape = tensors[0].shape
        require(tensors.allSatisfy { $0.shape == shape }, "stack: shapes differ: \(tensors.map(\.shape))")
        let ax = Shapes.axis(axis, rank: shape.count + 1, op: "stack")
        var expanded = shape
        expanded.insert(1, at: ax)
        // Stacking = give each a unit axis, then concatenate along it; recorded as one `stack` node.
        let joined = withNoGrad { concat(tensors.map { $0.reshaped(expanded) }, axis: ax) }
        return record(.stack, joined, inputs: tensors) { out in
            let dOut = out.grad!.data
            let outer = shape[..<ax].reduce(1, *), inner = shape[ax...].reduce(1, *)
            for (j, t) in tensors.enumerated() where t.requiresGrad {
                let g = t.gradientBuffer()
                for o in 0..<outer {
                    for i in 0..<inner { g[o * inner + i] += dOut[(o * tensors.count + j) * inner + i] }
                }
            }
        }
    }

    /// Rows `indices` of the first axis, in order (repeats allowed): result [indices.count, rest...].
    public func indexSelect(_ indices: [Int]) -> Tensor {
        require(rank >= 1, "indexSelect: needs rank ≥ 1, got \(shape)")
        let rowWidth = count / Swift.max(shape[0], 1)
        for i in indices { require(i >= 0 && i < shape[0], "indexSelect: index \(i) out of range for shape \(shape)") }
        let out = Tensor(zeros: [indices.count] + shape.dropFirst())
        for (r, i) in indices.enumerated() { (out.data + r * rowWidth).update(from: data + i * rowWidth, count: rowWidth) }
        return Tensor.record(.indexSelect, out, inputs: [self]) { out in
            let g = self.gradientBuffer(), dOut = out.grad!.data
            for (r, i) in indices.enumerated() {
                for c in 0..<rowWidth { g[i * rowWidth + c] += dOut[r * rowWidth + c] }
            }
        }
    }

    /// Embedding lookup: `table` [V, C] gathered at `ids` (any shape, values in 0..<V) → [ids shape..., C].
    /// Backward scatter-adds each output row's gradient into the table row it came from.
    public static func embedding(_ table: Tensor, ids: [Int32], idsShape: [Int]) -> Tensor {
        require(table.rank == 2, "embedding: table must be [V, C], got \(table.shape)")
        require(ids.count == idsShape.reduce(1, *), "embedding: \(ids.count) ids do not fill shape \(idsShape)")
        let (vocabulary, width) = (table.shape[0], table.shape[1])
        let out = Tensor(zeros: idsShape + [width])
        for (r, id) in ids.enumerated() {
            require(id >= 0 && Int(id) < vocabulary, "embedding: id \(id) out of range 0..<\(vocabulary)")
            (out.data + r * width).update(from: table.data + Int(id) * width, count: width)
        }
        return record(.embedding, out, inputs: [table]) { out in
            let g = table.gradientBuffer(), dOut = out.grad!.data
            for (r, id) in ids.enumerated() {
                let row = g + Int(id) * width, dRow = dOut + r * width
                for c in 0..<width { row[c] += dRow[c] }
            }
        }
    }
}
