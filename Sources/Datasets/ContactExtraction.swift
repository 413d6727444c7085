// ContactExtraction.swift — the real-model task: turn a sentence about a person into a one-line JSON card.
//
// Teaches: what a good fine-tuning task for a small pretrained instruct model looks like. SmolLM2-135M-
// Instruct already reads English and knows what JSON is, but asked zero-shot to
//   "Extract name, age, job and city as a one-line JSON object.\nNora Jensen, 72, works as a nurse in Graz."
// it answers with a pretty-printed object, capitalised jobs, missing or invented fields — 0 of 12 exact in
// our probe. The answer we want is one fixed format:
//   {"name": "Nora Jensen", "age": 72, "job": "nurse", "city": "Graz"}
// That is what fine-tuning is for: a fixed output contract the base model can almost, but not quite, do.
// Exact match is then a fair score — the format is unambiguous, so a right answer has one spelling.
//
// Splits: every (name, age, job, city, phrasing) combination is assigned to train, validation or test by a
// hash of its sentence, so the splits never share an input, and the sets are the same on every machine.
// Leaves out: multi-person sentences, missing fields, paraphrased keys — each would make the task harder
// without teaching anything new about fine-tuning.
import Foundation
import Kernels

/// The contact-card extraction task (caseless namespace).
public enum ContactExtraction {
    /// The instruction every user turn starts with.
    public static let instruction = "Extract name, age, job and city as a one-line JSON object."

    /// Which part of the data.
    public enum Part: String, CaseIterable, Sendable { case train, validation, test }

    /// One example: the sentence the user gives and the card the assistant must answer.
    public struct Example: Sendable, Equatable {
        /// The person's details.
        public var name: String, age: Int, job: String, city: String
        /// The sentence that mentions them.
        public var sentence: String
        /// The user turn: the instruction, a newline, the sentence.
        public var userMessage: String { ContactExtraction.instruction + "\n" + sentence }
        /// The exact answer: a one-line JSON object with the keys in this order and ", " / ": " separators
        /// (Python's `json.dumps` default, so Python and Swift graders agree).
        public var answer: String {
            "{\"name\": \"\(name)\", \"age\": \(age), \"job\": \"\(job)\", \"city\": \"\(city)\"}"
        }
        /// Completion form (no chat template): the prompt is the user message and a newline.
        public var sftExample: SFTExample { SFTExample(prompt: userMessage + "\n", response: answer) }
        /// Chat form: one user turn and one assistant turn (the model's chat template adds the system prompt).
        public var messages: [(role: String, content: String)] { [("user", userMessage), ("assistant", answer)] }
    }

    static let firstNames = ["Sofia", "Liam", "Aiko", "Mateo", "Nora", "Omar", "Elena", "Jonas", "Priya", "Kwame",
                             "Ines", "Tomas", "Leila", "Hugo", "Mei", "Arjun", "Freya", "Diego", "Hana", "Felix"]
    static let lastNames = ["Moreau", "Becker", "Tanaka", "Silva", "Jensen", "Haddad", "Petrova", "Weber", "Sharma",
                            "Mensah", "Costa", "Novak", "Rahimi", "Laurent", "Chen", "Iyer", "Larsen", "Ortega",
                            "Sato", "Brandt"]
    static let jobs = ["architect", "nurse", "baker", "pilot", "teacher", "chemist", "plumber", "lawyer", "farmer",
                       "dentist", "librarian", "welder", "journalist", "florist", "surgeon", "electrician"]
    static let cities = ["Lyon", "Osaka", "Porto", "Bergen", "Leeds", "Graz", "Tucson", "Quito", "Accra", "Hanoi",
                         "Malmo", "Cork", "Perth", "Tartu", "Bilbao", "Ottawa"]
    /// Phrasings: the order of the fields changes, so the model must read, not copy positions.
    static let phrasings = [
        "{n} is a {a}-year-old {j} from {c}.",
        "{n}, {a}, works as a {j} in {c}.",
        "Meet {n}: {j}, age {a}, based in {c}.",
        "In {c} lives {n}, a {j} who is {a}.",
        "At {a}, {n} is a {j} living in {c}.",
        "{n} moved to {c} and works as a {j}; {n2} is {a}.",
    ]

    /// `count` distinct examples of `part`, drawn from `seed` (fewer only if the part runs out of inputs).
    public static func examples(_ part: Part, count: Int, seed: UInt64) -> [Example] {
        var rng = RNG(seed: seed)
        var seen = Set<String>()
        var result: [Example] = []
        var attempts = 0
        // Draw candidates and keep those whose sentence hashes into the requested part.
        while result.count < count && attempts < count * 100 {
            attempts += 1
            let example = candidate(rng: &rng)
            guard self.part(of: example.sentence) == part, seen.insert(example.sentence).inserted else { continue }
            result.append(example)
        }
        return result
    }

    /// The part a sentence belongs to (FNV-1a hash): 80% train, 10% validation, 10% test.
    public static func part(of sentence: String) -> Part {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in sentence.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        switch hash % 10 {
        case 0: return .test
        case 1: return .validation
        default: return .train
        }
    }

    /// One random example in any part.
    static func candidate(rng: inout RNG) -> Example {
        let first = firstNames[rng.below(firstNames.count)]
        let name = first + " " + lastNames[rng.below(lastNames.count)]
        let age = 19 + rng.below(62)
        let job = jobs[rng.below(jobs.count)]
        let city = cities[rng.below(cities.count)]
        let sentence = phrasings[rng.below(phrasings.count)]
            .replacingOccurrences(of: "{n2}", with: first)
            .replacingOccurrences(of: "{n}", with: name)
            .replacingOccurrences(of: "{a}", with: String(age))
            .replacingOccurrences(of: "{j}", with: job)
            .replacingOccurrences(of: "{c}", with: city)
        return Example(name: name, age: age, job: job, city: city, sentence: sentence)
    }

    /// Writes `examples` as chat JSONL (`{"messages": [...]}` per line), atomically.
    public static func writeChat(_ examples: [Example], to url: URL) throws {
        var text = ""
        for example in examples {
            let turns = example.messages.map { ["role": $0.role, "content": $0.content] }
            let data = try JSONSerialization.data(withJSONObject: ["messages": turns], options: [.sortedKeys])
            text += String(decoding: data, as: UTF8.self) + "\n"
        }
        try Data(text.utf8).write(to: url, options: .atomic)
    }

    /// Writes the three parts in both forms into `directory`: `train.jsonl`, `validation.jsonl`, `test.jsonl`
    /// (chat form) and `*.completion.jsonl` (prompt/completion form). Returns the example counts per part.
    @discardableResult
    public static func writeDataset(to directory: URL, train: Int = 1000, validation: Int = 100, test: Int = 100,
                                    seed: UInt64 = 15) throws -> [Part: Int] {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var counts: [Part: Int] = [:]
        for (part, count) in [(Part.train, train), (.validation, validation), (.test, test)] {
            let examples = Self.examples(part, count: count, seed: seed)
            try writeChat(examples, to: directory.appendingPathComponent("\(part.rawValue).jsonl"))
            try JSONLines.write(examples.map(\.sftExample),
                                to: directory.appendingPathComponent("\(part.rawValue).completion.jsonl"))
            counts[part] = examples.count
        }
        return counts
    }
}
