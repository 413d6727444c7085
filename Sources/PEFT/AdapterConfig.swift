// AdapterConfig.swift — reading PEFT's adapter_config.json, and choosing layers the way PEFT does.
//
// Teaches: which layers an adapter file covers is decided by its config, not its tensors, so a
// loader must reproduce PEFT's rules exactly (peft/tuners/tuners_utils.py `check_target_module_exists`),
// applied to the *transformers* module names ("transformer.h.0.attn.c_attn", "model.layers.0.self_attn.q_proj"):
// - `target_modules` as a list: a module matches when its full name is in the list or ends with
//   "." + an entry ("c_attn", "h.1.mlp.c_proj"); as a single string: a regex that must match the
//   whole name (Python's `re.fullmatch`);
// - `exclude_modules` the same way (list or regex) removes modules again;
// - `layers_to_transform` keeps only modules whose first numbered segment (`….layers.3.…`, or the one
//   after a `layers_pattern`) is listed;
// - `rank_pattern` / `alpha_pattern` give some modules another r or α: the first key k such that the
//   name matches `(.*\.)?(k)$`.
// Every other field either does not change the computed function (dropout, init, task type, …), or
// is refused by name unless it holds its "off" value (null, false, empty) — an ignored field that
// changes the math would make our logits silently differ from PEFT's.
// Leaves out: modules_to_save, LoRA on embeddings, layer replication, trainable tokens (all refused).
import Foundation

/// The validated contents of an adapter_config.json (LoRA only).
struct AdapterConfig {
    /// How `target_modules` / `exclude_modules` select modules.
    enum Selector {
        case names([String])
        case regex(NSRegularExpression, source: String)

        /// PEFT's rule: exact full name or dot-suffix for a list, full match for a regex.
        func matches(_ key: String) -> Bool {
            switch self {
            case .names(let names): return names.contains { key == $0 || key.hasSuffix("." + $0) }
            case .regex(let regex, _): return AdapterConfig.fullMatch(regex, key)
            }
        }

        var summary: String {
            switch self {
            case .names(let names): return "[" + names.joined(separator: ", ") + "]"
            case .regex(_, let source): return "regex \"\(source)\""
            }
        }
    }

    var rank: Int
    var alpha: Double
    var useRSLoRA: Bool
    var useDoRA: Bool
    var targets: Selector
    var exclude: Selector?
    var layersToTransform: [Int]?
    var layersPattern: [String]
    /// (key, value) in file order is lost by JSONSerialization, so ambiguous keys are refused instead.
    var rankPattern: [String: Int]
    var alphaPattern: [String: Double]

    /// Fields we read and honour, or that leave the adapted function unchanged at inference.
    static let understood: Set<String> = [
        "peft_type", "r", "lora_alpha", "use_rslora", "use_dora", "target_modules", "exclude_modules",
        "layers_to_transform", "layers_pattern", "rank_pattern", "alpha_pattern", "bias",
        // No effect on the function the adapter computes once its tensors are loaded:
        "task_type", "base_model_name_or_path", "revision", "inference_mode", "peft_version", "auto_mapping",
        "lora_dropout", "init_lora_weights", "loftq_config", "eva_config", "corda_config", "lora_ga_config",
        "fan_in_fan_out", "megatron_core", "qalora_group_size", "ensure_weight_tying",
    ]
    /// Largest r accepted (PEFT has no limit; beyond this a file is certainly damaged).
    static let maximumRank = 1 << 16

