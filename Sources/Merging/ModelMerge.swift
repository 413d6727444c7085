// ModelMerge.swift — applying a merge recipe to whole models, tensor by tensor, by name, as mergekit does.
//
// Teaches: merging needs no training and no data — only models of the same architecture. Every
// parameter name is looked up in every model and merged with the method's arithmetic, its parameters
// resolved for that tensor (per model, per layer position, per name filter — see MergeConfig.swift).
// Stacking instead builds a deeper model from layer slices (depth up-scaling: two copies of an
// n-block model with m blocks dropped at the seam give 2(n − m) blocks); like mergekit, it takes the
// embeddings from the first slice's model and the final norm and head from the last slice's.
// DARE's random keep/drop masks come from our seeded RNG by default; a `DAREMaskProvider` can supply
// them instead (the parity tests feed the masks mergekit drew with torch.bernoulli, so that every
// other step of DARE is checked against mergekit's tensors exactly).
// Leaves out: merging models of different widths, tokenizer surgery.
import Foundation
import Kernels
import Autodiff
import NN
import Checkpoints

/// Merging models (caseless namespace).
public enum ModelMerge {
    /// A merge that cannot be carried out, naming the tensor or model.
    public struct Error: Swift.Error, CustomStringConvertible {
        public let description: String
        /// An error with the given message (also for model loaders written elsewhere).
        public init(description: String) { self.description = description }
    }

    /// How mergekit names one of our tensors: its transformers name (what `filter` matches) and its
    /// block index if it is in a block.
    struct TensorInfo {
        var name: String
        var block: Int?
        /// Stored transposed by transformers (GPT-2's Conv1D weights: [in, out] there, [out, in] here).
        var transposed: Bool

        init(_ ours: String, flavour: GPTConfig.Flavour) {
            let hf = ModelCheckpoint.huggingFaceName(of: ours, flavour: flavour)
            name = flavour == .gpt2 && !hf.name.hasPrefix("lm_head") ? "transformer." + hf.name : hf.name
            transposed = hf.transposed
            let parts = ours.split(separator: ".")
            block = parts.count > 2 && (parts[0] == "h" || parts[0] == "layers") ? Int(parts[1]) : nil
        }

        /// mergekit's layer position for gradients: i/(n − 1) in a block (1 for n = 1), else 0.
        func position(layers: Int) -> Double {
            guard let block else { return 0 }
            return layers > 1 ? Double(block) / Double(layers - 1) : 1
        }
    }

