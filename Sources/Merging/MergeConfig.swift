// MergeConfig.swift — a merge described in a file, with mergekit's field names and meanings.
//
// Teaches: merges are recipes. mergekit's YAML becomes this JSON:
//   {"merge_method": "ties", "base_model": "runs/base",
//    "models": [{"model": "runs/a", "parameters": {"weight": 0.5, "density": 0.5}}, …],
//    "parameters": {"lambda": 1.0, "normalize": true}, "dtype": "float32"}
// and for stacking, "slices": [{"sources": [{"model": "runs/a", "layer_range": [0, 3]}]}, …].
// A parameter is resolved per tensor as mergekit does (mergekit/config.py `evaluate_setting`,
// parameter_resolver.py): the model's own `parameters` first, then the slice's, then the top-level
// ones, then the method's default. A value may be
//   - a number or boolean;
//   - a *gradient*, a list of numbers interpolated over the layers: layer i of n gets position
//     t = i/(n − 1) (1 when n = 1; 0 for embeddings, final norm and head), index t·(len − 1),
//     linear between the two neighbouring entries;
//   - a list of {"filter": "self_attn", "value": …}: the first entry whose filter is a substring of
//     the tensor's transformers name (or has no filter / "*") gives the value.
// Every field and parameter is checked: a wrong type, a value out of range or a name mergekit would
// read differently from us is an error naming it — a merge must never silently differ from mergekit's.
// Leaves out: `modules`, per-slice merges of several sources, tokenizer merging (all refused).
import Foundation

/// A parsed, validated merge configuration.
public struct MergeConfig: Sendable, Equatable {
    /// A parameter's setting before it is resolved for one tensor.
    public indirect enum Setting: Sendable, Equatable {
        case number(Double)
        case flag(Bool)
        /// Numbers interpolated over the layers.
        case gradient([Double])
        /// (filter, value) pairs; nil filter matches every tensor.
        case conditional([Conditional])
    }
    /// One `{"filter": …, "value": …}` entry.
    public struct Conditional: Sendable, Equatable {
        public var filter: String?
        public var value: Setting
    }
    /// Parameter name → setting.
    public typealias Parameters = [String: Setting]

    /// One model with its per-model parameters.
    public struct Entry: Sendable, Equatable {
        public var model: String
        public var parameters: Parameters
    }
    /// A layer slice for passthrough stacking: blocks [start, end) of `model`.
    public struct Slice: Sendable, Equatable {
        public var model: String
        public var start: Int, end: Int
        public var parameters: Parameters = [:]
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
    /// The top-level `parameters`.
    public var parameters: Parameters
    /// Seeds DARE's random drops (our field; mergekit uses torch's global RNG).
    public var seed: UInt64

    /// The methods `ModelMerge` implements.
    public static let methods: Set<String> = ["linear", "task_arithmetic", "slerp", "ties", "dare_linear", "dare_ties",
                                              "breadcrumbs", "breadcrumbs_ties", "model_stock", "passthrough"]

    /// The parameters each method reads, with mergekit's defaults (nil: no default).
    static func parameterSpec(_ method: String) -> [String: Setting?] {
        switch method {
        case "linear": return ["weight": .number(1), "normalize": .flag(true)]
        case "slerp": return ["t": nil]
        case "model_stock": return ["filter_wise": .flag(false)]
        case "passthrough": return [:]
        default:
            // mergekit's GeneralizedTaskArithmeticMerge, with each method's normalize / rescale defaults.
            let normalize = method == "ties"
            let rescale = method.hasPrefix("dare")
            var spec: [String: Setting?] = ["int8_mask": .flag(false), "normalize": .flag(normalize), "rescale": .flag(rescale),
                                            "lambda": .number(1), "weight": .number(1), "density": .number(1)]
            if method.hasPrefix("breadcrumbs") { spec["gamma"] = .number(0.01) }
            // Ours: DARE's drop probability p, an alias for density = 1 − p.
            if method.hasPrefix("dare") { spec["drop_probability"] = .number(0) }
            return spec
        }
    }

    /// Allowed range of each numeric parameter (mergekit accepts more; outside these the result is
    /// degenerate or the file is damaged, so we refuse it).
    static let ranges: [String: ClosedRange<Double>] = [
        "weight": -1e6...1e6, "density": 0...1, "gamma": 0...1, "lambda": -1e6...1e6, "t": -1e3...1e3,
        "drop_probability": 0...0.999_999,
    ]
    static let booleans: Set<String> = ["normalize", "rescale", "int8_mask", "filter_wise"]
    /// Parameters with one value per tensor for all models (mergekit's SHARED scope).
    static let shared: Set<String> = ["normalize", "rescale", "int8_mask", "filter_wise", "lambda", "t"]

