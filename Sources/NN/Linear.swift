// Linear.swift — y = x·Wᵀ + b, and the embedding table.
//
// Teaches: the layer where almost every parameter of a transformer lives, stored as W [out, in]
// (PyTorch's layout). A Linear has two extension points. `adapter`: a fine-tuning method (LoRA,
// DoRA, IA3 …) can take over the layer's forward pass without the model knowing — this is how PEFT
// "replaces" layers by name. `packedWeight`: W itself can be stored in another form (Quantization's
// NF4 weight, for QLoRA), which then computes the layer's products; adapters on top do not need to know.
// A checkpoint loader builds layers with `WeightInitialization.deferred` set: their weights start as
// empty placeholders it then replaces, so loading a model never first allocates a random copy of it.
// Leaves out: fused bias-activation kernels.
import Kernels
import Autodiff

/// Whether new `Linear` and `Embedding` layers draw random weights (the default) or start with an
/// empty placeholder weight (shape [0]) that a checkpoint loader replaces before the model is used.
public enum WeightInitialization {
    /// Set (with `$deferred.withValue(true) { … }`) around a model's construction by a loader.
    @TaskLocal public static var deferred = false

    /// A new layer's weight: N(0, std²) of `shape`, or the empty placeholder when deferred.
    static func weight(_ shape: [Int], std: Float, rng: inout RNG) -> Tensor {
        makeParameter(deferred ? Tensor(zeros: [0]) : Tensor.randomNormal(shape, std: std, rng: &rng))
    }
}

/// Something that takes over a Linear layer's forward pass (defined by PEFT methods above NN).
public protocol LinearAdapter: AnyObject {
    /// The layer's output for input x [..., in]; may call `layer.baseForward(x)`.
    func forward(_ x: Tensor, layer: Linear) -> Tensor
    /// The adapter's own parameters with local names (they appear under the layer's path).
    var adapterParameters: [(name: String, tensor: Tensor)] { get }
    /// Whether the adapter reads the layer's dense `weight` itself (DoRA's row norms do), so the weight
    /// must not be replaced by a packed form (`GPT.prepackForInference` leaves such layers dense).
    var needsDenseWeight: Bool { get }
}

extension LinearAdapter {
    /// Most adapters only call the layer's forward hooks: false.
    public var needsDenseWeight: Bool { false }
}

/// A weight stored in a form other than a dense fp32 tensor (e.g. packed 4-bit codes, defined above NN):
/// it computes the layer's product itself and gets no gradient.
public protocol PackedLinearWeight: AnyObject {
    /// y = x·Ŵᵀ + b, plus s·(x·Aᵀ)·Bᵀ when A [r, in] and B [out, r] are given (one fused op).
    /// x: [rows, in] → [rows, out]
    func linear(_ x: Tensor, bias: Tensor?, a: Tensor?, b: Tensor?, scaling: Float) -> Tensor
}

/// A fully connected layer: x [..., in] → x·Wᵀ + b [..., out].
public final class Linear: Module {
    /// W [out, in].
    public var weight: Tensor
    /// b [out], or nil.
    public var bias: Tensor?
    /// When set, computes the forward pass instead of the plain x·Wᵀ + b.
    public var adapter: LinearAdapter?
    /// When set, W is stored here (packed) and `weight` is an empty frozen placeholder.
    public var packedWeight: PackedLinearWeight?
    /// Input features.
    public let inFeatures: Int
    /// Output features.
    public let outFeatures: Int

    /// W ~ N(0, std²) (GPT-2's init uses std 0.02; a placeholder under `WeightInitialization.deferred`), b = 0.
    public init(_ inFeatures: Int, _ outFeatures: Int, bias: Bool = true, std: Float = 0.02, rng: inout RNG) {
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        weight = WeightInitialization.weight([outFeatures, inFeatures], std: std, rng: &rng)
        self.bias = bias ? makeParameter(Tensor(zeros: [outFeatures])) : nil
    }

    public var localParameters: [(name: String, tensor: Tensor)] {
        [("weight", weight)] + (bias.map { [("bias", $0)] } ?? []) + (adapter?.adapterParameters ?? [])
    }
    public var children: [(name: String, module: any Module)] { [] }

