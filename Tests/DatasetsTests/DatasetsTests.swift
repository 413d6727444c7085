// DatasetsTests.swift — determinism, split disjointness, masking, shifting, JSONL errors, resume.
import Foundation
import Testing
import Autodiff
import Tokenizers
@testable import Datasets

@Suite struct CorpusTests {
    let world = SyntheticWorld(seed: 1)

    @Test func sameSeedSameCorpusDifferentSeedDifferent() {
        #expect(SyntheticCorpus.documents(world: world, count: 50, seed: 3) == SyntheticCorpus.documents(world: world, count: 50, seed: 3))
        #expect(SyntheticCorpus.documents(world: world, count: 50, seed: 3) != SyntheticCorpus.documents(world: world, count: 50, seed: 4))
        #expect(SyntheticWorld(seed: 1) == world)
        #expect(SyntheticWorld(seed: 2) != world)
    }

    @Test func everyCharacterIsInTheAlphabet() {
        let alphabet = Set(SyntheticCorpus.alphabet)
        let text = SyntheticCorpus.text(world: world, characters: 20_000, seed: 5)
        let strays = Set(text).subtracting(alphabet)
        #expect(strays.isEmpty, "characters outside the alphabet: \(strays)")
        for task in SFTTask.allCases {
            for example in task.examples(split: .train, count: 50, seed: 1, world: world) {
                #expect(Set(example.prompt + example.response).isSubset(of: alphabet), "\(task): \(example)")
            }
        }
    }

    @Test func corpusStatesTheWorldsFacts() {
        let text = SyntheticCorpus.text(world: world, characters: 200_000, seed: 6)
        let ana = world.people[0]
        #expect(text.contains("\(ana.name) lives in \(ana.town)."))
    }

    @Test func unigramEntropyByHand() {
        // "aab": p(a) = 2/3, p(b) = 1/3 → H = −(2/3 ln 2/3 + 1/3 ln 1/3) = 0.636514…
        #expect(abs(SyntheticCorpus.unigramEntropy([0, 0, 1]) - 0.6365141682948128) < 1e-12)
        #expect(SyntheticCorpus.unigramEntropy([7, 7, 7]) == 0)
    }

    @Test func changedWorldMovesTheRequestedShare() {
        let changed = world.changed(fraction: 0.4, seed: 9)
        let moved = zip(world.people, changed.people).filter { $0.town != $1.town }.count
        #expect(moved == 10)
        #expect(zip(world.people, changed.people).allSatisfy { $0.name == $1.name && $0.job == $1.job })
    }
}

@Suite struct TaskTests {
    @Test(arguments: SFTTask.allCases)
    func trainAndTestSplitsAreDisjointAndDeterministic(task: SFTTask) {
        let train = task.examples(split: .train, count: 200, seed: 1)
        let test = task.examples(split: .test, count: 50, seed: 2)
        #expect(Set(train.map(\.prompt)).isDisjoint(with: test.map(\.prompt)))
        #expect(train == task.examples(split: .train, count: 200, seed: 1))
        #expect(Set(train.map(\.prompt)).count == train.count)
    }

    @Test func examplesAreRight() {
        for e in SFTTask.reverse.examples(split: .train, count: 20, seed: 1) {
            #expect(e.response == String(e.prompt.dropFirst("reverse: ".count).dropLast().reversed()))
        }
        for e in SFTTask.arithmetic.examples(split: .train, count: 20, seed: 1) {
            let numbers = e.prompt.dropFirst("add: ".count).dropLast().split(separator: " ")
            #expect(Int(e.response) == Int(numbers[0])! + Int(numbers[2])!)
        }
        let world = SyntheticWorld(seed: 1)
        for e in SFTTask.facts.examples(split: .train, count: 20, seed: 1, world: world) where e.prompt.contains("live") {
            let name = e.prompt.split(separator: " ")[3]
            #expect(world.person(named: String(name))?.town == e.response)
        }
        let record = SFTTask.record.examples(split: .train, count: 1, seed: 1)[0]
        let json = try? JSONSerialization.jsonObject(with: Data(record.response.utf8)) as? [String: Any]
        #expect(json?["name"] as? String != nil && json?["age"] as? Int != nil)
    }

    @Test func exactMatchChecker() {
        #expect(SFTTask.isCorrect(generated: "Oslo\nQ: more", expected: "Oslo"))
        #expect(SFTTask.isCorrect(generated: "Oslo  ", expected: "Oslo"))
        #expect(!SFTTask.isCorrect(generated: "Osl", expected: "Oslo"))
        #expect(!SFTTask.isCorrect(generated: "\nOslo", expected: "Oslo"))
    }
}

@Suite struct BatchingTests {
    let tokenizer = CharTokenizer(alphabet: Array("abc:\n "))   // ids a0 b1 c2 :3 \n4 space5, end-of-text 6

    @Test func promptWeightsAndShiftByHand() {
        let example = SFTExample(prompt: "ab:", response: "c")
        let full = TokenizedExample(example, tokenizer: tokenizer, promptLossWeight: 0)
        #expect(full.ids == [0, 1, 3, 2, 6])
        #expect(full.weights == [0, 0, 0, 1, 1])
        let row = full.row(contextLength: 6)
        #expect(row.inputs == [0, 1, 3, 2, 0, 0])
        #expect(row.targets == [-1, -1, 2, 6, -1, -1])
        #expect(row.weights == [0, 0, 1, 1, 0, 0])
        let half = TokenizedExample(example, tokenizer: tokenizer, promptLossWeight: 0.5).row(contextLength: 4)
        #expect(half.targets == [1, 3, 2, 6])
        #expect(half.weights == [0.5, 0.5, 1, 1])
    }

