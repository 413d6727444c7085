// JSONLines.swift — the user's own fine-tuning data, one JSON object per line.
//
// Teaches: the two formats fine-tuning tools accept. Completion form:
//   {"prompt": "Translate: chat", "completion": "cat"}
// and chat form:
//   {"messages": [{"role": "system", "content": "..."}, {"role": "user", "content": "..."},
//                 {"role": "assistant", "content": "..."}]}
// A chat is rendered with a simple template ("<role>: content\n" per turn); every assistant turn is a
// response to learn, and everything before it is its prompt. Errors name the file and line. Files
// from Windows editors (CRLF line ends, a UTF-8 byte-order mark) read exactly like LF files.
// Leaves out: tool calls, images, per-example weights in the file.
import Foundation

/// A malformed line (or unreadable file), with its location.
public struct JSONLinesError: Error, CustomStringConvertible, Equatable {
    /// The file, 1-based line number (0 for the file as a whole) and what is wrong.
    public let file: String, line: Int, problem: String
    public var description: String { line == 0 ? "\(file): \(problem)" : "\(file):\(line): \(problem)" }
}

/// Reading and writing JSONL datasets (caseless namespace).
public enum JSONLines {
    /// The chat template: how one turn is rendered.
    public static func render(role: String, content: String) -> String { "\(role): \(content)\n" }

    /// Parses JSONL text into examples; `file` labels errors. Blank lines are skipped. Lines may end
    /// in LF or CRLF (Windows), and a leading byte-order mark is ignored.
    public static func parse(_ text: String, file: String = "<memory>") throws -> [SFTExample] {
        var examples: [SFTExample] = []
        // Split on the LF *scalar*: in Swift, "\r\n" is a single Character, so splitting the String by
        // the Character "\n" would find no line breaks at all in a CRLF file.
        let body = text.unicodeScalars.first == "\u{FEFF}" ? Substring(text.unicodeScalars.dropFirst()) : Substring(text)
        for (index, rawLine) in body.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = String(String.UnicodeScalarView(rawLine)).trimmingCharacters(in: .whitespacesAndNewlines)
            if line.isEmpty { continue }
            examples += try parseLine(line, file: file, number: index + 1)
        }
        return examples
    }

    /// Reads and parses a JSONL file.
    public static func load(_ url: URL) throws -> [SFTExample] {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw JSONLinesError(file: url.path, line: 0, problem: "cannot read the file (\(error.localizedDescription))")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw JSONLinesError(file: url.path, line: 0, problem: "not valid UTF-8")
        }
        return try parse(text, file: url.path)
    }

    /// The examples one line yields (a chat yields one per assistant turn).
    static func parseLine(_ line: String, file: String, number: Int) throws -> [SFTExample] {
        func fail(_ problem: String) -> JSONLinesError { JSONLinesError(file: file, line: number, problem: problem) }
        let object: Any
        do { object = try JSONSerialization.jsonObject(with: Data(line.utf8)) } catch {
            throw fail("not valid JSON")
        }
        guard let fields = object as? [String: Any] else { throw fail("expected a JSON object") }
        if let messages = fields["messages"] {
            guard let turns = messages as? [Any], !turns.isEmpty else { throw fail("\"messages\" must be a non-empty array") }
            var context = ""
            var examples: [SFTExample] = []
            for (turnIndex, turn) in turns.enumerated() {
                guard let message = turn as? [String: Any] else { throw fail("messages[\(turnIndex)] is not an object") }
                guard let role = message["role"] as? String else { throw fail("messages[\(turnIndex)] has no string \"role\"") }
                guard let content = message["content"] as? String else {
                    throw fail("messages[\(turnIndex)] has no string \"content\"")
                }
                guard ["system", "user", "assistant"].contains(role) else {
                    throw fail("messages[\(turnIndex)]: unknown role \"\(role)\" (system, user, assistant)")
                }
                if role == "assistant" {
                    examples.append(SFTExample(prompt: context + "assistant: ", response: content))
                }
                context += render(role: role, content: content)
            }
            guard !examples.isEmpty else { throw fail("the chat has no assistant turn to learn") }
            return examples
        }
        guard let prompt = fields["prompt"] else { throw fail("missing key \"prompt\" (or \"messages\")") }
        guard let completion = fields["completion"] else { throw fail("missing key \"completion\"") }
        guard let promptText = prompt as? String else { throw fail("\"prompt\" must be a string") }
        guard let completionText = completion as? String else { throw fail("\"completion\" must be a string") }
        return [SFTExample(prompt: promptText, response: completionText)]
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
