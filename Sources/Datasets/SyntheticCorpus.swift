// SyntheticCorpus.swift — the built-in pretraining text, generated in code.
//
// Teaches: what "pretraining data" means at toy scale: lots of varied, regular text. Documents mix
// facts about the world in several phrasings, small stories, arithmetic in words and digits, lists and
// question–answer dialogues. A character-level model learns spelling, then templates, then facts.
// Leaves out: real language. The corpus is regular enough to learn in minutes on a CPU.
import Foundation
import Kernels

/// Generating documents from a world (caseless namespace).
public enum SyntheticCorpus {
    /// Every character the corpus (and the built-in tasks) can contain, in a fixed order.
    public static let alphabet: [Character] = Array("\n !\"#+,-.:=?{}0123456789"
        + "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")

    static let numberWords = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
                              "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen",
                              "eighteen", "nineteen", "twenty"]

    /// `count` documents drawn from `seed` (each ends with a newline).
    public static func documents(world: SyntheticWorld, count: Int, seed: UInt64) -> [String] {
        var rng = RNG(seed: seed)
        return (0..<count).map { _ in document(world: world, rng: &rng) }
    }

    /// Concatenated documents until at least `characters` characters (then cut at a document end).
    public static func text(world: SyntheticWorld, characters: Int, seed: UInt64) -> String {
        var rng = RNG(seed: seed)
        var text = ""
        var length = 0  // (String.count is O(n): keep a running total instead)
        while length < characters {
            let next = document(world: world, rng: &rng)
            text += next
            length += next.count
        }
        return text
    }

    /// One document of a randomly chosen kind.
    static func document(world: SyntheticWorld, rng: inout RNG) -> String {
        let p = world.people[rng.below(world.people.count)]
        switch rng.below(6) {
        case 0: // a profile, sentences in random order
            var facts = ["\(p.name) lives in \(p.town).", "\(p.name) is \(p.age) years old.",
                         "\(p.name) likes the colour \(p.colour).", "\(p.name) eats \(p.food) every day.",
                         "\(p.name) works as a \(p.job).", "\(p.name) has a \(p.pet)."]
            let order = rng.permutation(facts.count)
            facts = order.prefix(3 + rng.below(4)).map { facts[$0] }
            return facts.joined(separator: " ") + "\n"
        case 1: // a question–answer dialogue
            let (question, answer) = factQuestion(p, kind: rng.below(4))
            return "Q: \(question)\nA: \(answer)\n"
        case 2: // arithmetic in words and digits
            let (a, b) = (rng.below(11), rng.below(10))
            if rng.below(2) == 0 {
                return "\(numberWords[a].capitalized) plus \(numberWords[b]) is \(numberWords[a + b]).\n"
            }
            let (x, y) = (rng.below(100), rng.below(100))
            return "\(x) + \(y) = \(x + y)\n"
        case 3: // a short story
            let friend = world.people[rng.below(world.people.count)]
            return "One day \(p.name) went to \(friend.town) with a \(p.pet). There \(p.name) met \(friend.name), "
                + "who works as a \(friend.job). They ate \(friend.food) together.\n"
        case 4: // a list
            let group = rng.permutation(world.people.count).prefix(3).map { world.people[$0] }
            return "Friends of \(p.name): " + group.map(\.name).joined(separator: ", ") + ".\n"
        default: // a record line
            return "\(p.name): age \(p.age), town \(p.town), job \(p.job).\n"
        }
    }

    /// A question about one fact of `person` and its one-word answer (kind 0–3: town, job, pet, colour).
    public static func factQuestion(_ person: Person, kind: Int) -> (question: String, answer: String) {
        switch kind % 4 {
        case 0: return ("Where does \(person.name) live?", person.town)
        case 1: return ("What is the job of \(person.name)?", person.job)
        case 2: return ("What pet does \(person.name) have?", person.pet)
        default: return ("What colour does \(person.name) like?", person.colour)
        }
    }

    /// Entropy in nats of the unigram (single-token) distribution of `tokens`: the loss of the best
    /// model that ignores context — the baseline pretraining must beat.
    public static func unigramEntropy(_ tokens: [Int]) -> Double {
        guard !tokens.isEmpty else { return 0 }
        var counts: [Int: Int] = [:]
        for t in tokens { counts[t, default: 0] += 1 }
        let n = Double(tokens.count)
        return -counts.values.map { Double($0) / n }.map { $0 * Foundation.log($0) }.reduce(0, +)
    }
}
