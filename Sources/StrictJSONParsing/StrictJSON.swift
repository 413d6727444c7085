// StrictJSON.swift — one strict JSON reader for every file format the project reads (tokenizer files,
// safetensors headers, HF config.json), with no dependencies.
//
// Teaches: why a format reader wants its own JSON parser. Foundation's `JSONSerialization` hands back
// `Any`: `value as? Int` turns `true` into 1, `2.0`, `2` and `2e0` become the same NSNumber, and of two
// duplicate keys the last silently wins — so a loader cannot say "tensor 'x' is named twice", "shape entry
// 2.5 is not an integer" or "`id` must be an integer, got a boolean". This reader keeps object members in
// file order (duplicates included, unless the caller refuses them), every number as its literal text,
// booleans apart from numbers, and names the byte offset of every syntax error; each module's own
// validation then decides what is acceptable. It is a recursive descent over the UTF-8 bytes (RFC 8259),
// strict everywhere: invalid UTF-8, control characters in strings, lone surrogates, leading zeros and
// nesting deeper than a bound are errors.
// Leaves out: writing JSON (the safetensors writer lives with its format in Checkpoints), streaming
// (files are read whole), and a byte-order mark (callers strip one: it is not JSON).

/// A parsed JSON value: object members in file order (duplicates kept unless refused), numbers as text.
public enum StrictJSON: Equatable, Sendable {
    case object([(key: String, value: StrictJSON)])
    case array([StrictJSON])
    case string(String)
    /// The number's literal text, e.g. `"12"`, `"-3"`, `"2.5e3"`.
    case number(String)
    case bool(Bool)
    case null

    public static func == (lhs: StrictJSON, rhs: StrictJSON) -> Bool {
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

    /// A short name of the value's kind, for error messages ("object", "number", "boolean", …).
    public var kind: String {
        switch self {
        case .object: return "object"
        case .array: return "array"
        case .string: return "string"
        case .number: return "number"
        case .bool: return "boolean"
        case .null: return "null"
        }
    }

    /// The literal of a number that is an integer in JSON's grammar (no fraction, no exponent) and fits
    /// `Int`, e.g. `"-3"` → −3; nil for `"3.0"`, `"3e0"`, anything too large, and non-numbers.
    public var integerValue: Int? {
        guard case .number(let text) = self, !text.contains(where: { $0 == "." || $0 == "e" || $0 == "E" }) else { return nil }
        return Int(text)
    }
}

/// A syntax error: what is wrong and the byte offset where the parser found it.
public struct StrictJSONSyntaxError: Error, Equatable, Sendable, CustomStringConvertible {
    /// What is wrong, e.g. "expected a key".
    public let problem: String
    /// Bytes from the start of the parsed buffer.
    public let offset: Int
    /// "\(problem) at byte \(offset)".
    public var description: String { "\(problem) at byte \(offset)" }
}

/// A recursive-descent parser over UTF-8 bytes (RFC 8259 grammar).
public struct StrictJSONParser {
    /// How strict to be beyond the grammar.
    public struct Options: Sendable {
        /// A value inside this many enclosing arrays and objects is refused (bounds the recursion).
        public var maximumDepth: Int
        /// Refuse an object that names a key twice (else both members are kept, in order).
        public var rejectsDuplicateKeys: Bool
        /// Refuse a number whose value is not a finite Double (1e309), checked as it is read.
        public var rejectsUnrepresentableNumbers: Bool

        /// Options; by default only the grammar and the depth bound are enforced.
        public init(maximumDepth: Int = 64, rejectsDuplicateKeys: Bool = false, rejectsUnrepresentableNumbers: Bool = false) {
            (self.maximumDepth, self.rejectsDuplicateKeys, self.rejectsUnrepresentableNumbers) =
                (maximumDepth, rejectsDuplicateKeys, rejectsUnrepresentableNumbers)
        }
    }

    private let bytes: [UInt8]
    private let options: Options
    private var position = 0

    /// Parses one JSON document; whitespace (space, tab, newline, carriage return) may surround it.
    public static func parse(_ bytes: [UInt8], options: Options = Options()) throws(StrictJSONSyntaxError) -> StrictJSON {
        var parser = StrictJSONParser(bytes: bytes, options: options)
        let value = try parser.parseValue(depth: 0)
        parser.skipWhitespace()
        guard parser.position == bytes.count else { throw parser.failure("unexpected text after the value") }
        return value
    }

    private init(bytes: [UInt8], options: Options) { (self.bytes, self.options) = (bytes, options) }

    private func failure(_ problem: String) -> StrictJSONSyntaxError { StrictJSONSyntaxError(problem: problem, offset: position) }

    private mutating func skipWhitespace() {
        while position < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[position]) { position += 1 }
    }

