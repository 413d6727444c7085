// StrictJSON.swift — JSON read without guessing: `true` is not 1, 1.5 is not an id, a missing key is not 0.
//
// Teaches: why a loader should look at JSON through a strict value type. Foundation's
// `JSONSerialization` hands back `Any`, and `value as? Int` happily turns `true` into 1 (and on some
// platforms 1.9 into 1); a tokenizer file with `"id": true` then loads and emits token 1. Decoding into
// an enum with one case per JSON kind keeps booleans, integers and other numbers apart, and the readers
// below name the key path of anything that has the wrong kind. The bytes are parsed by the project's one
// strict parser (Sources/StrictJSONParsing: duplicate keys, 1e309, invalid UTF-8 and absurd nesting are
// errors naming the byte offset); this file turns its tree into typed values.
// Leaves out: streaming; files are read whole (tokenizer files are a few MB).
import Foundation
import StrictJSONParsing

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
    /// Tokenizer files are read with the strictest options: duplicate keys and numbers beyond Double
    /// (1e309) are errors, nesting is bounded at 512.
    static func parse(_ data: Data, file: String) throws -> JSONValue {
        let options = StrictJSONParser.Options(maximumDepth: 512, rejectsDuplicateKeys: true, rejectsUnrepresentableNumbers: true)
        do {
            return JSONValue(try StrictJSONParser.parse([UInt8](withoutByteOrderMark(data)), options: options))
        } catch {
            throw TokenizerFileError(file: file, problem: "not valid JSON: \(error)")
        }
    }

    /// The typed view of a parsed value: a number is an integer when its literal is one and fits `Int`,
    /// otherwise a Double (finite: the parser refused the rest); keys are unique (the parser refused duplicates).
    init(_ value: StrictJSON) {
        switch value {
        case .null: self = .null
        case .bool(let flag): self = .bool(flag)
        case .number(let text): self = value.integerValue.map(JSONValue.integer) ?? .number(Double(text) ?? .nan)
        case .string(let text): self = .string(text)
        case .array(let elements): self = .array(elements.map(JSONValue.init))
        case .object(let members):
            self = .object(Dictionary(members.map { ($0.key, JSONValue($0.value)) }, uniquingKeysWith: { first, _ in first }))
        }
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
