// SyntheticWorld.swift — a small made-up world that the built-in corpus and tasks talk about.
//
// Teaches: a pretraining corpus is where a model's *knowledge* comes from. Our world has people with
// ages, home towns, favourite colours and foods, jobs and pets; the corpus states these facts in
// many phrasings, and the facts task later asks about them — so we can watch pretraining make
// fine-tuning easier, and watch fine-tuning fail to update facts that changed (Chapter 5).
// Leaves out: anything real. Every name and fact is drawn from the seed.
import Kernels

/// One person of the synthetic world.
public struct Person: Codable, Sendable, Equatable {
    public var name: String
    public var age: Int
    public var town: String
    public var colour: String
    public var food: String
    public var job: String
    public var pet: String
}

/// The facts of a synthetic world, fully determined by a seed.
public struct SyntheticWorld: Codable, Sendable, Equatable {
    /// Everyone in the world (unique names).
    public var people: [Person]

    static let names = ["Ana", "Ben", "Cleo", "Dan", "Eva", "Finn", "Gia", "Hugo", "Ines", "Jon", "Kai", "Lena",
                        "Max", "Nora", "Omar", "Pia", "Quinn", "Rosa", "Sam", "Tara", "Umar", "Vera", "Will", "Yara", "Zoe"]
    static let towns = ["Oslo", "Lima", "Rome", "Kyiv", "Pune", "Nice", "Bern", "Cork", "Riga", "Faro"]
    static let colours = ["red", "blue", "green", "yellow", "black", "white", "purple", "orange"]
    static let foods = ["bread", "rice", "soup", "apples", "pasta", "fish", "cake", "beans"]
    static let jobs = ["baker", "teacher", "farmer", "doctor", "painter", "pilot", "singer", "builder"]
    static let pets = ["cat", "dog", "bird", "fish", "horse", "rabbit"]

    /// A world of `people` persons (at most 25) drawn from `seed`.
    public init(seed: UInt64, people count: Int = 25) {
        var rng = RNG(seed: seed)
        let order = rng.permutation(SyntheticWorld.names.count).prefix(min(count, SyntheticWorld.names.count))
        people = order.map { index in
            Person(name: SyntheticWorld.names[index], age: 5 + rng.below(60),
                   town: SyntheticWorld.towns[rng.below(SyntheticWorld.towns.count)],
                   colour: SyntheticWorld.colours[rng.below(SyntheticWorld.colours.count)],
                   food: SyntheticWorld.foods[rng.below(SyntheticWorld.foods.count)],
                   job: SyntheticWorld.jobs[rng.below(SyntheticWorld.jobs.count)],
                   pet: SyntheticWorld.pets[rng.below(SyntheticWorld.pets.count)])
        }
    }

    /// The same world after some facts changed: `fraction` of the people moved to a different town
    /// (chosen by `seed`). Used to compare fine-tuning with retrieval on facts that go stale.
    public func changed(fraction: Double, seed: UInt64) -> SyntheticWorld {
        var rng = RNG(seed: seed)
        var copy = self
        let movers = rng.permutation(people.count).prefix(Int((Double(people.count) * fraction).rounded()))
        for index in movers {
            let others = SyntheticWorld.towns.filter { $0 != copy.people[index].town }
            copy.people[index].town = others[rng.below(others.count)]
        }
        return copy
    }

    /// The person called `name`, if any.
    public func person(named name: String) -> Person? { people.first { $0.name == name } }
}
