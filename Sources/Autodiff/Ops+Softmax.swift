// Ops+Softmax.swift — softmax, log-softmax and the cross-entropy loss of language modelling.
//
// Teaches: cross-entropy as −log p(target), computed from log-softmax for stability, with two
// fine-tuning knobs: an ignore index (padding contributes nothing) and per-token weights (a prompt
// token can count 0, a response token 1). Its gradient is the famous (softmax − one-hot)·weight/N.
// The kernel (Kernels/Softmax.swift) fuses log-softmax into the loss: no [N, V] buffer is kept.
// Leaves out: label smoothing, z-loss.
import Foundation
import Kernels

extension Tensor {
    /// Rows of the last axis as [rows, cols].
    private var lastAxisRows: (rows: Int, cols: Int) {
        require(rank >= 1, "softmax: needs rank ≥ 1, got \(shape)")
        let cols = shape[rank - 1]
        return (cols == 0 ? 0 : count / cols, cols)
    }

    /// exp(x) / Σ exp(x) along the last axis.
    public func softmax() -> Tensor {
        let (rows, cols) = lastAxisRows
        let out = Tensor(uninitialized: shape)
        Softmax.forward(data, out.data, rows: rows, cols: cols)
        return Tensor.record(.softmax, out, inputs: [self]) { out in
            Softmax.backward(y: out.data, dy: out.grad!.data, dx: self.gradientBuffer(), rows: rows, cols: cols)
        }
    }

    /// x − log Σ exp(x) along the last axis.
    public func logSoftmax() -> Tensor {
        let (rows, cols) = lastAxisRows
        let out = Tensor(uninitialized: shape)
        Softmax.logForward(data, out.data, rows: rows, cols: cols)
        return Tensor.record(.logSoftmax, out, inputs: [self]) { out in
            Softmax.logBackward(y: out.data, dy: out.grad!.data, dx: self.gradientBuffer(), rows: rows, cols: cols)
        }
    }

    /// Weighted mean cross-entropy of `logits` [N, V] against `targets` [N].
    ///
    /// loss = Σᵢ wᵢ·(−log softmax(logitsᵢ)[targetᵢ]) / normalizer, over rows whose target ≠ `ignoreIndex`.
    /// `weights` default to 1; `normalizer` defaults to Σ wᵢ over counted rows (so the loss is a
    /// weighted mean; pass the large-batch total to make gradient accumulation exact). A zero
    /// normalizer gives loss 0 and zero gradients rather than NaN.
    public static func crossEntropy(_ logits: Tensor, targets: [Int32], weights: [Float]? = nil,
                                    ignoreIndex: Int32 = -1, normalizer: Float? = nil) -> Tensor {
        require(logits.rank == 2, "crossEntropy: logits must be [N, V], got \(logits.shape)")
        let (n, vocabulary) = (logits.shape[0], logits.shape[1])
        require(targets.count == n, "crossEntropy: \(targets.count) targets for logits \(logits.shape)")
        require(weights == nil || weights!.count == n, "crossEntropy: \(weights!.count) weights for \(n) rows")
        // Row weights: 0 for ignored rows.
        var rowWeights = [Float](repeating: 0, count: n)
        for i in 0..<n where targets[i] != ignoreIndex {
            require(targets[i] >= 0 && Int(targets[i]) < vocabulary,
                         "crossEntropy: target \(targets[i]) at row \(i) out of range 0..<\(vocabulary)")
            rowWeights[i] = weights?[i] ?? 1
        }
        let total = normalizer ?? rowWeights.reduce(0, +)
        let scale: Float = total == 0 ? 0 : 1 / total
        // Fused log-softmax + loss: one log-sum-exp per row is all backward needs (a tensor, so the
        // memory meter counts it); no [N, V] probability buffer beside the logits.
        let logSumExp = Tensor(zeros: [n])
        var losses = [Float](repeating: 0, count: n)
        targets.withUnsafeBufferPointer { targetIds in
            CrossEntropy.forward(logits: logits.data, targets: targetIds.baseAddress!, weights: rowWeights,
                                 logSumExp: logSumExp.data, losses: &losses, rows: n, cols: vocabulary)
        }
        var loss: Double = 0
        for i in 0..<n where rowWeights[i] != 0 { loss += Double(rowWeights[i]) * Double(losses[i]) }
        let out = Tensor(scalar: Float(loss) * scale)
        return record(.crossEntropy, out, inputs: [logits]) { out in
            // ∂loss/∂logitsᵢ = wᵢ·(softmaxᵢ − onehot(targetᵢ)) / normalizer, times the upstream gradient.
            let upstream = out.grad!.data[0]
            let factors = rowWeights.map { upstream * $0 * scale }
            targets.withUnsafeBufferPointer { targetIds in
                CrossEntropy.backward(logits: logits.data, targets: targetIds.baseAddress!, factors: factors,
                                      logSumExp: logSumExp.data, dlogits: logits.gradientBuffer(), rows: n, cols: vocabulary)
            }
        }
    }
}
