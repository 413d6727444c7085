// Ops+RoPE.swift — rotary position embeddings (RoPE), with the angle table computed once per forward.
//
// Teaches: RoPE rotates each pair of features (i, i + D/2) of a query or key by an angle proportional
// to its position t: angle = t·θ^(−2i/D). A query at position m and a key at position n then meet
// through a rotation by (m − n) only, so attention scores depend on relative position.
// The rotation needs cos and sin of every (position, frequency) angle. They depend only on θ, D and the
// positions — not on the layer, the head or whether the tensor is a query or a key — so a forward pass
// computes one `RoPETable` and every layer's queries and keys read it. (Computing them inside each
// call cost 60 tables of 4,096 sines and cosines per SmolLM2 prefill: 7 ms of a 230 ms prefill.)
// Leaves out: scaled RoPE variants for long contexts (NTK, YaRN, Llama-3's frequency bands).
import Foundation
import Kernels

/// cos and sin of the RoPE angles (t·θ^(−2i/D)) for positions `positions` and i in 0..<D/2, as Float,
/// computed in Double and rounded to Float. Immutable, so one table is shared by every layer and thread.
public final class RoPETable: Sendable {
    /// Positions covered (absolute: the first cached position of a generation step, and on).
    public let positions: Range<Int>
    /// Feature width D of one head (pairs: D/2).
    public let width: Int
    /// cos and sin, [positions.count, D/2] row-major.
    let cosines: [Float], sines: [Float]

    /// The table for `positions` of heads of width `width` (even) with base `theta`.
    public init(theta: Float, width: Int, positions: Range<Int>) {
        require(width % 2 == 0, "RoPETable: head width \(width) is odd")
        let half = width / 2
        // The inverse frequencies θ^(−2i/D), one per pair (the same expression as before, hoisted).
        let frequencies = (0..<half).map { Foundation.pow(Double(theta), -2 * Double($0) / Double(width)) }
        var cosines = [Float](repeating: 0, count: positions.count * half), sines = cosines
        for (row, t) in positions.enumerated() {
            for i in 0..<half {
                let angle = Double(t) * frequencies[i]
                cosines[row * half + i] = Float(Foundation.cos(angle))
                sines[row * half + i] = Float(Foundation.sin(angle))
            }
        }
        (self.positions, self.width, self.cosines, self.sines) = (positions, width, cosines, sines)
    }
}

extension Tensor {
    /// Rotary position embedding on x [..., T, D] (D even), in Hugging Face's "rotate half" layout:
    /// feature i < D/2 is paired with i + D/2 and the pair is rotated by angle (t + offset)·θ^(−2i/D).
    /// out = x·cos + rotateHalf(x)·sin, rotateHalf(x) = [−x₂, x₁].
    public func rope(theta: Float = 10_000, positionOffset: Int = 0) -> Tensor {
        require(rank >= 2, "rope: needs [..., T, D], got \(shape)")
        let steps = shape[rank - 2]
        return rope(RoPETable(theta: theta, width: shape[rank - 1], positions: positionOffset..<positionOffset + steps),
                    positionOffset: positionOffset)
    }

    /// The same rotation with a precomputed `table`, which must cover positions offset..<offset + T for
    /// heads of this width (one table serves every layer's queries and keys).
    public func rope(_ table: RoPETable, positionOffset: Int = 0) -> Tensor {
        require(rank >= 2 && shape[rank - 1] == table.width,
                "rope: needs [..., T, \(table.width)] for this table, got \(shape)")
        let (steps, width) = (shape[rank - 2], shape[rank - 1])
        require(table.positions.lowerBound <= positionOffset && positionOffset + steps <= table.positions.upperBound,
                "rope: positions \(positionOffset)..<\(positionOffset + steps) are not all in the table's \(table.positions)")
        let half = width / 2, first = positionOffset - table.positions.lowerBound
        let (cosines, sines) = (table.cosines, table.sines)
        let rows = count / width
        let out = Tensor(uninitialized: shape)
        for r in 0..<rows {
            let t = first + r % steps, x = data + r * width, y = out.data + r * width
            for i in 0..<half {
                let (c, s) = (cosines[t * half + i], sines[t * half + i])
                y[i] = x[i] * c - x[i + half] * s
                y[i + half] = x[i + half] * c + x[i] * s
            }
        }
        return Tensor.record(.rope, out, inputs: [self]) { out in
            // The rotation is orthogonal: its backward is the rotation by −angle.
            let g = self.gradientBuffer(), dOut = out.grad!.data
            for r in 0..<rows {
                let t = first + r % steps, dy = dOut + r * width, dx = g + r * width
                for i in 0..<half {
                    let (c, s) = (cosines[t * half + i], sines[t * half + i])
                    dx[i] += dy[i] * c + dy[i + half] * s
                    dx[i + half] += dy[i + half] * c - dy[i] * s
                }
            }
        }
    }
}
