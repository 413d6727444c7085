// StrictJSON — a small strict JSON reader (safetensors headers, HF config.json) and a
// serde_json-compatible writer (safetensors headers).
//
// What this file teaches: why a format reader sometimes wants its own JSON parser. Foundation's
// JSONSerialization silently keeps the last of two duplicate keys and turns `2.0`, `2` and `2e0`
// into the same NSNumber, so it cannot tell us "tensor 'x' is named twice" or "shape entry 2.5 is
// not an integer". This reader keeps every key in order and every number as its literal text;
// the validation in SafeTensors+Reader.swift then decides what is acceptable. HFConfig.swift uses
// the same reader so that `true` is never mistaken for `1` and `32.5` never for a layer count.
//
// The writer emits exactly what Rust's serde_json emits for the reference crate (compact, no
// spaces, minimal string escapes), which is what makes our files byte-identical to Python's.
//
// What it leaves out: JSON features headers never need are still parsed (nested arrays, true,
// false, null) but not optimised; nesting depth is capped at 64 to keep recursion bounded.

import Foundation

/// A parsed JSON value that keeps object keys in file order (duplicates included) and numbers as text.
enum StrictJSON: Equatable {
    case object([(key: String, value: StrictJSON)])
    case array([StrictJSON])
    case string(String)
    /// The number's literal text, e.g. `"12"`, `"-3"`, `"2.5e3"`.
    case number(String)
    case bool(Bool)
    case null

    static func == (lhs: StrictJSON, rhs: StrictJSON) -> Bool {
        switch (lhs, rhs) {
        case (.object(let a), .object(let b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.key == $1.key && $0.value == $1.value }
        case (.array(let a), .array(let b)): return a == b
        case (.string(let a), .string(let b)): return a == b
        case (.number(let a), .number(let b)): return a == b
        case (.bool(let a), .bool(let b)): return a == b
        case (.null, .null): return true
        default: return false
        }
    }

    /// A short name of the value's kind, for error messages.
    var kind: String {
        switch self {
        case .object: return "object"
        case .array: return "array"
        case .string: return "string"
        case .number: return "number"
        case .bool: return "boolean"
        case .null: return "null"
        }
    }
}

// MARK: - Reading

/// Recursive-descent parser over UTF-8 bytes (RFC 8259 grammar).
struct StrictJSONParser {
    private let bytes: [UInt8]
    private var position = 0
    private static let maximumDepth = 64

    /// Parses one JSON document; trailing spaces/tabs/newlines are allowed (headers are space-padded).
    static func parse(_ bytes: [UInt8]) throws(SafeTensors.Error) -> StrictJSON {
        var parser = StrictJSONParser(bytes: bytes)
        let value = try parser.parseValue(depth: 0)
        parser.skipWhitespace()
        guard parser.position == bytes.count else { throw parser.failure("trailing characters") }
        return value
    }

    private init(bytes: [UInt8]) { self.bytes = bytes }

    private func failure(_ what: String) -> SafeTensors.Error {
        .invalidJSON(reason: "\(what) at byte \(position)")
    }

    private mutating func skipWhitespace() {
        while position < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[position]) { position += 1 }
    }

    private mutating func expect(_ literal: String) throws(SafeTensors.Error) {
        for byte in literal.utf8 {
            guard position < bytes.count, bytes[position] == byte else { throw failure("expected '\(literal)'") }
            position += 1
        }
    }

    private mutating func parseValue(depth: Int) throws(SafeTensors.Error) -> StrictJSON {
        guard depth < Self.maximumDepth else { throw failure("nesting deeper than \(Self.maximumDepth)") }
        skipWhitespace()
        guard position < bytes.count else { throw failure("unexpected end") }
        switch bytes[position] {
        case UInt8(ascii: "{"): return try parseObject(depth: depth)
        case UInt8(ascii: "["): return try parseArray(depth: depth)
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try expect("true"); return .bool(true)
        case UInt8(ascii: "f"): try expect("false"); return .bool(false)
        case UInt8(ascii: "n"): try expect("null"); return .null
        default: return .number(try parseNumber())
        }
    }

    private mutating func parseObject(depth: Int) throws(SafeTensors.Error) -> StrictJSON {
        position += 1  // '{'
        var members: [(key: String, value: StrictJSON)] = []
        skipWhitespace()
        if position < bytes.count, bytes[position] == UInt8(ascii: "}") { position += 1; return .object(members) }
        while true {
            skipWhitespace()
            guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else { throw failure("expected a key") }
            let key = try parseString()
            skipWhitespace()
            try expect(":")
            members.append((key, try parseValue(depth: depth + 1)))
            skipWhitespace()
            guard position < bytes.count else { throw failure("unterminated object") }
            if bytes[position] == UInt8(ascii: ",") { position += 1; continue }
            if bytes[position] == UInt8(ascii: "}") { position += 1; return .object(members) }
            throw failure("expected ',' or '}'")
        }
    }

