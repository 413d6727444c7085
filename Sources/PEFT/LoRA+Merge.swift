// LoRA+Merge.swift — folding an adapter into its base weight and taking it out again; PiSSA's init.
//
// Teaches: why LoRA costs nothing at inference. W' = W + s·B·A is an ordinary weight of the same shape;
// after merging, the layer runs one matmul as before. Unmerging subtracts the same product, restoring W
// up to float rounding (~1e-7 relative). DoRA's merge also applies the magnitude rescaling, so its
// unmerge restores a saved copy of W instead.
// Leaves out: merging several adapters with weights (see the Merging module).
import Foundation
import Kernels
import Autodiff
import NN

extension LoRALayer {
    /// W + s·B·A as plain values (no graph).   weight: [out, in], a: [r, in], b: [out, r]
    static func adaptedWeight(_ weight: Tensor, a: Tensor, b: Tensor, scaling: Float) -> [Float] {
        var result = weight.values
        let (out, inFeatures, rank) = (weight.shape[0], weight.shape[1], a.shape[0])
        result.withUnsafeMutableBufferPointer { w in
            GEMM.multiply(transA: .none, transB: .none, m: out, n: inFeatures, k: rank, alpha: scaling,
                          a: b.data, lda: rank, b: a.data, ldb: inFeatures, beta: 1, c: w.baseAddress!, ldc: inFeatures)
        }
        return result
    }

    /// Folds adapter `name` into `layer.weight` (it then no longer runs as a branch).
    public func merge(_ name: String, layer: Linear) {
        guard let w = weights(name), !w.merged else { return }
        require(layer.packedWeight == nil, "LoRA.merge: layer's base weight is packed (quantized); dequantize it before merging \(name)")
        Tensor.withNoGrad {
            // W + s·B·A — by the library's GEMM, or by a substitute (the workbook's task 8.3; LoRAArithmetic.swift).
            var adapted = LoRAArithmetic.current.merge.map {
                $0(layer.weight.values, w.a.values, w.b.values, layer.inFeatures, layer.outFeatures, w.config.rank, w.config.scaling)
            } ?? LoRALayer.adaptedWeight(layer.weight, a: w.a, b: w.b, scaling: w.config.scaling)
            require(adapted.count == layer.weight.count, "LoRAArithmetic.merge returned \(adapted.count) values for a weight of shape \(layer.weight.shape)")
            if let magnitude = w.magnitude {
                // DoRA: rescale each row to its learned magnitude; keep W to restore it on unmerge.
                savedWeights[name] = layer.weight.values
                let norms = LoRALayer.norms(of: adapted, columns: layer.inFeatures)
                for r in 0..<layer.outFeatures {
                    for c in 0..<layer.inFeatures { adapted[r * layer.inFeatures + c] *= magnitude.data[r] / norms[r] }
                }
            }
            adapted.withUnsafeBufferPointer { layer.weight.data.update(from: $0.baseAddress!, count: adapted.count) }
        }
        w.merged = true
    }

    /// Takes adapter `name` back out of `layer.weight`.
    public func unmerge(_ name: String, layer: Linear) {
        guard let w = weights(name), w.merged else { return }
        if let saved = savedWeights.removeValue(forKey: name) {
            saved.withUnsafeBufferPointer { layer.weight.data.update(from: $0.baseAddress!, count: saved.count) }
        } else {
            let (out, inFeatures, rank) = (layer.outFeatures, layer.inFeatures, w.config.rank)
            GEMM.multiply(transA: .none, transB: .none, m: out, n: inFeatures, k: rank, alpha: -w.config.scaling,
                          a: w.b.data, lda: rank, b: w.a.data, ldb: inFeatures, beta: 1, c: layer.weight.data, ldc: inFeatures)
        }
        w.merged = false
    }

    /// Row norms of a flat [rows, columns] matrix.
    static func norms(of values: [Float], columns: Int) -> [Float] {
        stride(from: 0, to: values.count, by: columns).map { start in
            values[start..<(start + columns)].reduce(Float(0)) { $0 + $1 * $1 }.squareRoot()
        }
    }

    /// PiSSA: A = √S_r·V_rᵀ, B = U_r·√S_r from W's top-r singular triplets, scaled so s·B·A equals the
    /// principal part, which is subtracted from W (the layer's output is unchanged at step 0).
    static func pissa(layer: Linear, rank: Int, scaling: Float) -> (a: Tensor, b: Tensor) {
        let (out, inFeatures) = (layer.outFeatures, layer.inFeatures)
        let svd = SVD.decompose(layer.weight.values.map(Double.init), rows: out, columns: inFeatures)
        let a = Tensor(zeros: [rank, inFeatures]), b = Tensor(zeros: [out, rank])
        for k in 0..<min(rank, svd.singularValues.count) {
            let root = (svd.singularValues[k] / Double(scaling)).squareRoot()
            for c in 0..<inFeatures { a.data[k * inFeatures + c] = Float(root * svd.v[c * svd.rank + k]) }
            for r in 0..<out { b.data[r * rank + k] = Float(root * svd.u[r * svd.rank + k]) }
        }
        // W ← W − s·B·A.
        GEMM.multiply(transA: .none, transB: .none, m: out, n: inFeatures, k: rank, alpha: -scaling,
                      a: b.data, lda: rank, b: a.data, ldb: inFeatures, beta: 1, c: layer.weight.data, ldc: inFeatures)
        return (a, b)
    }
}