    /// Runs `config`, loading each model path with `load`. `dareMasks` supplies DARE's keep masks (nil:
    /// drawn from `RNG(seed: config.seed)`, one uniform per entry, tensors in our parameter order).
    public static func run(_ config: MergeConfig, dareMasks: DAREMaskProvider? = nil, load: (String) throws -> GPT) throws -> GPT {
        if config.method == "passthrough" {
            return try stack(config.slices.map { ($0, try load($0.model)) })
        }
        let base = try config.effectiveBase.map(load)
        // linear merges every listed model; the others take task vectors of the non-base models.
        let entries = config.method == "linear" ? config.models : config.nonBaseModels
        let models = try entries.map { try load($0.model) }
        let template = base ?? models[0]
        for (entry, model) in zip(entries, models) where model.config.layers != template.config.layers
            || model.config.embeddingSize != template.config.embeddingSize || model.config.flavour != template.config.flavour {
            throw Error(description: "model \(entry.model) has a different architecture from \(config.effectiveBase ?? entries[0].model)")
        }
        let merged = template.copy()
        var rng = RNG(seed: config.seed)
        let lookups = models.map { Dictionary(uniqueKeysWithValues: $0.namedParameters().map { ($0.name, $0.tensor) }) }
        let baseLookup = base.map { Dictionary(uniqueKeysWithValues: $0.namedParameters().map { ($0.name, $0.tensor) }) }
        for (name, target) in merged.namedParameters() {
            let xs = try lookups.enumerated().map { index, lookup -> [Float] in
                guard let tensor = lookup[name], tensor.shape == target.shape else {
                    throw Error(description: "tensor \(name) is missing or has another shape in \(entries[index].model)")
                }
                return tensor.values
            }
            let info = TensorInfo(name, flavour: template.config.flavour)
            let t = info.position(layers: template.config.layers)
            let result: [Float]
            switch config.method {
            case "linear":
                let weights = try entries.map { Float(try config.number("weight", tensor: info.name, t: t, own: $0.parameters)) }
                let normalize = try config.flag("normalize", tensor: info.name, t: t)
                if normalize && abs(weights.reduce(0, +)) < 1e-8 {
                    throw Error(description: "linear: the weights of tensor \(info.name) sum to 0, so normalize would divide by 0")
                }
                result = MergeMath.linear(xs, weights: weights, normalize: normalize)
            case "slerp":
                guard let theta0 = baseLookup?[name]?.values else { throw Error(description: "tensor \(name) is missing in the base model") }
                let fraction = Float(try config.number("t", tensor: info.name, t: t))
                // mergekit interpolates each tensor as one flat vector (its batches stack whole tensors).
                result = MergeMath.slerpRows(theta0, xs[0], rows: 1, t: fraction)
            case "model_stock":
                guard let theta0 = baseLookup?[name]?.values else { throw Error(description: "tensor \(name) is missing in the base model") }
                let ratio = MergeMath.modelStockRatio(xs.map { MergeMath.taskVector($0, base: theta0) })
                let average = MergeMath.linear(xs, weights: [Float](repeating: 1, count: xs.count), normalize: false).map { $0 / Float(xs.count) }
                result = zip(average, theta0).map { ratio * $0 + (1 - ratio) * $1 }
            default:
                guard let theta0 = baseLookup?[name]?.values else { throw Error(description: "tensor \(name) is missing in the base model") }
                var masks = DAREMasks(provider: dareMasks, rng: rng)
                result = try generalizedTaskArithmetic(config, base: theta0, tuned: xs, entries: entries, tensor: info,
                                                       shape: target.shape, t: t, masks: &masks)
                rng = masks.rng
            }
            result.withUnsafeBufferPointer { target.data.update(from: $0.baseAddress!, count: result.count) }
        }
        return merged
    }

    /// mergekit's GeneralizedTaskArithmeticMerge for one tensor: sparsify each τᵢ with its own
    /// density (magnitude, random or outliers, optionally L1-rescaled), weight it, combine (TIES
    /// consensus or a plain sum), optionally normalise by the weights, scale by λ, add to the base.
    static func generalizedTaskArithmetic(_ config: MergeConfig, base: [Float], tuned: [[Float]], entries: [MergeConfig.Entry],
                                          tensor info: TensorInfo, shape: [Int], t: Double, masks: inout DAREMasks) throws -> [Float] {
        let method = config.method, tensor = info.name
        let rescale = try config.flag("rescale", tensor: tensor, t: t)
        var weights: [Float] = [], deltas: [[Float]] = []
        for (x, entry) in zip(tuned, entries) {
            let tau = MergeMath.taskVector(x, base: base)
            var density = try config.number("density", tensor: tensor, t: t, own: entry.parameters)
            if method.hasPrefix("dare"), entry.parameters["drop_probability"] != nil || config.parameters["drop_probability"] != nil {
                density = 1 - (try config.number("drop_probability", tensor: tensor, t: t, own: entry.parameters))
            }
            var sparse: [Float]
            switch method {
            case "ties": sparse = MergeMath.trim(tau, density: density)
            case "dare_linear", "dare_ties":
                // mergekit draws no mask at density ≥ 1 (the task vector is kept whole).
                if density >= 1 { sparse = tau; break }
                let keep = try masks.mask(DAREMaskRequest(tensor: tensor, model: entry.model, count: tau.count, density: density),
                                          transposedShape: info.transposed ? shape : nil)
                sparse = zip(tau, keep).map { $1 ? $0 : 0 }
            case "breadcrumbs", "breadcrumbs_ties":
                sparse = MergeMath.breadcrumbs(tau, density: density, gamma: try config.number("gamma", tensor: tensor, t: t, own: entry.parameters))
            default: sparse = tau                                   // task_arithmetic
            }
            if rescale && density < 1 && method != "task_arithmetic" { sparse = MergeMath.rescaleL1(sparse, original: tau) }
            let weight = Float(try config.number("weight", tensor: tensor, t: t, own: entry.parameters))
            weights.append(weight)
            deltas.append(sparse.map { $0 * weight })
        }
        let normalize = try config.flag("normalize", tensor: tensor, t: t)
        var mixed: [Float]
        if ["ties", "dare_ties", "breadcrumbs_ties"].contains(method) {
            mixed = MergeMath.disjointMean(deltas, weights: weights, normalize: normalize)
        } else {
            mixed = MergeMath.linear(deltas, weights: [Float](repeating: 1, count: deltas.count), normalize: false)
            let divisor = weights.reduce(0, +)
            if normalize { mixed = mixed.map { $0 / (abs(divisor) < 1e-8 ? 1 : divisor) } }
        }
        let lambda = Float(try config.number("lambda", tensor: tensor, t: t))
        return zip(base, mixed).map { $0 + (lambda == 1 ? $1 : $1 * lambda) }
    }

