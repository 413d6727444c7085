// GPT+Loss.swift — the one evaluation everyone needs: weighted mean next-token loss over batches.
import Autodiff
import NN

extension GPT {
    /// Mean cross-entropy per weighted target over `batches`, without gradients or dropout
    /// (each batch's mean is weighted by its total target weight).
    public func meanLoss(on batches: [some LanguageModelBatch]) -> Float {
        Tensor.withNoGrad {
            var total: Double = 0, weight: Double = 0
            for batch in batches {
                let logits = self(batch.inputs, batch: batch.batchSize, steps: batch.contextLength)
                let w = Double(batch.weights.reduce(0, +))
                total += Double(Tensor.crossEntropy(logits, targets: batch.targets, weights: batch.weights).item) * w
                weight += w
            }
            return weight == 0 ? 0 : Float(total / weight)
        }
    }
}
