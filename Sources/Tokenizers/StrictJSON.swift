// StrictJSON.swift — JSON read without guessing: `true` is not 1, 1.5 is not an id, a missing key is not 0.
//
// Teaches: why a loader should look at JSON through a strict value type. Foundation's
// `JSONSerialization` hands back `Any`, and `value as? Int` happily turns `true` into 1 (and on some
// platforms 1.9 into 1); a tokenizer file with `"id": true` then loads and emits token 1. Decoding into
// an enum with one case per JSON kind keeps booleans, integers and other numbers apart, and the readers
// below name the key path of anything that has the wrong kind. Numbers that do not fit (1e309) and
// nesting deeper than the decoder allows are thrown by `JSONDecoder` itself.
// Leaves out: streaming; files are read whole (tokenizer files are a few MB).
import Foundation

/// One JSON value, with booleans, integers and other numbers kept distinct.
enum JSONValue: Decodable, Equatable, Sendable {
    case null
    case bool(Bool)
    case integer(Int)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        // The order matters: a JSON boolean never decodes as a number, an integral number decodes as Int.
        if container.decodeNil() { self = .null }
        else if let value = try? container.decode(Bool.self) { self = .bool(value) }
        else if let value = try? container.decode(Int.self) { self = .integer(value) }
        else if let value = try? container.decode(Double.self) { self = .number(value) }
        else if let value = try? container.decode(String.self) { self = .string(value) }
        else if let value = try? container.decode([JSONValue].self) { self = .array(value) }
        else { self = .object(try container.decode([String: JSONValue].self)) }
    }

    /// Parses `data` (UTF-8, an optional byte-order mark is skipped); errors name `file`.
    static func parse(_ data: Data, file: String) throws -> JSONValue {
        let bom = Data([0xEF, 0xBB, 0xBF])
        let body = data.starts(with: bom) ? data.dropFirst(3) : data
        do { return try JSONDecoder().decode(JSONValue.self, from: Data(body)) } catch {
            throw TokenizerFileError(file: file, problem: "not valid JSON (\(Self.shortDescription(of: error)))")
        }
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
