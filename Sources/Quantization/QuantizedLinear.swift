// QuantizedLinear.swift — a Linear layer whose frozen weight is stored in NF4.
//
// Teaches: where QLoRA's 4-bit base lives. NN's `Linear` can hold its weight packed
// (`Linear.packedWeight`); an `NF4Weight` placed there computes the layer's products through the
// dequantizing GEMM (Kernels/DequantizedGEMM.swift): the packed codes are decoded panel by panel inside
// the matrix product, never expanded to a full fp32 matrix, and the weight gets no gradient. The fp32
// buffer is released — the layer keeps an empty frozen placeholder — so the memory meter sees the packed
// bytes. Adapters (LoRA) sit on top through the layer's adapter hook and need not know the storage.
// Leaves out: other packed formats as layer weights (int8/int4 here are fake-quantized fp32, see QAT.swift).
import Autodiff
import NN

extension NF4Weight: PackedLinearWeight {
    /// y = x·Ŵᵀ + b (+ s·(x·Aᵀ)·Bᵀ), Ŵ decoded from NF4 inside the GEMM.   x: [rows, in] → [rows, out]
    public func linear(_ x: Tensor, bias: Tensor?, a: Tensor?, b: Tensor?, scaling: Float) -> Tensor {
        Tensor.quantizedLinear(x, weight: self, bias: bias, a: a, b: b, scaling: scaling)
    }
}

/// Packing a Linear layer's weight (caseless namespace).
public enum QuantizedLinear {
    /// Stores `weight` (NF4, a GGUF block matrix, …) as `layer`'s packed weight and frees the fp32 one
    /// (an empty frozen placeholder stays).
    public static func pack(_ layer: Linear, with weight: PackedLinearWeight) {
        layer.packedWeight = weight
        // The layer keeps an empty, frozen placeholder: its [out, in] floats are gone.
        layer.weight = makeParameter(Tensor(zeros: [0]), trainable: false)
    }

    /// The NF4 weight of `layer`, if its weight is packed in NF4.
    public static func nf4Weight(of layer: Linear) -> NF4Weight? { layer.packedWeight as? NF4Weight }
}
