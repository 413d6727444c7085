// JSONLines.swift — the user's own fine-tuning data, one JSON object per line.
//
// Teaches: the two formats fine-tuning tools accept. Completion form:
//   {"prompt": "Translate: chat", "completion": "cat"}
// and chat form:
//   {"messages": [{"role": "system", "content": "..."}, {"role": "user", "content": "..."},
//                 {"role": "assistant", "content": "..."}]}
// A chat is rendered with a chat template (`load`: the plain "<role>: content\n" per turn; `loadRecords`
// keeps the messages for a model's own template, see ChatTemplate+Examples.swift); every assistant turn
// is a response to learn, and everything before it is its prompt. Errors name the file and line. Files
// from Windows editors (CRLF line ends, a UTF-8 byte-order mark) read exactly like LF files.
// Leaves out: tool calls, images, per-example weights in the file.
import Foundation
import Tokenizers

/// A malformed line (or unreadable file), with its location.
public struct JSONLinesError: Error, CustomStringConvertible, Equatable {
    /// The file, 1-based line number (0 for the file as a whole) and what is wrong.
    public let file: String, line: Int, problem: String
    public var description: String { line == 0 ? "\(file): \(problem)" : "\(file):\(line): \(problem)" }
}

/// One line of a JSONL file, as written.
public enum JSONLinesRecord: Sendable, Equatable {
    /// {"prompt": …, "completion": …}: the prompt text is used as is.
    case completion(prompt: String, completion: String)
    /// {"messages": […]}: rendered with a chat template (`ChatTemplate.examples`).
    case chat([ChatMessage])
}

/// Reading and writing JSONL datasets (caseless namespace).
public enum JSONLines {
    /// The chat template: how one turn is rendered (`ChatTemplate.Style.plain`).
    public static func render(role: String, content: String) -> String { "\(role): \(content)\n" }

    /// Parses JSONL text into examples, chats rendered with the plain "role: content" layout (one example
    /// per assistant turn); `file` labels errors. See `parseRecords` for the lines as written.
    public static func parse(_ text: String, file: String = "<memory>") throws -> [SFTExample] {
        try parseRecords(text, file: file).flatMap { ChatTemplate(style: .plain).examples($0) }
    }

    /// Reads and parses a JSONL file into plain-rendered examples.
    public static func load(_ url: URL) throws -> [SFTExample] {
        try parse(try readText(url), file: url.path)
    }

    /// Reads a JSONL file into its records as written, for rendering with a model's own chat template.
    public static func loadRecords(_ url: URL) throws -> [JSONLinesRecord] {
        try parseRecords(try readText(url), file: url.path)
    }

