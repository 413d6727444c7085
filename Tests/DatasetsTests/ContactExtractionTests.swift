// ContactExtractionTests.swift — the real-model task's data: exact answer format, disjoint splits,
// determinism, and the two JSONL forms read back by the project's own loader.
import Foundation
import Testing
@testable import Datasets

@Suite struct ContactExtractionTests {
    @Test func answerIsTheOneLineJSONPythonWouldWrite() throws {
        // Hand-written expectation: json.dumps({"name": "Nora Jensen", "age": 72, "job": "nurse", "city": "Graz"}).
        let example = ContactExtraction.Example(name: "Nora Jensen", age: 72, job: "nurse", city: "Graz",
                                                sentence: "Nora Jensen, 72, works as a nurse in Graz.")
        #expect(example.answer == #"{"name": "Nora Jensen", "age": 72, "job": "nurse", "city": "Graz"}"#)
        #expect(example.userMessage == "Extract name, age, job and city as a one-line JSON object.\nNora Jensen, 72, works as a nurse in Graz.")
        // The answer parses as JSON with exactly those four fields.
        let object = try #require(try JSONSerialization.jsonObject(with: Data(example.answer.utf8)) as? [String: Any])
        #expect(object["name"] as? String == "Nora Jensen" && object["age"] as? Int == 72)
        #expect(Set(object.keys) == ["name", "age", "job", "city"])
    }

    @Test func everySentenceMentionsEveryField() {
        for example in ContactExtraction.examples(.train, count: 200, seed: 3) {
            for field in [example.name, String(example.age), example.job, example.city] {
                #expect(example.sentence.contains(field), "\(example.sentence) lacks \(field)")
            }
        }
    }

    @Test func partsAreDisjointDeterministicAndSized() {
        let train = ContactExtraction.examples(.train, count: 800, seed: 15)
        let validation = ContactExtraction.examples(.validation, count: 100, seed: 15)
        let test = ContactExtraction.examples(.test, count: 100, seed: 15)
        #expect(train.count == 800 && validation.count == 100 && test.count == 100)
        let sentences = [train, validation, test].map { Set($0.map(\.sentence)) }
        #expect(sentences[0].isDisjoint(with: sentences[1]) && sentences[0].isDisjoint(with: sentences[2])
                && sentences[1].isDisjoint(with: sentences[2]))
        #expect(ContactExtraction.examples(.test, count: 100, seed: 15) == test)
        #expect(ContactExtraction.examples(.test, count: 100, seed: 16) != test)
    }

    @Test func bothFormsLoadBackThroughJSONLines() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("contacts-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let counts = try ContactExtraction.writeDataset(to: directory, train: 20, validation: 5, test: 5, seed: 2)
        #expect(counts == [.train: 20, .validation: 5, .test: 5])
        let expected = ContactExtraction.examples(.test, count: 5, seed: 2)
        let completion = try JSONLines.load(directory.appendingPathComponent("test.completion.jsonl"))
        #expect(completion == expected.map(\.sftExample))
        // The chat form yields one example per assistant turn, whose response is the card.
        let chat = try JSONLines.load(directory.appendingPathComponent("test.jsonl"))
        #expect(chat.map(\.response) == expected.map(\.answer))
        #expect(chat.allSatisfy { $0.prompt.contains(ContactExtraction.instruction) })
    }
}

@Suite struct GeneralProbeTests {
    @Test func questionsAcceptAnySpellingCaseInsensitively() throws {
        let week = try #require(GeneralProbe.questions.first { $0.text.contains("week") })
        #expect(week.isAnswered(by: "There are 7 days in a week."))
        #expect(week.isAnswered(by: "Seven."))
        #expect(!week.isAnswered(by: "{\"name\": \"Week\"}"))
        #expect(GeneralProbe.questions.count == 20 && Set(GeneralProbe.questions.map(\.text)).count == 20)
        #expect(GeneralProbe.passages.count == 10 && GeneralProbe.passages.allSatisfy { $0.split(separator: " ").count >= 40 })
    }
}
