// LoRA.swift — low-rank adaptation: W·x + (α/r)·B·A·x with W frozen.
//
// Teaches: the idea behind most of today's fine-tuning. Instead of changing a weight W [out, in], learn
// a low-rank update ΔW = B·A with A [r, in] and B [out, r], r ≪ min(in, out). A starts random, B at
// zero, so the model is unchanged at step 0; only A and B get gradients and optimizer state, r·(in + out)
// values instead of in·out. Variants here:
// - rsLoRA scales by α/√r instead of α/r (stable as r grows);
// - DoRA splits the weight into a magnitude m (one per output) and a direction:
//   W' = m ⊙ (W + s·BA) / ‖W + s·BA‖ (row norms), learning m and the low-rank direction update;
// - PiSSA initialises A, B from the top-r singular vectors of W (and removes them from W).
// Several named adapters can live on one layer; one, several or none are active; an adapter can be
// merged into W for zero-overhead inference and unmerged again.
// The frozen W may be dense or packed (`Linear.packedWeight`, e.g. NF4 for QLoRA): the fused path asks the
// layer for the product either way; DoRA and merging need the dense W.
// Leaves out: LoRA on embeddings and convolutions, LoRA+ learning rates.
import Foundation
import Kernels
import Autodiff
import NN

/// How to initialise A (B always starts at zero, except for PiSSA).
public enum LoRAInitialization: String, Codable, Sendable {
    /// A ~ U(−√(1/in)·√3… ) — Kaiming-uniform with a = √5, PyTorch's Linear default and PEFT's default.
    case kaimingUniform
    /// A ~ N(0, 1/r²), PEFT's "gaussian".
    case gaussian
    /// A, B from the top-r singular triplets of W; W keeps the residual.
    case pissa
}

/// The hyperparameters of one LoRA adapter.
public struct LoRAConfig: Codable, Sendable, Equatable {
    public var rank: Int
    public var alpha: Float
    public var dropout: Float
    /// α/√r instead of α/r.
    public var useRSLoRA: Bool
    /// Weight-decomposed LoRA.
    public var useDoRA: Bool
    public var initialization: LoRAInitialization
    /// Which Linear layers get an adapter: a layer matches when its path is one of these or ends with
    /// "." + one of them ("c_attn", "h.1.mlp.c_proj" — PEFT's rule for a list), or when the list is
    /// ["all-linear"] (every Linear except the output head).
    public var targets: [String]

    /// A config; PEFT's defaults for the rest (α = 2r… here α = 16, no dropout, Kaiming-uniform).
    public init(rank: Int, alpha: Float = 16, dropout: Float = 0, useRSLoRA: Bool = false, useDoRA: Bool = false,
                initialization: LoRAInitialization = .kaimingUniform, targets: [String] = ["all-linear"]) {
        self.rank = rank
        self.alpha = alpha
        self.dropout = dropout
        self.useRSLoRA = useRSLoRA
        self.useDoRA = useDoRA
        self.initialization = initialization
        self.targets = targets
    }

    /// s: the factor in front of B·A.
    public var scaling: Float { useRSLoRA ? alpha / Float(rank).squareRoot() : alpha / Float(rank) }

    /// Whether the Linear at `path` (e.g. "h.0.attn.c_attn") is targeted.
    public func targets(path: String) -> Bool {
        if path.hasSuffix("lm_head") { return false }
        if targets.contains("all-linear") { return true }
        return targets.contains { path == $0 || path.hasSuffix("." + $0) }
    }
}

/// One adapter's tensors on one layer.
public final class LoRAWeights {
    public let config: LoRAConfig
    /// A [r, in].
    public let a: Tensor
    /// B [out, r].
    public let b: Tensor
    /// DoRA's magnitude m [out] (nil without DoRA).
    public let magnitude: Tensor?
    /// Whether B·A has been added into the base weight.
    public internal(set) var merged = false

    init(config: LoRAConfig, a: Tensor, b: Tensor, magnitude: Tensor?) {
        self.config = config
        self.a = a
        self.b = b
        self.magnitude = magnitude
    }

    /// The tensors with PEFT's local names.
    var named: [(name: String, tensor: Tensor)] {
        [("lora_A.weight", a), ("lora_B.weight", b)] + (magnitude.map { [("lora_magnitude_vector", $0)] } ?? [])
    }

    /// Trainable parameters: r·(in + out) (+ out for DoRA).
    public var parameterCount: Int { a.count + b.count + (magnitude?.count ?? 0) }
}

/// The LoRA layer: a Linear's adapter that adds the active low-rank updates to the frozen base.
public final class LoRALayer: LinearAdapter {
    /// Adapters by name, in insertion order.
    public private(set) var adapters: [(name: String, weights: LoRAWeights)] = []
    /// Names of the adapters applied in `forward` (several are summed; empty = base model only).
    public var active: [String] = []
    /// Seeds the LoRA-branch dropout (advanced on every training forward).
    var dropoutRNG = RNG(seed: 0)
    /// DoRA: the base weight before a merge, restored by unmerge.
    var savedWeights: [String: [Float]] = [:]

    /// A layer with no adapters yet (add them with `LoRA.add`).
    public init() {}

    /// The adapter named `name`, if present.
    public func weights(_ name: String) -> LoRAWeights? { adapters.first { $0.name == name }?.weights }

