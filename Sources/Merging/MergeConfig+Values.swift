// MergeConfig+Values.swift — reading one parameter value of a merge config, strictly.
//
// Teaches: JSONSerialization hands back NSNumber for `true`, `1` and `1.0` alike, so a reader that
// asks "is this a Double?" accepts `true` as 1 and a string weight as "missing" (then a default).
// Here a boolean parameter must be a JSON boolean, a numeric one a finite JSON number in range (or a
// gradient list of them, or a list of filter entries), and anything else is an error naming the field.
// Leaves out: YAML (mergekit's own format); convert it to JSON first.
import Foundation

extension MergeConfig {
    /// Parses the setting of parameter `name` at `field`.
    static func setting(_ raw: Any, name: String, field: String, file: String) throws -> Setting {
        func fail(_ problem: String) -> MergeConfigError { MergeConfigError(file: file, field: field, problem: problem) }
        if booleans.contains(name) {
            guard isBoolean(raw), let flag = raw as? Bool else { throw fail("must be true or false, got \(show(raw))") }
            return .flag(flag)
        }
        if let number = raw as? NSNumber, !isBoolean(raw) {
            return .number(try checked(number.doubleValue, name: name, fail))
        }
        if let list = raw as? [Any], !list.isEmpty {
            let entries = list.compactMap { $0 as? [String: Any] }
            if entries.count == list.count {
                return .conditional(try entries.enumerated().map { index, entry in
                    if let extra = entry.keys.sorted().first(where: { $0 != "filter" && $0 != "value" }) {
                        throw MergeConfigError(file: file, field: "\(field)[\(index)].\(extra)", problem: "unknown field")
                    }
                    guard let value = entry["value"] else { throw MergeConfigError(file: file, field: "\(field)[\(index)].value", problem: "missing") }
                    let filter: String?
                    switch entry["filter"] {
                    case nil, is NSNull: filter = nil
                    case let text as String: filter = text
                    case let other: throw MergeConfigError(file: file, field: "\(field)[\(index)].filter", problem: "must be a string, got \(show(other))")
                    }
                    return Conditional(filter: filter, value: try setting(value, name: name, field: "\(field)[\(index)].value", file: file))
                })
            }
            let numbers = try list.map { item -> Double in
                guard let number = item as? NSNumber, !isBoolean(item) else { throw fail("a gradient must be a list of numbers, got \(show(item))") }
                return try checked(number.doubleValue, name: name, fail)
            }
            return .gradient(numbers)
        }
        throw fail("must be a number, a list of numbers (a gradient) or a list of {filter, value}, got \(show(raw))")
    }

    /// `x` if it lies in the parameter's range.
    static func checked(_ x: Double, name: String, _ fail: (String) -> MergeConfigError) throws -> Double {
        guard x.isFinite, let range = ranges[name], range.contains(x) else {
            throw fail("\(x) is outside \(ranges[name].map { "\($0.lowerBound)...\($0.upperBound)" } ?? "the finite numbers")")
        }
        return x
    }

    static func isBoolean(_ value: Any?) -> Bool {
        guard let number = value as? NSNumber else { return false }
        return String(cString: number.objCType) == "c"
    }

    /// An exact JSON integer (not a boolean, not 2.5), if `value` is one.
    static func integer(_ value: Any?) -> Int? {
        guard let number = value as? NSNumber, !isBoolean(value), !"fd".contains(String(cString: number.objCType)),
              let int = value as? Int else { return nil }
        return int
    }

    static func show(_ value: Any?) -> String {
        guard let value, !(value is NSNull) else { return "null" }
        if isBoolean(value) { return (value as? Bool) == true ? "true" : "false" }
        if let text = value as? String { return "\"\(text.prefix(60))\"" }
        return String(String(describing: value).prefix(60))
    }
}
