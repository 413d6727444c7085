// StrictJSON.swift — JSON read without guessing: `true` is not 1, 1.5 is not an id, a missing key is not 0.
//
// Teaches: why a loader should look at JSON through a strict value type. Foundation's
// `JSONSerialization` hands back `Any`, and `value as? Int` happily turns `true` into 1 (and on some
// platforms 1.9 into 1); a tokenizer file with `"id": true` then loads and emits token 1. Decoding into
// an enum with one case per JSON kind keeps booleans, integers and other numbers apart, and the readers
// below name the key path of anything that has the wrong kind. The parser is a small recursive descent over
// the bytes (faster than decoding through `Codable`, and strict: duplicate keys, 1e309, invalid UTF-8 and
// absurd nesting are errors naming the byte offset).
// Leaves out: streaming; files are read whole (tokenizer files are a few MB).
import Foundation

/// One JSON value, with booleans, integers and other numbers kept distinct.
enum JSONValue: Equatable, Sendable {
    case null
    case bool(Bool)
    case integer(Int)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    /// Parses `data` (UTF-8; an optional byte-order mark is skipped); errors name `file` and the byte offset.
    static func parse(_ data: Data, file: String) throws -> JSONValue {
        var parser = JSONParser(bytes: [UInt8](withoutByteOrderMark(data)), file: file)
        return try parser.parseDocument()
    }

    /// `data` without a leading UTF-8 byte-order mark.
    static func withoutByteOrderMark(_ data: Data) -> Data {
        data.starts(with: [0xEF, 0xBB, 0xBF]) ? Data(data.dropFirst(3)) : data
    }

    static func shortDescription(of error: Error) -> String {
        if case DecodingError.dataCorrupted(let context) = error { return context.debugDescription }
        return "\(error)".prefix(200).description
    }

    /// The name of this value's kind, for error messages.
    var kindName: String {
        switch self {
        case .null: return "null"
        case .bool: return "a boolean"
        case .integer: return "an integer"
        case .number: return "a number"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        }
    }
}

/// A recursive-descent JSON parser over UTF-8 bytes (RFC 8259), strict where loaders need it:
/// duplicate keys, numbers that are not finite, invalid UTF-8 and nesting deeper than 512 are errors.
struct JSONParser {
    let bytes: [UInt8]
    let file: String
    var position = 0
    var depth = 0
    static let maximumDepth = 512

    init(bytes: [UInt8], file: String) {
        self.bytes = bytes
        self.file = file
    }

    func fail(_ problem: String) -> TokenizerFileError {
        TokenizerFileError(file: file, problem: "not valid JSON: \(problem) at byte \(position)")
    }

    mutating func parseDocument() throws -> JSONValue {
        let value = try parseValue()
        skipWhitespace()
        guard position == bytes.count else { throw fail("unexpected text after the value") }
        return value
    }

