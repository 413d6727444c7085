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
    static var expectation: String { "a number" }
    init?(json: StrictJSON) {
        guard case .number(let text) = json, let value = Double(text) else { return nil }
        self = value
    }
}

extension Float: ConfigValue {
    static var expectation: String { "a number" }
    init?(json: StrictJSON) {
        guard let value = Double(json: json) else { return nil }
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
            value = try StrictJSONParser.parse(Array(json))
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

    /// A required integer ≥ 1.
    func positive(_ key: String) throws -> Int {
        let value: Int = try required(key)
        try check(value > 0, key, "must be positive, found \(value)")
        return value
    }

    /// An optional integer ≥ 1 (absent or null gives nil).
    func optionalPositive(_ key: String) throws -> Int? {
        guard let value: Int = try optional(key) else { return nil }
        try check(value > 0, key, "must be positive, found \(value)")
        return value
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
