// LoRAArithmetic.swift — where the workbook plugs into LoRA: the forward pass and the merge.
//
// Teaches: an injection point. The library's LoRA layer computes W·x + s·B·(A·x) with one fused GEMM
// and merges with another; `LoRAArithmetic` lets a caller substitute plain per-row functions for those
// two computations — typically the learner's solutions of tasks 8.1 and 8.3 (see the WorkbookBridge
// module), so that `chapter08 --use-workbook` fine-tunes the model *through the learner's code*.
// The choice travels as a @TaskLocal value: it applies inside `LoRAArithmetic.$current.withValue(…)`
// and nowhere else, so tests and other tasks keep the library's kernels.
// With a substituted forward, the layer's *values* are the substitute's while its gradients are the
// library's: y = y_library + stopgrad(y_substitute − y_library). A wrong forward therefore shows up as a
// wrong model (wrong loss and answers), not as a crash.
// Leaves out: substituting the backward pass, DoRA, several active adapters and a quantized base
// (those keep the library's path).
import Kernels
import Autodiff
import NN

/// The arithmetic LoRA layers use; every field nil means the library's own kernels.
public struct LoRAArithmetic: Sendable {
    /// y = W·x + s·B·(A·x) for one input row: x [in], W [out, in], A [r, in], B [out, r], all row-major,
    /// without the bias. Must return `out` values.
    public typealias RowForward = @Sendable (_ x: [Float], _ w: [Float], _ a: [Float], _ b: [Float],
                                             _ inFeatures: Int, _ outFeatures: Int, _ rank: Int, _ scaling: Float) -> [Float]
    /// W + s·B·A as a row-major [out, in] matrix (same arguments as `RowForward` minus x).
    public typealias Merge = @Sendable (_ w: [Float], _ a: [Float], _ b: [Float],
                                        _ inFeatures: Int, _ outFeatures: Int, _ rank: Int, _ scaling: Float) -> [Float]

    /// The forward pass of a layer with one plain adapter active (nil: the fused library op).
    public var forward: RowForward?
    /// Folding an adapter into its weight (nil: the library's GEMM).
    public var merge: Merge?

    /// A substitution; nil fields keep the library's implementation.
    public init(forward: RowForward? = nil, merge: Merge? = nil) {
        self.forward = forward
        self.merge = merge
    }

    /// The library's own kernels.
    public static let library = LoRAArithmetic()

    /// The arithmetic in effect for the current task (the library's unless a caller scoped another).
    @TaskLocal public static var current = LoRAArithmetic.library
}

extension LoRALayer {
    /// `y` (the library's output for x [..., in]) with its values replaced by `forward`'s, row by row,
    /// and the library's gradient: y + stopgrad(substitute − y).
    func substituting(_ y: Tensor, x: Tensor, layer: Linear, weights w: LoRAWeights, forward: LoRAArithmetic.RowForward) -> Tensor {
        let (inFeatures, outFeatures, rank) = (layer.inFeatures, layer.outFeatures, w.config.rank)
        let (xs, weight, a, b) = (x.values, layer.weight.values, w.a.values, w.b.values)
        let bias = layer.bias?.values
        let library = y.values
        var correction = [Float](repeating: 0, count: library.count)
        for row in 0..<(xs.count / inFeatures) {
            let produced = forward(Array(xs[(row * inFeatures)..<((row + 1) * inFeatures)]), weight, a, b, inFeatures, outFeatures, rank,
                                   w.config.scaling)
            require(produced.count == outFeatures, "LoRAArithmetic.forward returned \(produced.count) values for a layer with \(outFeatures) outputs")
            for o in 0..<outFeatures {
                correction[row * outFeatures + o] = produced[o] + (bias?[o] ?? 0) - library[row * outFeatures + o]
            }
        }
        return y + Tensor(correction, shape: y.shape)
    }
}