    /// Parses and validates JSON; `file` labels errors.
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
        // Top-level fields: what we implement, what is a no-op for float32 checkpoints, and refusals.
        for key in root.keys.sorted() {
            switch key {
            case "merge_method", "base_model", "models", "slices", "parameters": continue
            case "dtype", "out_dtype":
                guard root[key] is NSNull || (root[key] as? String) == "float32" else {
                    throw fail(key, "only float32 is supported (we compute and write float32), got \(MergeConfig.show(root[key]))")
                }
            case "tokenizer_source", "tokenizer", "chat_template", "modules":
                guard root[key] is NSNull else { throw fail(key, "is not supported (the merge would differ from mergekit's)") }
            default: throw fail(key, "unknown field")
            }
        }
        switch root["base_model"] {
        case nil, is NSNull: baseModel = nil
        case let name as String: baseModel = name
        case let other: throw fail("base_model", "must be a string, got \(MergeConfig.show(other))")
        }
        let spec = MergeConfig.parameterSpec(method)
        func parameters(_ value: Any?, _ field: String) throws -> Parameters {
            guard let value, !(value is NSNull) else { return [:] }
            guard let object = value as? [String: Any] else { throw fail(field, "must be an object") }
            var result: Parameters = [:]
            for (name, raw) in object {
                // Our seed lives at the top level only.
                if name == "seed" && field == "parameters" { continue }
                if field != "parameters" && MergeConfig.shared.contains(name) {
                    throw fail("\(field).\(name)", "is shared by all models; mergekit reads it only from the top-level parameters")
                }
                guard spec.keys.contains(name) else {
                    throw fail("\(field).\(name)", "\(method) has no parameter \"\(name)\" (it reads: \(spec.keys.sorted().joined(separator: ", ")))")
                }
                result[name] = try MergeConfig.setting(raw, name: name, field: "\(field).\(name)", file: file)
            }
            return result
        }
        self.parameters = try parameters(root["parameters"], "parameters")
        switch (root["parameters"] as? [String: Any])?["seed"] {
        case nil: seed = 0
        case let value:
            guard let number = value as? NSNumber, !MergeConfig.isBoolean(value), let int = value as? Int, int >= 0,
                  Double(int) == number.doubleValue else { throw fail("parameters.seed", "must be a non-negative integer") }
            seed = UInt64(int)
        }
        models = []
        if let raw = root["models"], !(raw is NSNull) {
            guard let list = raw as? [Any] else { throw fail("models", "must be a list") }
            for (index, item) in list.enumerated() {
                guard let entry = item as? [String: Any], let path = entry["model"] as? String else {
                    throw fail("models[\(index)].model", "missing or not a string")
                }
                if let extra = entry.keys.sorted().first(where: { $0 != "model" && $0 != "parameters" }) {
                    throw fail("models[\(index)].\(extra)", "unknown field")
                }
                models.append(Entry(model: path, parameters: try parameters(entry["parameters"], "models[\(index)].parameters")))
            }
        }
        slices = []
        if let raw = root["slices"], !(raw is NSNull) {
            guard let list = raw as? [Any] else { throw fail("slices", "must be a list") }
            for (index, item) in list.enumerated() {
                guard let slice = item as? [String: Any], let sources = slice["sources"] as? [Any] else {
                    throw fail("slices[\(index)].sources", "missing or not a list")
                }
                if let extra = slice.keys.sorted().first(where: { $0 != "sources" && $0 != "parameters" && !(slice[$0] is NSNull) }) {
                    throw fail("slices[\(index)].\(extra)", "is not supported")
                }
                guard sources.count == 1 else {
                    throw fail("slices[\(index)].sources", "has \(sources.count) sources; only one source per slice (passthrough stacking) is supported")
                }
                guard let source = sources[0] as? [String: Any], let path = source["model"] as? String else {
                    throw fail("slices[\(index)].sources[0].model", "missing or not a string")
                }
                if let extra = source.keys.sorted().first(where: { !["model", "layer_range", "parameters"].contains($0) }) {
                    throw fail("slices[\(index)].sources[0].\(extra)", "unknown field")
                }
                // Integers only (not 2.5, not true), bounded so that sums cannot overflow.
                guard let range = source["layer_range"] as? [Any], range.count == 2,
                      let start = MergeConfig.integer(range[0]), let end = MergeConfig.integer(range[1]),
                      start >= 0, start < end, end <= MergeConfig.maximumLayers else {
                    throw fail("slices[\(index)].sources[0].layer_range", "must be [start, end) with 0 ≤ start < end ≤ \(MergeConfig.maximumLayers)")
                }
                var parsed = Slice(model: path, start: start, end: end)
                parsed.parameters = try parameters(source["parameters"], "slices[\(index)].sources[0].parameters")
                if !(try parameters(slice["parameters"], "slices[\(index)].parameters")).isEmpty {
                    throw fail("slices[\(index)].parameters", "is not supported; put parameters on the source")
                }
                slices.append(parsed)
            }
        }
        try validateShape(fail)
    }

    /// Largest layer index a slice may name, and largest stacked depth.
    public static let maximumLayers = 4096

