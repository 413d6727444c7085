// Ops+Softmax.swift — softmax, log-softmax and the cross-entropy loss of language modelling.
//
// Teaches: cross-entropy as −log p(target), computed from log-softmax for stability, with two
// fine-tuning knobs: an ignore index (padding contributes nothing) and per-token weights (a prompt
// token can count 0, a response token 1). Its gradient is the famous (softmax − one-hot)·weight/N.
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
        let out = Tensor(zeros: shape)
        Softmax.forward(data, out.data, rows: rows, cols: cols)
        return Tensor.record(.softmax, out, inputs: [self]) { out in
            Softmax.backward(y: out.data, dy: out.grad!.data, dx: self.gradientBuffer(), rows: rows, cols: cols)
        }
    }

    /// x − log Σ exp(x) along the last axis.
    public func logSoftmax() -> Tensor {
        let (rows, cols) = lastAxisRows
        let out = Tensor(zeros: shape)
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
        // log-probabilities, kept for backward (their exp is the softmax).
        // (A tensor, not an array, so the memory meter sees this [N, V] buffer: it is as large as the logits.)
        let logProbabilitiesTensor = Tensor(zeros: [n, vocabulary])
        Softmax.logForward(logits.data, logProbabilitiesTensor.data, rows: n, cols: vocabulary)
        let logProbabilities = logProbabilitiesTensor.data
        var loss: Double = 0
        for i in 0..<n where rowWeights[i] != 0 {
            loss -= Double(rowWeights[i]) * Double(logProbabilities[i * vocabulary + Int(targets[i])])
        }
        let out = Tensor(scalar: Float(loss) * scale)
        return record(.crossEntropy, out, inputs: [logits]) { out in
            // ∂loss/∂logitsᵢ = wᵢ·(softmaxᵢ − onehot(targetᵢ)) / normalizer, times the upstream gradient.
            let g = logits.gradientBuffer(), upstream = out.grad!.data[0]
            let logProbabilities = logProbabilitiesTensor.data
            for i in 0..<n where rowWeights[i] != 0 {
                let factor = upstream * rowWeights[i] * scale
                let row = g + i * vocabulary
                for v in 0..<vocabulary { row[v] += factor * FastMath.exp(logProbabilities[i * vocabulary + v]) }
                row[Int(targets[i])] -= factor
            }
        }
    }
}
