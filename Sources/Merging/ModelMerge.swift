// ModelMerge.swift — applying a merge recipe to whole models, tensor by tensor, by name.
//
// Teaches: merging needs no training and no data — only models of the same architecture. Every
// parameter name is looked up in every model and merged with the method's arithmetic; stacking instead
// builds a deeper model from layer slices (depth up-scaling: two copies of an n-block model with m
// blocks dropped at the seam give 2(n − m) blocks).
// Leaves out: merging models of different widths, tokenizer surgery.
import Foundation
import Kernels
import Autodiff
import NN

/// Merging models (caseless namespace).
public enum ModelMerge {
    /// A merge that cannot be carried out, naming the tensor or model.
    public struct Error: Swift.Error, CustomStringConvertible {
        public let description: String
        /// An error with the given message (also for model loaders written elsewhere).
        public init(description: String) { self.description = description }
    }

    /// Runs `config`, loading each model path with `load`.
    public static func run(_ config: MergeConfig, load: (String) throws -> GPT) throws -> GPT {
        if config.method == "passthrough" {
            return try stack(config.slices.map { ($0, try load($0.model)) })
        }
        let base = try config.baseModel.map(load)
        let models = try config.models.map { try load($0.model) }
        let template = base ?? models[0]
        for (entry, model) in zip(config.models, models) where model.config.layers != template.config.layers
            || model.config.embeddingSize != template.config.embeddingSize || model.config.flavour != template.config.flavour {
            throw Error(description: "model \(entry.model) has a different architecture from \(config.baseModel ?? config.models[0].model)")
        }
        let merged = template.copy()
        var rng = RNG(seed: config.seed)
        let lookups = models.map { Dictionary(uniqueKeysWithValues: $0.namedParameters().map { ($0.name, $0.tensor) }) }
        let baseLookup = base.map { Dictionary(uniqueKeysWithValues: $0.namedParameters().map { ($0.name, $0.tensor) }) }
        for (name, target) in merged.namedParameters() {
            let xs = try lookups.enumerated().map { index, lookup -> [Float] in
                guard let tensor = lookup[name], tensor.shape == target.shape else {
                    throw Error(description: "tensor \(name) is missing or has another shape in \(config.models[index].model)")
                }
                return tensor.values
            }
            let theta0 = baseLookup?[name]?.values
            let taus = theta0.map { b in xs.map { MergeMath.taskVector($0, base: b) } }
            let weights = config.models.map(\.weight)
            let result: [Float]
            switch config.method {
            case "linear":
                result = MergeMath.linear(xs, weights: weights, normalize: config.normalize)
            case "slerp":
                let (a, b) = theta0.map { ($0, xs[0]) } ?? (xs[0], xs[1])
                result = MergeMath.slerp(a, b, t: config.t)
            case "task_arithmetic":
                result = MergeMath.taskArithmetic(base: theta0!, taskVectors: taus!, lambdas: weights.map { $0 * config.lambda })
            case "ties":
                let tau = MergeMath.ties(taus!, density: config.models.map(\.density).min() ?? 1, weights: weights)
                result = MergeMath.taskArithmetic(base: theta0!, taskVectors: [tau], lambdas: [config.lambda])
            case "dare_linear", "dare_ties":
                let dropped = zip(taus!, config.models).map { tau, entry in
                    MergeMath.dare(tau, dropProbability: config.dropProbability ?? Float(1 - entry.density), rng: &rng)
                }
                let tau = config.method == "dare_ties"
                    ? MergeMath.disjointMean(zip(dropped, weights).map { d, w in d.map { $0 * w } })
                    : MergeMath.linear(dropped, weights: weights, normalize: false)
                result = MergeMath.taskArithmetic(base: theta0!, taskVectors: [tau], lambdas: [config.lambda])
            case "breadcrumbs":
                let kept = zip(taus!, config.models).map { MergeMath.breadcrumbs($0, density: $1.density, gamma: config.gamma) }
                result = MergeMath.taskArithmetic(base: theta0!, taskVectors: kept, lambdas: weights.map { $0 * config.lambda })
            case "model_stock":
                let ratio = MergeMath.modelStockRatio(taus!)
                let average = MergeMath.linear(xs, weights: [Float](repeating: 1, count: xs.count))
                result = zip(average, theta0!).map { ratio * $0 + (1 - ratio) * $1 }
            default:
                throw Error(description: "merge method \(config.method) is not implemented")
            }
            result.withUnsafeBufferPointer { target.data.update(from: $0.baseAddress!, count: result.count) }
        }
        return merged
    }

    /// Passthrough stacking: the blocks of every slice in order; embeddings and the final norm (and
    /// head) from the first slice's model.
    public static func stack(_ slices: [(slice: MergeConfig.Slice, model: GPT)]) throws -> GPT {
        guard let first = slices.first?.model else { throw Error(description: "passthrough: no slices") }
        var config = first.config
        config.layers = slices.map { $0.slice.end - $0.slice.start }.reduce(0, +)
        var rng = RNG(seed: 0)
        let stacked = GPT(config: config, rng: &rng)
        let prefix = config.flavour == .gpt2 ? "h." : "layers."
        var sources: [String: Tensor] = [:]
        // Non-block tensors from the first model.
        for (name, tensor) in first.namedParameters() where !name.hasPrefix(prefix) { sources[name] = tensor }
        // Block tensors renumbered in stacking order.
        var next = 0
        for (slice, model) in slices {
            guard slice.end <= model.config.layers else {
                throw Error(description: "slice \(slice.model) layer_range [\(slice.start), \(slice.end)) exceeds its \(model.config.layers) blocks")
            }
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