    /// Adds an adapter for `layer` (initialised per `config`; PiSSA also rewrites the layer's weight).
    func add(_ name: String, config: LoRAConfig, layer: Linear, rng: inout RNG) {
        let (rank, inFeatures, outFeatures) = (config.rank, layer.inFeatures, layer.outFeatures)
        let a: Tensor, b: Tensor
        switch config.initialization {
        case .kaimingUniform:
            // kaiming_uniform_(a = √5) on [r, in]: bound = √(6 / ((1 + 5)·in)) = 1/√in.
            let bound = 1 / Float(inFeatures).squareRoot()
            a = Tensor.randomUniform([rank, inFeatures], low: -bound, high: bound, rng: &rng)
            b = Tensor(zeros: [outFeatures, rank])
        case .gaussian:
            a = Tensor.randomNormal([rank, inFeatures], std: 1 / Float(rank), rng: &rng)
            b = Tensor(zeros: [outFeatures, rank])
        case .pissa:
            (a, b) = LoRALayer.pissa(layer: layer, rank: rank, scaling: config.scaling)
        }
        var magnitude: Tensor?
        if config.useDoRA {
            // m starts as the row norms of W (+ s·BA), so the layer is unchanged at step 0.
            magnitude = Tensor(LoRALayer.norms(of: LoRALayer.adaptedWeight(layer.weight, a: a, b: b, scaling: config.scaling), columns: inFeatures),
                               shape: [outFeatures])
        }
        let weights = LoRAWeights(config: config, a: makeParameter(a), b: makeParameter(b), magnitude: magnitude.map { makeParameter($0) })
        adapters.removeAll { $0.name == name }
        adapters.append((name, weights))
    }

    /// Installs an adapter with given matrices (A [r, in], B [out, r], DoRA's m [out]) — used by adapter
    /// merging and by adapter files.
    public func install(_ name: String, config: LoRAConfig, a: Tensor, b: Tensor, magnitude: Tensor? = nil) {
        require(a.shape[0] == config.rank && b.shape[1] == config.rank && (magnitude != nil) == config.useDoRA,
                "LoRALayer.install: A \(a.shape) and B \(b.shape) do not have rank \(config.rank)")
        adapters.removeAll { $0.name == name }
        adapters.append((name, LoRAWeights(config: config, a: makeParameter(a), b: makeParameter(b), magnitude: magnitude.map { makeParameter($0) })))
    }

    /// Removes an adapter (unmerging it first if it was merged into `layer`).
    func remove(_ name: String, layer: Linear) {
        if let w = weights(name), w.merged { unmerge(name, layer: layer) }
        adapters.removeAll { $0.name == name }
        active.removeAll { $0 == name }
    }

    public var adapterParameters: [(name: String, tensor: Tensor)] {
        // PEFT's file names put the adapter name after the tensor kind; in memory we keep "name.kind".
        adapters.flatMap { adapter in adapter.weights.named.map { ("\(adapter.name).\($0.name)", $0.tensor) } }
    }

    /// DoRA's output needs the dense W (its row norms): a layer with a DoRA adapter stays unpacked.
    public var needsDenseWeight: Bool { adapters.contains { $0.weights.config.useDoRA } }

    public func forward(_ x: Tensor, layer: Linear) -> Tensor {
        let running = active.compactMap { name in weights(name) }.filter { !$0.merged }
        // The common case — one plain LoRA adapter, no dropout — runs as one fused op (see Ops+LowRank.swift).
        let fusable = running.count == 1 && !running[0].config.useDoRA
            && (running[0].config.dropout == 0 || !Tensor.gradientsEnabled)
        if fusable {
            let w = running[0]
            let y = layer.lowRankForward(x, a: w.a, b: w.b, scaling: w.config.scaling)
            // A caller may have substituted its own forward (the workbook's task 8.1; see LoRAArithmetic.swift);
            // a packed (QLoRA) base has no dense W to hand it, and keeps the library's path.
            guard let substitute = LoRAArithmetic.current.forward, layer.packedWeight == nil else { return y }
            return substituting(y, x: x, layer: layer, weights: w, forward: substitute)
        }
        // A packed base (QLoRA) has no dense W for DoRA's row norms.
        require(layer.packedWeight == nil || !running.contains { $0.config.useDoRA }, "LoRA: DoRA needs a dense base weight")
        var y = layer.baseForward(x)
        for w in running {
            // DoRA replaces the base output: m ⊙ (x·(W + sBA)ᵀ) / ‖W + sBA‖ (+ bias).
            y = w.config.useDoRA ? dora(x, layer: layer, weights: w) : y + branch(x, w)
        }
        return y
    }

    /// One adapter's branch: s · dropout(x)·Aᵀ·Bᵀ — two thin matmuls, never the full ΔW.
    func branch(_ x: Tensor, _ w: LoRAWeights) -> Tensor {
        var input = x
        if w.config.dropout > 0 && Tensor.gradientsEnabled { input = x.dropout(w.config.dropout, rng: &dropoutRNG) }
        return Tensor.matmul(Tensor.matmul(input, w.a, transposeB: true), w.b, transposeB: true) * w.config.scaling
    }

    /// The DoRA output for `x`.
    func dora(_ x: Tensor, layer: Linear, weights w: LoRAWeights) -> Tensor {
        // W' = W + s·B·A as a graph (gradients flow to A and B), then its row norms.
        let delta = Tensor.matmul(w.b, w.a) * w.config.scaling
        let adapted = layer.weight + delta
        let norms = (adapted * adapted).sum(axes: [1]).sqrt()           // [out]
        let direction = Tensor.matmul(x.rank == 1 ? x.reshaped([1, layer.inFeatures]) : x, adapted, transposeB: true)
        var y = direction * (w.magnitude! / norms)
        if let bias = layer.bias { y = y + bias }
        return x.rank == 1 ? y.reshaped([layer.outFeatures]) : y
    }
}