    private mutating func expect(_ literal: String) throws(StrictJSONSyntaxError) {
        for byte in literal.utf8 {
            guard position < bytes.count, bytes[position] == byte else { throw failure("expected '\(literal)'") }
            position += 1
        }
    }

    private mutating func parseValue(depth: Int) throws(StrictJSONSyntaxError) -> StrictJSON {
        guard depth < options.maximumDepth else { throw failure("nesting deeper than \(options.maximumDepth)") }
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

    private mutating func parseObject(depth: Int) throws(StrictJSONSyntaxError) -> StrictJSON {
        position += 1  // '{'
        var members: [(key: String, value: StrictJSON)] = []
        var seen = Set<String>()
        skipWhitespace()
        if position < bytes.count, bytes[position] == UInt8(ascii: "}") { position += 1; return .object(members) }
        while true {
            skipWhitespace()
            guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else { throw failure("expected a key") }
            let key = try parseString()
            skipWhitespace()
            try expect(":")
            members.append((key, try parseValue(depth: depth + 1)))
            if options.rejectsDuplicateKeys { guard seen.insert(key).inserted else { throw failure("duplicate key \"\(key)\"") } }
            skipWhitespace()
            guard position < bytes.count else { throw failure("unterminated object") }
            if bytes[position] == UInt8(ascii: ",") { position += 1; continue }
            if bytes[position] == UInt8(ascii: "}") { position += 1; return .object(members) }
            throw failure("expected ',' or '}'")
        }
    }

    private mutating func parseArray(depth: Int) throws(StrictJSONSyntaxError) -> StrictJSON {
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

    /// Parses `"..."` with escapes, including `\uXXXX` surrogate pairs; the bytes must be valid UTF-8.
    private mutating func parseString() throws(StrictJSONSyntaxError) -> String {
        position += 1  // opening quote
        var utf8: [UInt8] = []
        while true {
            guard position < bytes.count else { throw failure("unterminated string") }
            let byte = bytes[position]
            position += 1
            switch byte {
            case UInt8(ascii: "\""):
                guard let text = String(validating: utf8, as: UTF8.self) else { throw failure("invalid UTF-8 in a string") }
                return text
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
                throw failure("control character in a string")
            default:
                utf8.append(byte)
            }
        }
    }

    private mutating func parseHex4() throws(StrictJSONSyntaxError) -> UInt32 {
        // Exactly four hex digits (UInt32(_:radix:) alone would also accept a sign).
        guard position + 4 <= bytes.count,
              bytes[position..<position + 4].allSatisfy({ UInt8(ascii: "0")...UInt8(ascii: "9") ~= $0
                  || UInt8(ascii: "a")...UInt8(ascii: "f") ~= $0 || UInt8(ascii: "A")...UInt8(ascii: "F") ~= $0 }),
              let value = UInt32(String(decoding: bytes[position..<position + 4], as: UTF8.self), radix: 16)
        else { throw failure("invalid \\u escape") }
        position += 4
        return value
    }

    /// `\uXXXX` (after the `u`), joining a high and a low surrogate into one scalar; returns its UTF-8.
    private mutating func parseUnicodeEscape() throws(StrictJSONSyntaxError) -> [UInt8] {
        var scalar = try parseHex4()
        if (0xD800..<0xDC00).contains(scalar) {
            guard position + 2 <= bytes.count, bytes[position] == UInt8(ascii: "\\"), bytes[position + 1] == UInt8(ascii: "u") else {
                throw failure("unpaired surrogate")
            }
            position += 2
            let low = try parseHex4()
            guard (0xDC00..<0xE000).contains(low) else { throw failure("unpaired surrogate") }
            scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
        }
        guard let unicode = Unicode.Scalar(scalar) else { throw failure("\\u escape of a lone surrogate") }
        return Array(String(Character(unicode)).utf8)
    }

    /// Keeps the literal text of `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`.
    private mutating func parseNumber() throws(StrictJSONSyntaxError) -> String {
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
        guard integerDigits == 1 || bytes[integerStart] != UInt8(ascii: "0") else { throw failure("leading zero in a number") }
        if position < bytes.count, bytes[position] == UInt8(ascii: ".") {
            position += 1
            guard digits(&position, bytes) > 0 else { throw failure("digits expected after '.'") }
        }
        if position < bytes.count, bytes[position] == UInt8(ascii: "e") || bytes[position] == UInt8(ascii: "E") {
            position += 1
            if position < bytes.count, bytes[position] == UInt8(ascii: "+") || bytes[position] == UInt8(ascii: "-") {
                position += 1
            }
            guard digits(&position, bytes) > 0 else { throw failure("digits expected in the exponent") }
        }
        let text = String(decoding: bytes[start..<position], as: UTF8.self)
        if options.rejectsUnrepresentableNumbers {
            guard let value = Double(text), value.isFinite else { throw failure("number \(text) is not representable") }
        }
        return text
    }
}