    /// Parses and validates `data`; `file` labels every error.
    init(json data: Data, file: String) throws {
        func fail(_ message: String) -> AdapterFileError { AdapterFileError(description: "\(file): \(message)") }
        guard let object = try? JSONSerialization.jsonObject(with: data), let json = object as? [String: Any] else {
            throw fail("not a JSON object")
        }
        guard let type = json["peft_type"] as? String else { throw fail("field \"peft_type\" missing or not a string") }
        guard type == "LORA" else { throw fail("peft_type \"\(type)\" is not LORA") }
        // Fields that would change the math and that we do not implement: refuse unless "off".
        for key in json.keys.sorted() where !AdapterConfig.understood.contains(key) && !AdapterConfig.isOff(json[key]) {
            throw fail("field \"\(key)\" = \(AdapterConfig.show(json[key])) is not supported (it changes what the adapter computes)")
        }
        if let bias = json["bias"], !(bias is NSNull), (bias as? String) != "none" {
            throw fail("field \"bias\" = \(AdapterConfig.show(bias)) is not supported (only \"none\")")
        }
        let r = try AdapterConfig.integer(json["r"], "r", file: file)
        guard (1...AdapterConfig.maximumRank).contains(r) else { throw fail("field \"r\" = \(r) must be in 1...\(AdapterConfig.maximumRank)") }
        rank = r
        alpha = try AdapterConfig.number(json["lora_alpha"] ?? 8, "lora_alpha", file: file)
        useRSLoRA = try AdapterConfig.flag(json["use_rslora"], "use_rslora", file: file)
        useDoRA = try AdapterConfig.flag(json["use_dora"], "use_dora", file: file)
        guard let targetSpec = try AdapterConfig.selector(json["target_modules"], "target_modules", file: file) else {
            throw fail("field \"target_modules\" missing")
        }
        targets = targetSpec
        exclude = try AdapterConfig.selector(json["exclude_modules"], "exclude_modules", file: file)
        switch json["layers_to_transform"] {
        case nil, is NSNull: layersToTransform = nil
        case let list as [Any]: layersToTransform = try list.map { try AdapterConfig.integer($0, "layers_to_transform", file: file) }
        case let single: layersToTransform = [try AdapterConfig.integer(single, "layers_to_transform", file: file)]
        }
        switch json["layers_pattern"] {
        case nil, is NSNull: layersPattern = []
        case let single as String: layersPattern = [single]
        case let list as [String]: layersPattern = list
        case let other: throw fail("field \"layers_pattern\" = \(AdapterConfig.show(other)) is not a string or a list of strings")
        }
        rankPattern = [:]
        alphaPattern = [:]
        for (key, value) in (json["rank_pattern"] as? [String: Any]) ?? [:] {
            let r = try AdapterConfig.integer(value, "rank_pattern.\(key)", file: file)
            guard (1...AdapterConfig.maximumRank).contains(r) else { throw fail("rank_pattern \"\(key)\" = \(r) must be in 1...\(AdapterConfig.maximumRank)") }
            rankPattern[key] = r
        }
        for (key, value) in (json["alpha_pattern"] as? [String: Any]) ?? [:] {
            alphaPattern[key] = try AdapterConfig.number(value, "alpha_pattern.\(key)", file: file)
        }
        for key in ["rank_pattern", "alpha_pattern"] where !(json[key] == nil || json[key] is NSNull || json[key] is [String: Any]) {
            throw fail("field \"\(key)\" = \(AdapterConfig.show(json[key])) is not an object")
        }
    }

    /// Whether the module with transformers name `key` gets an adapter (PEFT's check_target_module_exists).
    func targets(_ key: String) -> Bool {
        if let exclude, exclude.matches(key) { return false }
        guard targets.matches(key) else { return false }
        // layers_to_transform applies only to list targets, as in PEFT.
        guard case .names = targets, let layers = layersToTransform, !layers.isEmpty else { return true }
        guard let index = layerIndex(of: key) else { return false }
        return layers.contains(index)
    }