    private mutating func parseArray(depth: Int) throws(SafeTensors.Error) -> StrictJSON {
        position += 1  // '['
        var elements: [StrictJSON] = []
        skipWhitespace()
        if position < bytes.count, bytes[position] == UInt8(ascii: "]") { position += 1; return .array(elements) }
        while true {
            elements.append(try parseValue(depth: depth + 1))
            skipWhitespace()
            guard position < bytes.count else { throw failure("unterminated array") }
            if bytes[position] == UInt8(ascii: ",") { position += 1; continue }
            if bytes[position] == UInt8(ascii: "]") { position += 1; return .array(elements) }
            throw failure("expected ',' or ']'")
        }
    }

    /// Parses `"..."` with escapes, including `\uXXXX` surrogate pairs. The input is already known
    /// to be valid UTF-8, so raw bytes are copied and decoded once at the end.
    private mutating func parseString() throws(SafeTensors.Error) -> String {
        position += 1  // opening quote
        var utf8: [UInt8] = []
        while true {
            guard position < bytes.count else { throw failure("unterminated string") }
            let byte = bytes[position]
            position += 1
            switch byte {
            case UInt8(ascii: "\""):
                return String(decoding: utf8, as: UTF8.self)
            case UInt8(ascii: "\\"):
                guard position < bytes.count else { throw failure("unterminated escape") }
                let escape = bytes[position]
                position += 1
                switch escape {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): utf8.append(escape)
                case UInt8(ascii: "b"): utf8.append(0x08)
                case UInt8(ascii: "f"): utf8.append(0x0C)
                case UInt8(ascii: "n"): utf8.append(0x0A)
                case UInt8(ascii: "r"): utf8.append(0x0D)
                case UInt8(ascii: "t"): utf8.append(0x09)
                case UInt8(ascii: "u"): utf8.append(contentsOf: try parseUnicodeEscape())
                default: throw failure("invalid escape")
                }
            case 0x00..<0x20:
                throw failure("control character in string")
            default:
                utf8.append(byte)
            }
        }
    }

    private mutating func parseHex4() throws(SafeTensors.Error) -> UInt32 {
        // Exactly four hex digits (UInt32(_:radix:) alone would also accept a sign).
        guard position + 4 <= bytes.count,
              bytes[position..<position + 4].allSatisfy({ UInt8(ascii: "0")...UInt8(ascii: "9") ~= $0
                  || UInt8(ascii: "a")...UInt8(ascii: "f") ~= $0 || UInt8(ascii: "A")...UInt8(ascii: "F") ~= $0 }),
              let value = UInt32(String(decoding: bytes[position..<position + 4], as: UTF8.self), radix: 16)
        else { throw failure("invalid \\u escape") }
        position += 4
        return value
    }

    /// `\uXXXX` (after the `u`), joining a high and a low surrogate into one scalar.
    private mutating func parseUnicodeEscape() throws(SafeTensors.Error) -> [UInt8] {
        var scalar = try parseHex4()
        if (0xD800..<0xDC00).contains(scalar) {
            try expect("\\u")
            let low = try parseHex4()
            guard (0xDC00..<0xE000).contains(low) else { throw failure("unpaired surrogate") }
            scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
        }
        guard let unicode = Unicode.Scalar(scalar) else { throw failure("invalid code point") }
        return Array(String(Character(unicode)).utf8)
    }

    /// Keeps the literal text of `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`.
    private mutating func parseNumber() throws(SafeTensors.Error) -> String {
        let start = position
        func digits(_ p: inout Int, _ b: [UInt8]) -> Int {
            let s = p
            while p < b.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(b[p]) { p += 1 }
            return p - s
        }
        if position < bytes.count, bytes[position] == UInt8(ascii: "-") { position += 1 }
        let integerStart = position
        let integerDigits = digits(&position, bytes)
        guard integerDigits > 0 else { throw failure("unexpected character") }
        guard integerDigits == 1 || bytes[integerStart] != UInt8(ascii: "0") else { throw failure("leading zero") }
        if position < bytes.count, bytes[position] == UInt8(ascii: ".") {
            position += 1
            guard digits(&position, bytes) > 0 else { throw failure("digit expected after '.'") }
        }
        if position < bytes.count, bytes[position] == UInt8(ascii: "e") || bytes[position] == UInt8(ascii: "E") {
            position += 1
            if position < bytes.count, bytes[position] == UInt8(ascii: "+") || bytes[position] == UInt8(ascii: "-") {
                position += 1
            }
            guard digits(&position, bytes) > 0 else { throw failure("digit expected in exponent") }
        }
        return String(decoding: bytes[start..<position], as: UTF8.self)
    }
}

// MARK: - Writing

/// Emits JSON the way serde_json's compact writer does.
enum StrictJSONWriter {
    /// `"text"` with serde_json's escapes: `\"`, `\\`, `\b \f \n \r \t`, other control
    /// characters as `\u00xx` (lowercase hex); everything else, non-ASCII included, verbatim.
    static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{00}"..."\u{1F}":
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    /// `{"k":v,...}` in the given order.
    static func object(_ members: [(key: String, json: String)]) -> String {
        "{" + members.map { quoted($0.key) + ":" + $0.json }.joined(separator: ",") + "}"
    }

    /// `[1,2,3]`.
    static func integers(_ values: [Int]) -> String {
        "[" + values.map(String.init).joined(separator: ",") + "]"
    }
}