    /// Parses JSONL text into records; blank lines are skipped. Lines may end in LF or CRLF (Windows),
    /// and a leading byte-order mark is ignored. Throws `JSONLinesError` naming the file and line.
    public static func parseRecords(_ text: String, file: String = "<memory>") throws -> [JSONLinesRecord] {
        var records: [JSONLinesRecord] = []
        // Split on the LF *scalar*: in Swift, "\r\n" is a single Character, so splitting the String by
        // the Character "\n" would find no line breaks at all in a CRLF file.
        let body = text.unicodeScalars.first == "\u{FEFF}" ? Substring(text.unicodeScalars.dropFirst()) : Substring(text)
        for (index, rawLine) in body.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = String(String.UnicodeScalarView(rawLine)).trimmingCharacters(in: .whitespacesAndNewlines)
            if line.isEmpty { continue }
            records.append(try parseLine(line, file: file, number: index + 1))
        }
        return records
    }

    /// The file's text (UTF-8), or an error naming it.
    static func readText(_ url: URL) throws -> String {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw JSONLinesError(file: url.path, line: 0, problem: "cannot read the file (\(error.localizedDescription))")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw JSONLinesError(file: url.path, line: 0, problem: "not valid UTF-8")
        }
        return text
    }

    /// The record one line holds (a chat must have an assistant turn to learn).
    static func parseLine(_ line: String, file: String, number: Int) throws -> JSONLinesRecord {
        func fail(_ problem: String) -> JSONLinesError { JSONLinesError(file: file, line: number, problem: problem) }
        let object: Any
        do { object = try JSONSerialization.jsonObject(with: Data(line.utf8)) } catch {
            throw fail("not valid JSON")
        }
        guard let fields = object as? [String: Any] else { throw fail("expected a JSON object") }
        // JSONSerialization keeps one of two equal keys silently; a row with both is ambiguous.
        if let key = duplicateKey(in: line) { throw fail("duplicate key \"\(key)\"") }
        if let messages = fields["messages"] {
            guard let turns = messages as? [Any], !turns.isEmpty else { throw fail("\"messages\" must be a non-empty array") }
            var chat: [ChatMessage] = []
            for (turnIndex, turn) in turns.enumerated() {
                guard let message = turn as? [String: Any] else { throw fail("messages[\(turnIndex)] is not an object") }
                guard let role = message["role"] as? String else { throw fail("messages[\(turnIndex)] has no string \"role\"") }
                guard let content = message["content"] as? String else {
                    throw fail("messages[\(turnIndex)] has no string \"content\"")
                }
                guard ["system", "user", "assistant"].contains(role) else {
                    throw fail("messages[\(turnIndex)]: unknown role \"\(role)\" (system, user, assistant)")
                }
                chat.append(ChatMessage(role: role, content: content))
            }
            guard chat.contains(where: { $0.role == "assistant" }) else { throw fail("the chat has no assistant turn to learn") }
            return .chat(chat)
        }
        guard let prompt = fields["prompt"] else { throw fail("missing key \"prompt\" (or \"messages\")") }
        guard let completion = fields["completion"] else { throw fail("missing key \"completion\"") }
        guard let promptText = prompt as? String else { throw fail("\"prompt\" must be a string") }
        guard let completionText = completion as? String else { throw fail("\"completion\" must be a string") }
        return .completion(prompt: promptText, completion: completionText)
    }

    /// The first key that appears twice in one object of `line` (already known to be valid JSON), if any.
    /// A scan, not a parser: it tracks strings (with escapes) and, per open object, the keys seen and
    /// whether the next string is a key (after `{` or `,`) or a value (after `:`). Keys are compared as
    /// written, so `"a"` and `"\u0061"` count as different.
    static func duplicateKey(in line: String) -> String? {
        var objects: [(keys: Set<String>, expectingKey: Bool)] = []
        var containers: [UInt8] = []            // `{` or `[`, innermost last
        var bytes = line.utf8.makeIterator()
        while let byte = bytes.next() {
            switch byte {
            case UInt8(ascii: "{"):
                containers.append(byte)
                objects.append((keys: [], expectingKey: true))
            case UInt8(ascii: "["):
                containers.append(byte)
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                if containers.popLast() == UInt8(ascii: "{") { objects.removeLast() }
            case UInt8(ascii: ","):
                if containers.last == UInt8(ascii: "{") { objects[objects.count - 1].expectingKey = true }
            case UInt8(ascii: ":"):
                objects[objects.count - 1].expectingKey = false
            case UInt8(ascii: "\""):
                var text: [UInt8] = []
                while let next = bytes.next(), next != UInt8(ascii: "\"") {
                    text.append(next)
                    if next == UInt8(ascii: "\\"), let escaped = bytes.next() { text.append(escaped) }
                }
                guard containers.last == UInt8(ascii: "{"), objects[objects.count - 1].expectingKey else { continue }
                let key = String(decoding: text, as: UTF8.self)
                if !objects[objects.count - 1].keys.insert(key).inserted { return key }
            default:
                continue
            }
        }
        return nil
    }

    /// Writes examples in completion form, atomically.
    public static func write(_ examples: [SFTExample], to url: URL) throws {
        var text = ""
        for example in examples {
            let data = try JSONSerialization.data(withJSONObject: ["prompt": example.prompt, "completion": example.response],
                                                  options: [.sortedKeys])
            text += String(decoding: data, as: UTF8.self) + "\n"
        }
        try Data(text.utf8).write(to: url, options: .atomic)
    }
}
