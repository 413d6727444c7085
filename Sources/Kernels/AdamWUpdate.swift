// AdamWUpdate.swift — the AdamW parameter update as one vectorised, threaded pass over the buffers.
//
// Teaches: that an optimizer step is a memory-bound loop (read θ, g, m, v; write θ, m, v: 28 bytes per
// parameter), so what matters is touching each buffer once, with SIMD square roots (this needs
// `-fno-math-errno`, see Package.swift) and all cores. The math and its derivation live with the
// optimizer (Sources/Optim/AdamW.swift); this is only the loop.
// Leaves out: multi-tensor fusion across parameters, 8-bit states (Quantization module).

/// The elementwise AdamW update (caseless namespace).
public enum AdamWUpdate {
    /// Elements per block handed to a thread.
    static let blockSize = 16_384

    /// For every i: m ← β₁m + (1−β₁)g; v ← β₂v + (1−β₂)g²; θ ← θ·decay − stepSize·m / (√v / rootCorrection2 + ε).
    ///   theta, m, v: [count] updated in place; g: [count]
    public static func step(theta: UnsafeMutablePointer<Float>, gradient g: UnsafePointer<Float>,
                            m: UnsafeMutablePointer<Float>, v: UnsafeMutablePointer<Float>, count: Int,
                            beta1 b1: Float, beta2 b2: Float, epsilon eps: Float, stepSize: Float,
                            rootCorrection2: Float, decay: Float) {
        Parallelism.forEachBlock(count: count, blockSize: blockSize, workPerItem: 12) { block in
            for i in block {
                m[i] = b1 * m[i] + (1 - b1) * g[i]
                v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i]
                theta[i] = theta[i] * decay - stepSize * m[i] / (v[i].squareRoot() / rootCorrection2 + eps)
            }
        }
    }
}
