// Ops+FakeQuantize.swift — rounding to an integer grid inside the graph, with a straight-through gradient.
//
// Teaches: how quantization-aware training (QAT) differentiates through rounding. Forward, each value
// is snapped to its group's grid: q = clamp(round(x / s), qmin, qmax), y = q·s — the network sees
// exactly the error int-k storage will cause. The true derivative of round() is zero almost
// everywhere, which would stop learning; the straight-through estimator (STE, Bengio et al. 2013)
// pretends the rounding is the identity: ∂y/∂x = 1 where x/s lies inside [qmin, qmax], and 0 where
// the clamp is active (those values really cannot move the output).
// Leaves out: learned scales (LSQ), zero points, stochastic rounding.
import Foundation
import Kernels

extension Tensor {
    /// Fake-quantizes `x` in groups of `groupSize` consecutive values (row-major), group i with scale
    /// `scales[i]`: y = clamp(round(x/s), qmin, qmax)·s, rounding half to even. Backward: straight-through
    /// inside the clamp range, zero outside. The scales are constants (no gradient).
    public static func fakeQuantize(_ x: Tensor, scales: [Float], groupSize: Int, qmin: Int, qmax: Int) -> Tensor {
        require(groupSize > 0 && x.count == scales.count * groupSize && qmin < qmax,
                "fakeQuantize: \(x.count) values, \(scales.count) scales × group \(groupSize), range [\(qmin), \(qmax)]")
        let y = Tensor(zeros: x.shape)
        // One byte per value remembers whether the clamp was inactive (the STE's mask).
        var passes = [Bool](repeating: false, count: x.count)
        let (low, high) = (Float(qmin), Float(qmax))
        for group in 0..<scales.count {
            let scale = scales[group]
            let inverse: Float = scale > 0 ? 1 / scale : 0
            for i in group * groupSize ..< (group + 1) * groupSize {
                let scaled = x.data[i] * inverse
                let q = Swift.min(Swift.max(scaled.rounded(.toNearestOrEven), low), high)
                y.data[i] = q * scale
                passes[i] = scaled >= low && scaled <= high
            }
        }
        return record(.fakeQuantize, y, inputs: [x]) { y in
            let g = y.grad!.data, dx = x.gradientBuffer()
            // Straight through where the value was inside the grid's range.
            for i in 0..<x.count where passes[i] { dx[i] += g[i] }
        }
    }
}
