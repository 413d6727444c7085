// MergeConfig.swift — a merge described in a file, with mergekit's field names.
//
// Teaches: merges are recipes. mergekit's YAML becomes this JSON:
//   {"merge_method": "ties", "base_model": "runs/base",
//    "models": [{"model": "runs/a", "parameters": {"weight": 0.5, "density": 0.5}}, …],
//    "parameters": {"lambda": 1.0, "normalize": true, "t": 0.5}, "dtype": "float32"}
// and for stacking, "slices": [{"sources": [{"model": "runs/a", "layer_range": [0, 3]}]}, …].
// A bad file is an error naming the field.
// Leaves out: per-tensor parameter filters, tokenizer merging.
import Foundation

/// A parsed merge configuration.
public struct MergeConfig: Sendable, Equatable {
    /// One model with its per-model parameters.
    public struct Entry: Sendable, Equatable {
        public var model: String
        public var weight: Float
        public var density: Double
    }
    /// A layer slice for passthrough stacking: blocks [start, end) of `model`.
    public struct Slice: Sendable, Equatable {
        public var model: String
        public var start: Int, end: Int
        /// Blocks [start, end) of `model`.
        public init(model: String, start: Int, end: Int) {
            self.model = model
            self.start = start
            self.end = end
        }
    }

    public var method: String
    public var baseModel: String?
    public var models: [Entry]
    public var slices: [Slice]
    public var lambda: Float
    public var normalize: Bool
    public var t: Float
    public var dropProbability: Float?
    public var gamma: Double
    public var seed: UInt64

    /// The methods `ModelMerge` implements.
    public static let methods: Set<String> = ["linear", "task_arithmetic", "slerp", "ties", "dare_linear", "dare_ties",
                                              "breadcrumbs", "model_stock", "passthrough"]

    /// Parses JSON; `file` labels errors.
    public init(json data: Data, file: String = "merge.json") throws {
        func fail(_ field: String, _ problem: String) -> MergeConfigError { MergeConfigError(file: file, field: field, problem: problem) }
        guard let root = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw fail("(root)", "not a JSON object")
        }
        guard let method = root["merge_method"] as? String else { throw fail("merge_method", "missing or not a string") }
        guard MergeConfig.methods.contains(method) else {
            throw fail("merge_method", "unknown method \"\(method)\" (known: \(MergeConfig.methods.sorted().joined(separator: ", ")))")
        }
        self.method = method
        baseModel = root["base_model"] as? String
        let parameters = root["parameters"] as? [String: Any] ?? [:]
        lambda = Float((parameters["lambda"] as? Double) ?? 1)
        normalize = (parameters["normalize"] as? Bool) ?? true
        t = Float((parameters["t"] as? Double) ?? 0.5)
        gamma = (parameters["gamma"] as? Double) ?? 0.01
        dropProbability = (parameters["drop_probability"] as? Double).map(Float.init)
        seed = UInt64((parameters["seed"] as? Int) ?? 0)
        models = []
        for (index, item) in ((root["models"] as? [Any]) ?? []).enumerated() {
            guard let entry = item as? [String: Any], let path = entry["model"] as? String else {
                throw fail("models[\(index)].model", "missing or not a string")
            }
            let p = entry["parameters"] as? [String: Any] ?? [:]
            let density = (p["density"] as? Double) ?? 1
            guard density > 0 && density <= 1 else { throw fail("models[\(index)].parameters.density", "must be in (0, 1], got \(density)") }
            models.append(Entry(model: path, weight: Float((p["weight"] as? Double) ?? 1), density: density))
        }
        slices = []
        for (index, item) in ((root["slices"] as? [Any]) ?? []).enumerated() {
            guard let slice = item as? [String: Any], let sources = slice["sources"] as? [[String: Any]], let source = sources.first,
                  let path = source["model"] as? String else {
                throw fail("slices[\(index)].sources[0].model", "missing or not a string")
            }
            guard let range = source["layer_range"] as? [Int], range.count == 2, range[0] >= 0, range[0] < range[1] else {
                throw fail("slices[\(index)].sources[0].layer_range", "must be [start, end) with 0 ≤ start < end")
            }
            slices.append(Slice(model: path, start: range[0], end: range[1]))
        }
        // Method-specific requirements.
        let needsBase: Set<String> = ["task_arithmetic", "ties", "dare_linear", "dare_ties", "breadcrumbs", "model_stock"]
        if needsBase.contains(method) && baseModel == nil { throw fail("base_model", "\(method) needs a base model") }
        if method == "passthrough" {
            if slices.isEmpty { throw fail("slices", "passthrough needs at least one slice") }
        } else if models.isEmpty {
            throw fail("models", "\(method) needs at least one model")
        }
        if method == "slerp" && (models.count != 1 || baseModel == nil) && models.count != 2 {
            throw fail("models", "slerp interpolates between two models (base_model + one model, or two models)")
        }
        if method == "model_stock" && models.count < 2 { throw fail("models", "model_stock needs at least two fine-tuned models") }
    }
}

/// A configuration problem, naming the file and field.
public struct MergeConfigError: Error, CustomStringConvertible, Equatable {
    public let file: String, field: String, problem: String
    public var description: String { "\(file): \(field): \(problem)" }
}
