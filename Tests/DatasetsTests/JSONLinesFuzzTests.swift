// JSONLinesFuzzTests.swift — CRLF and byte-order-mark files read exactly like LF files; thousands of
// damaged JSONL files give examples or an error naming the file and a line of it, never a crash.
import Foundation
import Testing
import TestSupport
@testable import Datasets

@Suite struct JSONLinesRobustnessTests {
    static let text = """
    {"prompt": "Translate: chat", "completion": "cat"}
    {"prompt": "a\\r\\nb", "completion": "c"}

    {"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]}
    {"prompt": "last", "completion": "line"}
    """

    @Test func crlfAndByteOrderMarkReadLikeLF() throws {
        let lf = try JSONLines.parse(Self.text, file: "lf.jsonl")
        #expect(lf.count == 4)
        let crlf = Self.text.replacingOccurrences(of: "\n", with: "\r\n")
        #expect(try JSONLines.parse(crlf, file: "crlf.jsonl") == lf)
        #expect(try JSONLines.parse("\u{FEFF}" + crlf + "\r\n", file: "bom.jsonl") == lf)
        // Through a file too (the BOM as bytes, as an editor writes it).
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("tinytune-crlf-\(UUID()).jsonl")
        defer { try? FileManager.default.removeItem(at: url) }
        try (Data([0xEF, 0xBB, 0xBF]) + Data(crlf.utf8)).write(to: url)
        #expect(try JSONLines.load(url) == lf)
    }

    @Test func errorsInCRLFFilesNameTheRightLine() {
        let text = "{\"prompt\": \"a\", \"completion\": \"b\"}\r\n\r\n{\"prompt\": 1}\r\n"
        #expect(throws: JSONLinesError(file: "w.jsonl", line: 3, problem: "missing key \"completion\"")) {
            try JSONLines.parse(text, file: "w.jsonl")
        }
    }

    @Test func damagedFilesGiveExamplesOrALocatedError() throws {
        var mutator = FileMutator(seed: 1804)
        var (accepted, refused) = (0, 0)
        for _ in 0..<3000 {
            let (bytes, _) = mutator.mutateText(Self.text)
            let url = URL(fileURLWithPath: "/nonexistent/fuzz.jsonl")
            let lineCount = bytes.filter { $0 == 0x0A }.count + 1
            do {
                guard let text = String(data: bytes, encoding: .utf8) else { continue }
                let examples = try JSONLines.parse(text, file: url.path)
                // A line yields at most one example per assistant turn; nothing appears from nowhere.
                #expect(examples.count <= 2 * lineCount)
                accepted += 1
            } catch let error as JSONLinesError {
                #expect(error.file == url.path && error.line >= 1 && error.line <= lineCount, "\(error)")
                refused += 1
            }
        }
        #expect(accepted > 100 && refused > 100, "accepted \(accepted), refused \(refused)")
    }
}