    /// Passthrough stacking: the blocks of every slice in order; embeddings from the first slice's model,
    /// the final norm (and head) from the last slice's — mergekit's pre/post weights. Every range is
    /// checked against its model before anything is allocated.
    public static func stack(_ slices: [(slice: MergeConfig.Slice, model: GPT)]) throws -> GPT {
        guard let first = slices.first?.model, let last = slices.last?.model else { throw Error(description: "passthrough: no slices") }
        for (slice, model) in slices {
            guard slice.start >= 0, slice.start < slice.end, slice.end <= model.config.layers else {
                throw Error(description: "slice \(slice.model) layer_range [\(slice.start), \(slice.end)) exceeds its \(model.config.layers) blocks")
            }
            guard model.config.embeddingSize == first.config.embeddingSize, model.config.flavour == first.config.flavour else {
                throw Error(description: "slice \(slice.model) has a different architecture from \(slices[0].slice.model)")
            }
        }
        let depth = slices.map { $0.slice.end - $0.slice.start }.reduce(0, +)
        guard depth <= MergeConfig.maximumLayers else { throw Error(description: "passthrough: \(depth) blocks is more than \(MergeConfig.maximumLayers)") }
        var config = first.config
        config.layers = depth
        var rng = RNG(seed: 0)
        let stacked = GPT(config: config, rng: &rng)
        let prefix = config.flavour == .gpt2 ? "h." : "layers."
        let post: Set<String> = ["ln_f.weight", "ln_f.bias", "norm.weight", "lm_head.weight"]
        var sources: [String: Tensor] = [:]
        for (name, tensor) in first.namedParameters() where !name.hasPrefix(prefix) && !post.contains(name) { sources[name] = tensor }
        for (name, tensor) in last.namedParameters() where post.contains(name) { sources[name] = tensor }
        // Block tensors renumbered in stacking order.
        var next = 0
        for (slice, model) in slices {
            for block in slice.start..<slice.end {
                for (name, tensor) in model.namedParameters() where name.hasPrefix("\(prefix)\(block).") {
                    sources["\(prefix)\(next)." + name.dropFirst("\(prefix)\(block).".count)] = tensor
                }
                next += 1
            }
        }
        for (name, target) in stacked.namedParameters() {
            guard let source = sources[name], source.shape == target.shape else {
                throw Error(description: "passthrough: tensor \(name) is missing or has another shape")
            }
            target.assign(source)
        }
        return stacked
    }
}