    /// The layer's output, through the adapter if one is installed.   x: [..., in] → [..., out]
    public func callAsFunction(_ x: Tensor) -> Tensor {
        if let adapter { return adapter.forward(x, layer: self) }
        return baseForward(x)
    }

    /// x·Wᵀ + b with the layer's own weights (dense or packed), ignoring any adapter.
    public func baseForward(_ x: Tensor) -> Tensor {
        if let packedWeight { return packedWeight.linear(x, bias: bias, a: nil, b: nil, scaling: 1) }
        return forward(x, weight: weight)
    }

    /// x·Wᵀ + b + s·(x·Aᵀ)·Bᵀ as one fused op (see Ops+LowRank.swift), with W dense or packed.
    /// a: [r, in], b: [out, r]
    public func lowRankForward(_ x: Tensor, a: Tensor, b: Tensor, scaling: Float) -> Tensor {
        if let packedWeight { return packedWeight.linear(x, bias: bias, a: a, b: b, scaling: scaling) }
        return Tensor.lowRankLinear(x, weight: weight, bias: bias, a: a, b: b, scaling: scaling)
    }

    /// x·Wᵀ + b with a stand-in for W (same shape [out, in]; e.g. a fake-quantized copy) and the layer's bias.
    public func forward(_ x: Tensor, weight: Tensor) -> Tensor {
        require(x.shape.last == inFeatures && weight.shape == [outFeatures, inFeatures],
                "Linear(\(inFeatures)→\(outFeatures)): input shape \(x.shape), weight \(weight.shape)")
        // A rank-1 input is a single row.
        let input = x.rank == 1 ? x.reshaped([1, inFeatures]) : x
        let y = Tensor.linear(input, weight: weight, bias: bias)
        return x.rank == 1 ? y.reshaped([outFeatures]) : y
    }
}

/// A lookup table of vectors: ids → rows of `weight` [count, width].
public final class Embedding: Module {
    /// The table [count, width].
    public var weight: Tensor

    /// Rows ~ N(0, std²) (a placeholder under `WeightInitialization.deferred`).
    public init(count: Int, width: Int, std: Float = 0.02, rng: inout RNG) {
        weight = WeightInitialization.weight([count, width], std: std, rng: &rng)
    }

    /// When set, rows are decoded from this packed [count, width] table instead of read from `weight`
    /// (which is then an empty placeholder). The table is frozen: no gradient reaches it.
    public var packedTable: DequantizingWeight?

    public var localParameters: [(name: String, tensor: Tensor)] { [("weight", weight)] }
    public var children: [(name: String, module: any Module)] { [] }

    /// Rows for `ids` laid out as `shape` → [shape..., width].
    public func callAsFunction(_ ids: [Int32], shape: [Int]) -> Tensor {
        guard let packedTable else { return Tensor.embedding(weight, ids: ids, idsShape: shape) }
        // A packed table decodes just the rows asked for.
        let width = packedTable.columns
        let out = Tensor(zeros: shape + [width])
        for (r, id) in ids.enumerated() {
            require(id >= 0 && Int(id) < packedTable.rows, "embedding: id \(id) out of range 0..<\(packedTable.rows)")
            packedTable.dequantizeRows(Int(id), count: 1, into: out.data + r * width)
        }
        return out
    }
}

extension Module {
    /// The weights the model computes with, counting a packed matrix (`Linear.packedWeight`,
    /// `Embedding.packedTable`) at its rows × columns once even when two layers share it, plus every fp32
    /// parameter. `parameterCount()` counts only the fp32 tensors, which leaves a packed base's out.
    public func computedParameterCount() -> Int {
        var packed = Set<ObjectIdentifier>()
        var total = parameterCount()
        for (_, module) in namedModules() {
            if let linear = module as? Linear, let weight = linear.packedWeight, packed.insert(ObjectIdentifier(weight)).inserted {
                total += linear.inFeatures * linear.outFeatures
            } else if let embedding = module as? Embedding, let table = embedding.packedTable,
                      packed.insert(ObjectIdentifier(table)).inserted {
                total += table.rows * table.columns
            }
        }
        return total
    }
}