    /// The first numbered segment of `key` (after one of `layersPattern` when given).
    func layerIndex(of key: String) -> Int? {
        let patterns = layersPattern.isEmpty ? [#"^.*?\.[^.]*\.(\d+)\."#] : layersPattern.map { #"^(?:.*?\.)?"# + "(?:\($0))" + #"\.(\d+)\."# }
        for pattern in patterns {
            guard let regex = try? NSRegularExpression(pattern: pattern),
                  let match = regex.firstMatch(in: key, range: NSRange(key.startIndex..., in: key)),
                  let range = Range(match.range(at: 1), in: key) else { continue }
            return Int(key[range])
        }
        return nil
    }

    /// r and α for the module `key`: rank_pattern / alpha_pattern keys k with `(.*\.)?(k)$`, else r, α.
    func rankAndAlpha(of key: String, file: String) throws -> (rank: Int, alpha: Double) {
        func lookup<V: Equatable>(_ pattern: [String: V], _ field: String) throws -> V? {
            var found: [(String, V)] = []
            for (k, value) in pattern {
                guard let regex = try? NSRegularExpression(pattern: #"^(.*\.)?("# + k + ")$") else {
                    throw AdapterFileError(description: "\(file): \(field) key \"\(k)\" is not a valid regular expression")
                }
                if AdapterConfig.fullMatch(regex, key) { found.append((k, value)) }
            }
            // PEFT takes the first key in file order; with two matches that disagree, the order matters
            // and JSONSerialization does not keep it, so refuse rather than guess.
            if found.count > 1 && Set(found.map { "\($0.1)" }).count > 1 {
                throw AdapterFileError(description: "\(file): \(field) keys \(found.map(\.0).sorted()) all match \(key) with different values")
            }
            return found.first?.1
        }
        return (try lookup(rankPattern, "rank_pattern") ?? rank, try lookup(alphaPattern, "alpha_pattern") ?? alpha)
    }

    // MARK: - Typed field readers (JSON true is never a number, 2.5 never an integer)

    static func fullMatch(_ regex: NSRegularExpression, _ key: String) -> Bool {
        let whole = NSRange(key.startIndex..., in: key)
        return regex.firstMatch(in: key, options: [.anchored], range: whole).map { $0.range == whole } ?? false
    }

    static func isBoolean(_ value: Any?) -> Bool {
        guard let number = value as? NSNumber else { return false }
        return String(cString: number.objCType) == "c"
    }

    static func integer(_ value: Any?, _ field: String, file: String) throws -> Int {
        guard let number = value as? NSNumber, !isBoolean(value), let int = value as? Int, Double(int) == number.doubleValue,
              !"fd".contains(String(cString: number.objCType)) else {
            throw AdapterFileError(description: "\(file): field \"\(field)\" = \(show(value)) is not an integer")
        }
        return int
    }

    static func number(_ value: Any?, _ field: String, file: String) throws -> Double {
        guard let number = value as? NSNumber, !isBoolean(value), number.doubleValue.isFinite, abs(number.doubleValue) <= 1e6 else {
            throw AdapterFileError(description: "\(file): field \"\(field)\" = \(show(value)) is not a finite number within ±1e6")
        }
        return number.doubleValue
    }

    static func flag(_ value: Any?, _ field: String, file: String) throws -> Bool {
        if value == nil || value is NSNull { return false }
        guard isBoolean(value), let flag = value as? Bool else {
            throw AdapterFileError(description: "\(file): field \"\(field)\" = \(show(value)) is not true or false")
        }
        return flag
    }

    static func selector(_ value: Any?, _ field: String, file: String) throws -> Selector? {
        switch value {
        case nil, is NSNull: return nil
        case let source as String:
            guard let regex = try? NSRegularExpression(pattern: source) else {
                throw AdapterFileError(description: "\(file): field \"\(field)\" = \"\(source)\" is not a valid regular expression")
            }
            return .regex(regex, source: source)
        case let list as [Any]:
            let names = list.compactMap { $0 as? String }
            guard names.count == list.count, !names.isEmpty else {
                throw AdapterFileError(description: "\(file): field \"\(field)\" must be a regex string or a non-empty list of strings")
            }
            return .names(names)
        default:
            throw AdapterFileError(description: "\(file): field \"\(field)\" = \(show(value)) must be a regex string or a list of strings")
        }
    }

    /// null, false, "", [] and {} — the values PEFT writes for a feature that is switched off.
    static func isOff(_ value: Any?) -> Bool {
        switch value {
        case nil, is NSNull: return true
        case let s as String: return s.isEmpty
        case let list as [Any]: return list.isEmpty
        case let object as [String: Any]: return object.isEmpty
        default: return isBoolean(value) && (value as? Bool) == false
        }
    }

    static func show(_ value: Any?) -> String {
        guard let value, !(value is NSNull) else { return "null" }
        if isBoolean(value) { return (value as? Bool) == true ? "true" : "false" }
        if let string = value as? String { return "\"\(string.prefix(60))\"" }
        return String(String(describing: value).prefix(60))
    }
}