    /// Method-specific requirements on models, base and slices.
    func validateShape(_ fail: (String, String) -> MergeConfigError) throws {
        let needsBase: Set<String> = ["task_arithmetic", "ties", "dare_linear", "dare_ties", "breadcrumbs", "breadcrumbs_ties", "model_stock"]
        if needsBase.contains(method) && baseModel == nil { throw fail("base_model", "\(method) needs a base model") }
        if method == "passthrough" {
            if slices.isEmpty { throw fail("slices", "passthrough needs at least one slice") }
            if !models.isEmpty { throw fail("models", "passthrough takes slices, not models") }
            let depth = slices.map { $0.end - $0.start }.reduce(0, +)
            if depth > MergeConfig.maximumLayers { throw fail("slices", "stack \(depth) blocks deep; at most \(MergeConfig.maximumLayers)") }
            return
        }
        if !slices.isEmpty { throw fail("slices", "\(method) takes models, not slices") }
        if models.isEmpty { throw fail("models", "\(method) needs at least one model") }
        let others = nonBaseModels
        switch method {
        case "slerp":
            // mergekit: base_model + exactly one other input (the base may also be listed in models).
            // Ours too: two models and no base_model (the first is the base).
            if others.count != 1 { throw fail("models", "slerp interpolates between base_model and one other model (or two models)") }
            if parameters["t"] == nil { throw fail("parameters.t", "slerp needs t") }
        case "model_stock":
            if others.count < 2 { throw fail("models", "model_stock needs at least two fine-tuned models besides the base") }
        case "linear":
            if let base = baseModel, !models.contains(where: { $0.model == base }) {
                throw fail("base_model", "linear has no base; mergekit adds \(base) as an input without a weight")
            }
        default:
            if others.isEmpty { throw fail("models", "\(method) needs at least one model besides the base") }
        }
        for (name, setting) in parameters where name == "filter_wise" && setting != .flag(false) {
            throw fail("parameters.filter_wise", "filter_wise model stock is not supported")
        }
    }

    /// The models that are not the base (what task vectors are taken of).
    var nonBaseModels: [Entry] {
        guard let baseModel else { return method == "slerp" ? Array(models.dropFirst()) : models }
        return models.filter { $0.model != baseModel }
    }

    /// The base for slerp, the GTA methods and model stock.
    var effectiveBase: String? { baseModel ?? (method == "slerp" ? models.first?.model : nil) }

    // MARK: - Resolving a parameter for one tensor

    /// The value of `name` for the tensor `tensor` (transformers name) at layer position `t`, looked up
    /// in `own` (a model's or slice source's parameters), then the top level, then the default.
    func value(_ name: String, tensor: String, t: Double, own: Parameters) throws -> Setting.Resolved {
        for scope in [own, parameters] {
            if let setting = scope[name], let value = MergeConfig.evaluate(setting, tensor: tensor, t: t) { return value }
        }
        guard let fallback = MergeConfig.parameterSpec(method)[name] ?? nil,
              let value = MergeConfig.evaluate(fallback, tensor: tensor, t: t) else {
            throw ModelMerge.Error(description: "parameter \(name) has no value for tensor \(tensor)")
        }
        return value
    }

    func number(_ name: String, tensor: String, t: Double, own: Parameters = [:]) throws -> Double {
        guard case .number(let x) = try value(name, tensor: tensor, t: t, own: own) else {
            throw ModelMerge.Error(description: "parameter \(name) is not a number for tensor \(tensor)")
        }
        guard let range = MergeConfig.ranges[name], range.contains(x) else {
            throw ModelMerge.Error(description: "parameter \(name) = \(x) for tensor \(tensor) is outside \(MergeConfig.ranges[name].map { "\($0)" } ?? "range")")
        }
        return x
    }

    func flag(_ name: String, tensor: String, t: Double) throws -> Bool {
        guard case .flag(let x) = try value(name, tensor: tensor, t: t, own: [:]) else {
            throw ModelMerge.Error(description: "parameter \(name) is not a boolean for tensor \(tensor)")
        }
        return x
    }

    /// mergekit's evaluate_setting.
    static func evaluate(_ setting: Setting, tensor: String, t: Double) -> Setting.Resolved? {
        switch setting {
        case .number(let x): return .number(x)
        case .flag(let x): return .flag(x)
        case .gradient(let values):
            guard !values.isEmpty else { return nil }
            let scaled = t * Double(values.count - 1)
            let i0 = Int(scaled), i1 = min(values.count - 1, Int(scaled) + 1)
            let fraction = scaled - Double(i0)
            return .number((1 - fraction) * values[max(0, min(i0, values.count - 1))] + fraction * values[i1])
        case .conditional(let entries):
            for entry in entries where entry.filter == nil || entry.filter == "*" || tensor.contains(entry.filter!) {
                return evaluate(entry.value, tensor: tensor, t: t)
            }
            return nil
        }
    }
}

extension MergeConfig.Setting {
    /// A resolved value: a number or a boolean.
    enum Resolved: Equatable { case number(Double), flag(Bool) }
}

/// A configuration problem, naming the file and field.
public struct MergeConfigError: Error, CustomStringConvertible, Equatable {
    public let file: String, field: String, problem: String
    public var description: String { "\(file): \(field): \(problem)" }
}
