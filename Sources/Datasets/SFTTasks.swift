// SFTTasks.swift — the built-in supervised fine-tuning tasks: prompt → response pairs.
//
// Teaches: what an SFT dataset is (instructions with the answers we want), and how to evaluate it:
// greedy decoding compared by exact match. Four tasks exercise different things fine-tuning does:
//   reverse      a skill (spell a word backwards)             "reverse: lamo\n" → "omal"
//   record       a *format* (emit a JSON record)              "record: Ana is 7 and lives in Oslo\n"
//                                                             → {"name":"Ana","age":7,"town":"Oslo"}
//   arithmetic   two-digit addition                           "add: 23 + 58\n" → "81"
//   facts        recall of world facts seen in pretraining    "Q: Where does Ana live?\nA: " → "Oslo"
// Train and test splits are disjoint by construction (each input is assigned to one split by a hash).
// Leaves out: multi-turn tasks (the JSONL chat format covers user data).
import Foundation
import Kernels

/// One supervised example: the model sees `prompt` and must produce `response`.
public struct SFTExample: Codable, Sendable, Equatable {
    public var prompt: String
    public var response: String
    /// An example.
    public init(prompt: String, response: String) {
        self.prompt = prompt
        self.response = response
    }
}

/// Which part of a task's examples.
public enum Split: String, Codable, Sendable { case train, test }

/// A built-in task.
public enum SFTTask: String, Codable, Sendable, CaseIterable {
    case reverse, record, arithmetic, facts

    /// `count` distinct examples of `split` drawn from `seed` (fewer if the split has fewer inputs).
    public func examples(split: Split, count: Int, seed: UInt64, world: SyntheticWorld = SyntheticWorld(seed: 1)) -> [SFTExample] {
        var rng = RNG(seed: seed)
        var seen = Set<String>()
        var result: [SFTExample] = []
        var attempts = 0
        // Draw candidates until enough of them land in the requested split.
        while result.count < count && attempts < count * 50 {
            attempts += 1
            let example = candidate(rng: &rng, world: world)
            guard SFTTask.split(of: example.prompt) == split, seen.insert(example.prompt).inserted else { continue }
            result.append(example)
        }
        return result
    }

    /// The split an input belongs to: about one in five prompts is a test prompt (FNV-1a hash).
    public static func split(of prompt: String) -> Split {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in prompt.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return hash % 5 == 0 ? .test : .train
    }

    /// One random example, in either split.
    func candidate(rng: inout RNG, world: SyntheticWorld) -> SFTExample {
        switch self {
        case .reverse:
            let word = SFTTask.pseudoWord(rng: &rng)
            return SFTExample(prompt: "reverse: \(word)\n", response: String(word.reversed()))
        case .record:
            let name = SyntheticWorld.names[rng.below(SyntheticWorld.names.count)]
            let age = 5 + rng.below(60)
            let town = SyntheticWorld.towns[rng.below(SyntheticWorld.towns.count)]
            return SFTExample(prompt: "record: \(name) is \(age) and lives in \(town)\n",
                              response: "{\"name\":\"\(name)\",\"age\":\(age),\"town\":\"\(town)\"}")
        case .arithmetic:
            let (a, b) = (10 + rng.below(90), 10 + rng.below(90))
            return SFTExample(prompt: "add: \(a) + \(b)\n", response: "\(a + b)")
        case .facts:
            let person = world.people[rng.below(world.people.count)]
            let (question, answer) = SyntheticCorpus.factQuestion(person, kind: rng.below(4))
            return SFTExample(prompt: "Q: \(question)\nA: ", response: answer)
        }
    }

    /// A pronounceable lowercase word of 3–6 letters.
    static func pseudoWord(rng: inout RNG) -> String {
        let consonants = Array("bdfgklmnprstvz"), vowels = Array("aeiou")
        let length = 3 + rng.below(4)
        return String((0..<length).map { $0 % 2 == 0 ? consonants[rng.below(consonants.count)] : vowels[rng.below(vowels.count)] })
    }

    /// Exact match of a generated continuation against the expected response: the generation is
    /// cut at the first newline (or wherever the caller stopped it) and compared after trimming spaces.
    public static func isCorrect(generated: String, expected: String) -> Bool {
        let firstLine = generated.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        return firstLine.trimmingCharacters(in: .whitespaces) == expected.trimmingCharacters(in: .whitespaces)
    }
}
