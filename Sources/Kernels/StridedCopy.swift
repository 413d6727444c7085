// StridedCopy.swift — moving a tensor's elements into a new layout: permutes, transposes, and their
// gradients.
//
// Teaches: a permute is pure data movement, so its cost is memory traffic and the bookkeeping per
// element. Three things keep it near memcpy speed:
//  1. Merge axes that stay adjacent in the source (their strides chain: stride[i] = stride[i+1]·extent[i+1]);
//     [B, T, H, D] → [B, H, T, D] becomes a copy of D-long runs, with an index computation per run,
//     not per element.
//  2. The innermost run is a plain loop over contiguous memory when its source stride is 1, which
//     the compiler vectorises.
//  3. Runs are independent, so they are split over threads. Backward adds the moved gradient straight
//     into the input's gradient (`accumulate`), without a temporary copy.
// Leaves out: cache-blocked transposes of the two innermost axes (a stride-1 destination read at a
// large source stride); our layouts keep the innermost axis in place, so runs are contiguous.

/// Strided gathers into contiguous buffers.
public enum StridedCopy {
    /// destination[index] (=|+=) source[Σ index[a]·strides[a]] for every index of `shape`, with
    /// `destination` contiguous row-major of `shape`. Strides are in elements and may be 0 (broadcast).
    /// With `accumulate`, adds into `destination` instead of overwriting it.
    public static func gather(from source: UnsafePointer<Float>, strides: [Int], shape: [Int],
                              into destination: UnsafeMutablePointer<Float>, accumulate: Bool = false) {
        require(strides.count == shape.count, "StridedCopy.gather: strides \(strides) for shape \(shape)")
        let count = shape.reduce(1, *)
        if count == 0 { return }
        // 1. Merge adjacent axes whose source strides chain (extent-1 axes drop out).
        var extents: [Int] = [], steps: [Int] = []
        for (extent, step) in zip(shape, strides) where extent != 1 {
            if let last = extents.last, steps[steps.count - 1] == step &* extent {
                extents[extents.count - 1] = last &* extent
                steps[steps.count - 1] = step
            } else {
                extents.append(extent)
                steps.append(step)
            }
        }
        if extents.isEmpty { (extents, steps) = ([1], [0]) }
        // 2. The innermost merged axis is the run; the outer axes enumerate runs.
        let run = extents[extents.count - 1], runStride = steps[steps.count - 1]
        let outerExtents = Array(extents.dropLast()), outerSteps = Array(steps.dropLast())
        let runs = count / run
        Parallelism.forEachBlock(count: runs, blockSize: max(1, 16_384 / run), workPerItem: run) { block in
            for r in block {
                // Source offset of run r: its multi-index over the outer axes, innermost first.
                var rest = r, offset = 0
                for axis in stride(from: outerExtents.count - 1, through: 0, by: -1) {
                    let extent = outerExtents[axis]
                    offset &+= (rest % extent) &* outerSteps[axis]
                    rest /= extent
                }
                let from = source + offset, to = destination + r &* run
                switch (accumulate, runStride) {
                case (false, 1): to.update(from: from, count: run)
                case (true, 1): for j in 0..<run { to[j] += from[j] }
                case (false, _): for j in 0..<run { to[j] = from[j &* runStride] }
                case (true, _): for j in 0..<run { to[j] += from[j &* runStride] }
                }
            }
        }
    }

    /// destination[i] += source[i] for i in 0..<count (a gradient passed through unchanged), on threads.
    public static func accumulate(_ source: UnsafePointer<Float>, into destination: UnsafeMutablePointer<Float>, count: Int) {
        Parallelism.forEachBlock(count: count, blockSize: 16_384, workPerItem: 1) { block in
            let (from, to) = (source + block.lowerBound, destination + block.lowerBound)
            for j in 0..<block.count { to[j] += from[j] }
        }
    }

    /// destination[i] = source[i] for i in 0..<count, on threads.
    public static func copy(_ source: UnsafePointer<Float>, into destination: UnsafeMutablePointer<Float>, count: Int) {
        Parallelism.forEachBlock(count: count, blockSize: 65_536, workPerItem: 1) { block in
            (destination + block.lowerBound).update(from: source + block.lowerBound, count: block.count)
        }
    }
}
