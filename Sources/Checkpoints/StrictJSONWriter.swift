// StrictJSONWriter.swift — a serde_json-compatible JSON writer (safetensors headers), and the parsing rules
// of the formats this module reads.
//
// What this file teaches: byte-identical files need the writer's exact conventions. The writer emits what
// Rust's serde_json emits for the reference crate (compact, no spaces, minimal string escapes), which is
// what makes our safetensors files byte-identical to Python's. Reading goes through the project's one
// strict parser (Sources/StrictJSONParsing): it keeps every key in order, duplicates included, and every
// number as its literal text, so SafeTensors+Reader.swift can say "tensor 'x' is named twice" or "shape
// entry 2.5 is not an integer", and HFConfig+Keys.swift never mistakes `true` for `1`.
//
// What it leaves out: pretty-printing; nesting deeper than 64 is refused when reading (headers and
// configs are shallow), which keeps the recursion bounded.

import Foundation
import StrictJSONParsing

// MARK: - Reading

extension SafeTensors {
    /// Parses one JSON document of a header or config (depth ≤ 64, duplicate keys kept in order for the
    /// caller to refuse by name); syntax errors become `.invalidJSON` naming the byte offset.
    static func parseJSON(_ bytes: [UInt8]) throws(SafeTensors.Error) -> StrictJSON {
        do {
            return try StrictJSONParser.parse(bytes, options: StrictJSONParser.Options(maximumDepth: 64))
        } catch {
            throw .invalidJSON(reason: error.description)
        }
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