    @Test func truncationKeepsTheResponse() {
        let long = TokenizedExample(SFTExample(prompt: "aaaaab:", response: "cc"), tokenizer: tokenizer)
        let row = long.row(contextLength: 3)
        #expect(row.inputs == [3, 2, 2])      // ":cc" → targets "cc<eot>"
        #expect(row.targets == [2, 2, 6])
    }

    @Test func sftSourceResumesExactly() throws {
        let examples = SFTTask.reverse.examples(split: .train, count: 7, seed: 1).map { TokenizedExample($0, tokenizer: CharTokenizer(alphabet: SyntheticCorpus.alphabet)) }
        var a = SFTBatchSource(examples: examples, batchSize: 3, contextLength: 16, seed: 4)
        _ = a.nextBatch(); _ = a.nextBatch()
        let saved = try JSONEncoder().encode(a.position)
        let next = (0..<4).map { _ in a.nextBatch() }
        var b = SFTBatchSource(examples: examples, batchSize: 3, contextLength: 16, seed: 4)
        b.position = try JSONDecoder().decode(SFTBatchSource.Position.self, from: saved)
        #expect((0..<4).map { _ in b.nextBatch() } == next)
        #expect(b.epochsCompleted == 2)  // 6 batches × 3 rows = 18 rows over 7 examples
    }

    @Test func pretrainingWindowsAreShiftedSlices() {
        let tokens = (0..<100).map(Int32.init)
        var source = PretrainingBatchSource(tokens: tokens, batchSize: 2, contextLength: 5, seed: 1)
        let batch = source.nextBatch()
        for row in 0..<2 {
            let inputs = batch.inputs[(row * 5)..<(row * 5 + 5)], targets = batch.targets[(row * 5)..<(row * 5 + 5)]
            #expect(zip(inputs, targets).allSatisfy { $1 == $0 + 1 })
        }
    }
}

@Suite struct JSONLinesTests {
    @Test func bothFormsParse() throws {
        let text = """
        {"prompt": "p1", "completion": "c1"}

        {"messages": [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}, {"role": "user", "content": "bye"}, {"role": "assistant", "content": "ciao"}]}
        """
        let examples = try JSONLines.parse(text)
        #expect(examples == [
            SFTExample(prompt: "p1", response: "c1"),
            SFTExample(prompt: "system: be brief\nuser: hi\nassistant: ", response: "hello"),
            SFTExample(prompt: "system: be brief\nuser: hi\nassistant: hello\nuser: bye\nassistant: ", response: "ciao"),
        ])
    }

    @Test(arguments: [
        ("{\"prompt\": \"a\"}", "missing key \"completion\""),
        ("{\"prompt\": 3, \"completion\": \"b\"}", "\"prompt\" must be a string"),
        ("not json", "not valid JSON"),
        ("[1, 2]", "expected a JSON object"),
        ("{\"messages\": []}", "\"messages\" must be a non-empty array"),
        ("{\"messages\": [{\"role\": \"robot\", \"content\": \"x\"}]}", "messages[0]: unknown role \"robot\" (system, user, assistant)"),
        ("{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}]}", "the chat has no assistant turn to learn"),
        ("{\"prompt\": \"a\", \"completion\": \"b\", \"prompt\": \"c\"}", "duplicate key \"prompt\""),
        ("{\"messages\": [{\"role\": \"user\", \"content\": \"x\", \"role\": \"assistant\"}]}", "duplicate key \"role\""),
    ])
    func malformedLinesNameTheLine(line: String, problem: String) {
        let text = "{\"prompt\": \"ok\", \"completion\": \"ok\"}\n\n" + line + "\n"
        #expect(throws: JSONLinesError(file: "data.jsonl", line: 3, problem: problem)) {
            try JSONLines.parse(text, file: "data.jsonl")
        }
    }

    @Test func equalStringsInValuesOrSeparateObjectsAreNotDuplicateKeys() throws {
        // "prompt" as a value, the same key in two sibling objects, escaped quotes and colons in strings.
        let line = #"{"prompt": "prompt", "completion": "x \"prompt\": y", "meta": [{"k": 1}, {"k": 2}], "k": {"k": "k"}}"#
        #expect(JSONLines.duplicateKey(in: line) == nil)
        #expect(JSONLines.duplicateKey(in: #"{"a": {"b": 1, "b": 2}}"#) == "b")
        #expect(try JSONLines.parse(line) == [SFTExample(prompt: "prompt", response: "x \"prompt\": y")])
    }

    @Test func writeThenLoadRoundTrips() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("tinytune-\(UUID()).jsonl")
        defer { try? FileManager.default.removeItem(at: url) }
        let examples = [SFTExample(prompt: "a \"quoted\"\nline", response: "b")]
        try JSONLines.write(examples, to: url)
        #expect(try JSONLines.load(url) == examples)
        #expect(throws: JSONLinesError.self) { try JSONLines.load(url.appendingPathExtension("missing")) }
    }
}
