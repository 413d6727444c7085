// GPT+Prepack.swift — preparing a model for inference: each block's dense weights packed once.
//
// Teaches: the step an inference engine takes after loading and before serving. Generation never
// changes the weights, so the copy of W that the GEMM makes on every call (into its sliver order,
// transposing it for x·Wᵀ) can be made once instead — Kernels/GEMM+Prepacked.swift explains the layout
// and what it saves. The packed copy takes the dense weight's place (`Linear.packedWeight`, as a
// quantized base does), so memory stays the same; the layers are inference-only afterwards. LoRA and
// other adapters keep working on top, through the layer's low-rank hook.
// Leaves out: the embeddings and the LM head (a lookup, and a single-row product at decode time that
// streams the weight as stored), and undoing the packing (reload the model to train it).
import Foundation
import Kernels
import Autodiff

extension PrepackedWeight: PackedLinearWeight {
    /// y = x·Wᵀ + b (+ s·(x·Aᵀ)·Bᵀ) from the prepacked slivers.   x: [rows, in] → [rows, out]
    public func linear(_ x: Tensor, bias: Tensor?, a: Tensor?, b: Tensor?, scaling: Float) -> Tensor {
        Tensor.prepackedLinear(x, weight: self, bias: bias, a: a, b: b, scaling: scaling)
    }
}

extension GPT {
    /// Packs the dense weight of every linear layer in the blocks once (see the file header) and frees
    /// the dense copies. Layers already packed (quantized), and layers whose adapter reads the dense
    /// weight (DoRA), are left as they are. Returns the number of layers packed. The model is inference-only afterwards: forward passes must run without gradients.
    @discardableResult
    public func prepackForInference() -> Int {
        var packed = 0
        for block in blocks {
            for (_, module) in block.namedModules() {
                guard let layer = module as? Linear, layer.packedWeight == nil, layer.weight.count > 0,
                      layer.adapter?.needsDenseWeight != true else { continue }
                layer.packedWeight = PrepackedWeight(layer.weight.data, rows: layer.outFeatures, columns: layer.inFeatures)
                // The dense [out, in] floats are released; an empty, frozen placeholder stays.
                layer.weight = makeParameter(Tensor(zeros: [0]), trainable: false)
                packed += 1
            }
        }
        return packed
    }
}
