// HFConfig+Keys — typed, error-naming access to the keys of a config.json object.
//
// What this file teaches: turning loosely typed JSON into checked Swift values in one place, so
// every config struct reads like a list of keys (`try keys.positive("n_embd")`) and every failure
// says which key of which file is wrong and why.
//
// What it leaves out: arrays and deeper nesting than one level (no supported key needs them).

import Foundation

/// A JSON value type a config key can hold.
protocol ConfigValue {
    /// How the expected type is described in errors ("an integer", …).
    static var expectation: String { get }
    /// The value, or nil if `json` has another type.
    init?(json: StrictJSON)
}

extension Int: ConfigValue {
    static var expectation: String { "an integer" }
    /// Integers only: `32` converts, `32.0`, `3e1` and out-of-range literals do not.
    init?(json: StrictJSON) {
        guard case .number(let text) = json, let value = Int(text) else { return nil }
        self = value
    }
}

extension Double: ConfigValue {
    static var expectation: String { "a finite number" }
    /// Finite numbers only: `1e309` parses to infinity in Double and is refused.
    init?(json: StrictJSON) {
        guard case .number(let text) = json, let value = Double(text), value.isFinite else { return nil }
        self = value
    }
}

extension Float: ConfigValue {
    static var expectation: String { "a number within Float range (|x| < 3.4e38)" }
    /// Finite after rounding to Float: `1e39` fits a Double but becomes Float infinity, so it is refused.
    /// (Values that round to 0, such as `1e-300`, are caught by the range checks of the keys that need > 0.)
    init?(json: StrictJSON) {
        guard let value = Double(json: json), Float(value).isFinite else { return nil }
        self = Float(value)
    }
}

extension String: ConfigValue {
    static var expectation: String { "a string" }
    init?(json: StrictJSON) {
        guard case .string(let text) = json else { return nil }
        self = text
    }
}

extension Bool: ConfigValue {
    static var expectation: String { "true or false" }
    init?(json: StrictJSON) {
        guard case .bool(let flag) = json else { return nil }
        self = flag
    }
}

/// The members of one JSON object of a config file, with the file name for error messages.
struct ConfigKeys {
    /// Path or name of the file, for errors.
    let file: String
    /// Prefix naming the enclosing object in errors, e.g. "rope_parameters.".
    let prefix: String
    private let members: [String: StrictJSON]

    /// Parses `json`, which must be an object without duplicate keys.
    init(json: Data, file: String) throws {
        let value: StrictJSON
        do {
            // A UTF-8 byte-order mark (some Windows editors write one) is not JSON: skip it.
            let bytes = Array(json)
            value = try StrictJSONParser.parse(bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? Array(bytes.dropFirst(3)) : bytes)
        } catch .invalidJSON(let reason) {
            throw HFConfig.Error.invalidJSON(file: file, reason: reason)
        } catch {
            throw HFConfig.Error.invalidJSON(file: file, reason: "\(error)")
        }
        try self.init(value, file: file, prefix: "")
    }

    private init(_ value: StrictJSON, file: String, prefix: String) throws {
        guard case .object(let pairs) = value else {
            throw HFConfig.Error.invalidJSON(file: file, reason: "\(prefix.isEmpty ? "top level" : prefix) is not an object")
        }
        var members: [String: StrictJSON] = [:]
        for (key, value) in pairs {
            guard members[key] == nil else { throw HFConfig.Error.invalidJSON(file: file, reason: "duplicate key '\(prefix)\(key)'") }
            members[key] = value
        }
        self.file = file
        self.prefix = prefix
        self.members = members
    }

    /// The raw value of `key`, if present.
    func value(_ key: String) -> StrictJSON? { members[key] }

    /// The value of `key`; throws `missingKey` if absent or null, `wrongType` if mistyped.
    func required<Value: ConfigValue>(_ key: String) throws -> Value {
        guard let value: Value = try optional(key) else { throw HFConfig.Error.missingKey(prefix + key, file: file) }
        return value
    }

    /// The value of `key`, or nil if absent or null; throws `wrongType` if present and mistyped.
    func optional<Value: ConfigValue>(_ key: String) throws -> Value? {
        guard let json = members[key], json != .null else { return nil }
        guard let value = Value(json: json) else {
            throw HFConfig.Error.wrongType(key: prefix + key, expected: Value.expectation, file: file)
        }
        return value
    }

    /// The largest size a config may declare (2³¹ − 1). Every size becomes a tensor dimension whose
    /// bytes must be in the weights file, so nothing real comes close; the bound keeps products such
    /// as 3·C or H·D far from overflowing before the tensors are compared.
    static let maximumSize = Int(Int32.max)

    /// A required integer in 1...`maximumSize`.
    func positive(_ key: String) throws -> Int {
        let value: Int = try required(key)
        try checkSize(value, key)
        return value
    }

    /// An optional integer in 1...`maximumSize` (absent or null gives nil).
    func optionalPositive(_ key: String) throws -> Int? {
        guard let value: Int = try optional(key) else { return nil }
        try checkSize(value, key)
        return value
    }

    private func checkSize(_ value: Int, _ key: String) throws {
        try check(value > 0, key, "must be positive, found \(value)")
        try check(value <= Self.maximumSize, key, "\(value) is larger than any supported size (\(Self.maximumSize))")
    }

    /// A small positive epsilon (a norm's ε): in (0, 1] after rounding to Float.
    func epsilon(_ value: Float, _ key: String) throws {
        try check(value > 0 && value <= 1, key, "must be in (0, 1] as a Float, found \(value)")
    }

    /// The object stored under `key`, or nil if absent or null.
    func nested(_ key: String) throws -> ConfigKeys? {
        guard let json = members[key], json != .null else { return nil }
        guard case .object = json else { throw HFConfig.Error.wrongType(key: prefix + key, expected: "an object", file: file) }
        return try ConfigKeys(json, file: file, prefix: prefix + key + ".")
    }

    /// Throws `invalidValue` for `key` unless `condition` holds.
    func check(_ condition: Bool, _ key: String, _ reason: @autoclosure () -> String) throws {
        guard condition else { throw HFConfig.Error.invalidValue(key: prefix + key, reason: reason(), file: file) }
    }
}