    mutating func skipWhitespace() {
        while position < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[position]) { position += 1 }
    }

    mutating func expect(_ literal: String, _ value: JSONValue) throws -> JSONValue {
        let expected = Array(literal.utf8)
        guard position + expected.count <= bytes.count, bytes[position..<(position + expected.count)].elementsEqual(expected) else {
            throw fail("unknown literal")
        }
        position += expected.count
        return value
    }

    mutating func parseValue() throws -> JSONValue {
        skipWhitespace()
        guard position < bytes.count else { throw fail("unexpected end") }
        switch bytes[position] {
        case UInt8(ascii: "{"): return try nested { try $0.parseObject() }
        case UInt8(ascii: "["): return try nested { try $0.parseArray() }
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): return try expect("true", .bool(true))
        case UInt8(ascii: "f"): return try expect("false", .bool(false))
        case UInt8(ascii: "n"): return try expect("null", .null)
        default: return try parseNumber()
        }
    }

    mutating func nested(_ body: (inout JSONParser) throws -> JSONValue) throws -> JSONValue {
        depth += 1
        defer { depth -= 1 }
        guard depth <= Self.maximumDepth else { throw fail("nesting deeper than \(Self.maximumDepth)") }
        return try body(&self)
    }

    mutating func parseObject() throws -> JSONValue {
        position += 1                                   // "{"
        var object: [String: JSONValue] = [:]
        skipWhitespace()
        if position < bytes.count && bytes[position] == UInt8(ascii: "}") { position += 1; return .object(object) }
        while true {
            skipWhitespace()
            guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else { throw fail("expected a key") }
            let key = try parseString()
            skipWhitespace()
            guard position < bytes.count, bytes[position] == UInt8(ascii: ":") else { throw fail("expected ':'") }
            position += 1
            guard object.updateValue(try parseValue(), forKey: key) == nil else { throw fail("duplicate key \"\(key)\"") }
            skipWhitespace()
            guard position < bytes.count else { throw fail("unterminated object") }
            if bytes[position] == UInt8(ascii: ",") { position += 1; continue }
            guard bytes[position] == UInt8(ascii: "}") else { throw fail("expected ',' or '}'") }
            position += 1
            return .object(object)
        }
    }

    mutating func parseArray() throws -> JSONValue {
        position += 1                                   // "["
        var array: [JSONValue] = []
        skipWhitespace()
        if position < bytes.count && bytes[position] == UInt8(ascii: "]") { position += 1; return .array(array) }
        while true {
            array.append(try parseValue())
            skipWhitespace()
            guard position < bytes.count else { throw fail("unterminated array") }
            if bytes[position] == UInt8(ascii: ",") { position += 1; continue }
            guard bytes[position] == UInt8(ascii: "]") else { throw fail("expected ',' or ']'") }
            position += 1
            return .array(array)
        }
    }

    mutating func parseString() throws -> String {
        position += 1                                   // opening quote
        var utf8: [UInt8] = []
        while position < bytes.count {
            let byte = bytes[position]
            position += 1
            switch byte {
            case UInt8(ascii: "\""):
                guard let text = String(bytes: utf8, encoding: .utf8) else { throw fail("invalid UTF-8 in a string") }
                return text
            case UInt8(ascii: "\\"):
                guard position < bytes.count else { throw fail("unterminated escape") }
                let escape = bytes[position]
                position += 1
                switch escape {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): utf8.append(escape)
                case UInt8(ascii: "b"): utf8.append(0x08)
                case UInt8(ascii: "f"): utf8.append(0x0C)
                case UInt8(ascii: "n"): utf8.append(0x0A)
                case UInt8(ascii: "r"): utf8.append(0x0D)
                case UInt8(ascii: "t"): utf8.append(0x09)
                case UInt8(ascii: "u"): utf8 += try parseUnicodeEscape()
                default: throw fail("unknown escape")
                }
            case 0x00..<0x20: throw fail("control character in a string")
            default: utf8.append(byte)
            }
        }
        throw fail("unterminated string")
    }

    /// After `\u`: four hex digits, and a second `\uXXXX` for a surrogate pair; returns the scalar's UTF-8.
    mutating func parseUnicodeEscape() throws -> [UInt8] {
        func hex4() throws -> UInt32 {
            guard position + 4 <= bytes.count, bytes[position..<(position + 4)].allSatisfy({ Character(Unicode.Scalar($0)).isHexDigit }),
                  let value = UInt32(String(decoding: bytes[position..<(position + 4)], as: UTF8.self), radix: 16) else {
                throw fail("bad \\u escape")
            }
            position += 4
            return value
        }
        var value = try hex4()
        if (0xD800..<0xDC00).contains(value) {
            guard position + 2 <= bytes.count, bytes[position] == UInt8(ascii: "\\"), bytes[position + 1] == UInt8(ascii: "u") else {
                throw fail("unpaired surrogate")
            }
            position += 2
            let low = try hex4()
            guard (0xDC00..<0xE000).contains(low) else { throw fail("unpaired surrogate") }
            value = 0x10000 + ((value - 0xD800) << 10) + (low - 0xDC00)
        }
        guard let scalar = Unicode.Scalar(value) else { throw fail("\\u escape of a lone surrogate") }
        return Array(String(Character(scalar)).utf8)
    }

    /// -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? → an integer when it has no fraction or exponent and fits Int.
    mutating func parseNumber() throws -> JSONValue {
        let start = position
        func digits() -> Int {
            let first = position
            while position < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[position]) { position += 1 }
            return position - first
        }
        if position < bytes.count && bytes[position] == UInt8(ascii: "-") { position += 1 }
        let integerStart = position
        let integerDigits = digits()
        guard integerDigits > 0 else { throw fail("unexpected character") }
        if integerDigits > 1 && bytes[integerStart] == UInt8(ascii: "0") { throw fail("leading zero in a number") }
        var isInteger = true
        if position < bytes.count && bytes[position] == UInt8(ascii: ".") {
            position += 1
            isInteger = false
            guard digits() > 0 else { throw fail("digits expected after '.'") }
        }
        if position < bytes.count && (bytes[position] == UInt8(ascii: "e") || bytes[position] == UInt8(ascii: "E")) {
            position += 1
            isInteger = false
            if position < bytes.count && (bytes[position] == UInt8(ascii: "+") || bytes[position] == UInt8(ascii: "-")) { position += 1 }
            guard digits() > 0 else { throw fail("digits expected in the exponent") }
        }
        let text = String(decoding: bytes[start..<position], as: UTF8.self)
        if isInteger, let integer = Int(text) { return .integer(integer) }
        guard let number = Double(text), number.isFinite else { throw fail("number \(text) is not representable") }
        return .number(number)
    }
}

/// Reads typed fields out of a `JSONValue`, throwing `TokenizerFileError`s that name the file and key path.
struct JSONFields {
    let file: String

    func fail(_ path: String, _ problem: String) -> TokenizerFileError {
        TokenizerFileError(file: file, problem: "\(path) \(problem)")
    }

    func object(_ value: JSONValue?, _ path: String) throws -> [String: JSONValue] {
        guard case .object(let object)? = value else { throw fail(path, "must be an object, got \(value?.kindName ?? "nothing")") }
        return object
    }

    func array(_ value: JSONValue?, _ path: String) throws -> [JSONValue] {
        guard case .array(let array)? = value else { throw fail(path, "must be an array, got \(value?.kindName ?? "nothing")") }
        return array
    }

    func string(_ value: JSONValue?, _ path: String) throws -> String {
        guard case .string(let string)? = value else { throw fail(path, "must be a string, got \(value?.kindName ?? "nothing")") }
        return string
    }

    /// A boolean, or `absent` when the key is missing or null.
    func bool(_ value: JSONValue?, _ path: String, absent: Bool) throws -> Bool {
        switch value {
        case nil, .null?: return absent
        case .bool(let flag)?: return flag
        case let other?: throw fail(path, "must be true or false, got \(other.kindName)")
        }
    }

    /// A token id: an integer in 0..<`TokenizerLimits.maximumTokenID`.
    func tokenID(_ value: JSONValue?, _ path: String) throws -> Int {
        guard case .integer(let id)? = value else { throw fail(path, "must be an integer token id, got \(value?.kindName ?? "nothing")") }
        guard id >= 0 && id < TokenizerLimits.maximumTokenID else {
            throw fail(path, "is \(id), outside 0..<\(TokenizerLimits.maximumTokenID)")
        }
        return id
    }
}

/// Bounds every tokenizer loader enforces.
public enum TokenizerLimits {
    /// Ids must be below this (16M; the largest real vocabularies are ~260k). Larger ids are refused
    /// so `vocabularySize` never overflows and an embedding table is never sized by a corrupt file.
    public static let maximumTokenID = 1 << 24
}
