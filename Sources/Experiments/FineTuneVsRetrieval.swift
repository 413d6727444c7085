// FineTuneVsRetrieval.swift — fine-tuning teaches form; retrieval supplies facts that change.
//
// Teaches: the decision between fine-tuning and RAG, in miniature, measured.
// 1. Form: fine-tuning on the `record` task teaches the model an output format it never produced.
// 2. Changed facts: after some people of the world move town, the base model's answers are stale.
//    Retrieval fixes that without touching the weights: BM25 finds "Ana lives in Lima." and the model
//    reads the answer from its prompt (it was fine-tuned once to *use* a context, on worlds whose facts
//    disagree with its memory, so it learns to trust the context).
// 3. Fine-tuning on the new facts does teach them — for the facts it was shown, at the price of
//    another training run each time the world changes.
// Leaves out: hallucination rates, retrieval failures at scale, long contexts.
import Foundation
import NN
import Tokenizers
import Datasets
import Training

/// The experiment's knobs.
public struct FineTuneVsRetrievalConfig: Sendable {
    /// Fine-tuning recipe used for all three fine-tunes.
    public var recipe: SFTRecipe
    /// Record-task examples to train on and to test.
    public var formTrain: Int, formTest: Int
    /// Perturbed worlds used to teach the model to read its context.
    public var contextWorlds: Int
    /// Fraction of people who move in the changed world.
    public var movedFraction: Double
    public var seed: UInt64

    /// A configuration.
    public init(recipe: SFTRecipe, formTrain: Int, formTest: Int, contextWorlds: Int, movedFraction: Double, seed: UInt64) {
        self.recipe = recipe
        self.formTrain = formTrain
        self.formTest = formTest
        self.contextWorlds = contextWorlds
        self.movedFraction = movedFraction
        self.seed = seed
    }
}

/// The experiment's numbers (accuracies in 0…1).
public struct FineTuneVsRetrievalReport: Sendable {
    /// Record format: base model, and after fine-tuning on it.
    public var formBase: Double, formFineTuned: Double
    /// Home towns of people who moved: closed-book base (stale), with retrieval, after fine-tuning on the new facts.
    public var movedClosedBook: Double, movedWithRetrieval: Double, movedAfterFineTuning: Double
    /// Home towns of people who did not move, with the same three setups.
    public var stayedClosedBook: Double, stayedWithRetrieval: Double, stayedAfterFineTuning: Double
    /// How often BM25 put the right document first.
    public var retrievalHitRate: Double
}

/// Running the fine-tune-versus-retrieval experiment (caseless namespace).
public enum FineTuneVsRetrieval {
    /// The closed-book question about a person's town.
    static func question(_ person: Person) -> SFTExample {
        SFTExample(prompt: "Q: Where does \(person.name) live?\nA: ", response: person.town)
    }

    /// The same question with a context sentence in front.
    static func withContext(_ context: String, _ person: Person, answer: String) -> SFTExample {
        SFTExample(prompt: "Context: \(context)\nQ: Where does \(person.name) live?\nA: ", response: answer)
    }

    /// The facts of a world as one-sentence documents (towns, jobs, pets).
    static func documents(_ world: SyntheticWorld) -> [String] {
        world.people.flatMap { ["\($0.name) works as a \($0.job).", "\($0.name) lives in \($0.town).", "\($0.name) has a \($0.pet)."] }
    }

    static func accuracy(_ model: GPT, _ tokenizer: some Tokenizer, _ examples: [SFTExample]) -> Double {
        examples.isEmpty ? 0 : TaskEvaluator.score(model, tokenizer: tokenizer, examples: examples).accuracy
    }

    /// Runs the experiment on `base`, pretrained on `world`.
    public static func run(base: GPT, tokenizer: some Tokenizer, world: SyntheticWorld,
                           config: FineTuneVsRetrievalConfig) -> FineTuneVsRetrievalReport {
        // 1. Form: the record task before and after fine-tuning on it.
        let formTrain = SFTTask.record.examples(split: .train, count: config.formTrain, seed: config.seed, world: world)
        let formTest = SFTTask.record.examples(split: .test, count: config.formTest, seed: config.seed + 1, world: world)
        let formTuned = FineTuning.run(base: base, tokenizer: tokenizer, examples: formTrain, recipe: config.recipe).model

        // 2. The world changes; split people into movers and stayers.
        let changed = world.changed(fraction: config.movedFraction, seed: config.seed + 2)
        let pairs = zip(world.people, changed.people)
        let movers = pairs.filter { $0.town != $1.town }.map(\.1), stayers = pairs.filter { $0.town == $1.town }.map(\.1)

        // 3. Closed book: the base model answers from memory.
        let movedQuestions = movers.map(question), stayedQuestions = stayers.map(question)

        // 4. Retrieval: teach the model to read a context (on perturbed worlds), then retrieve from the new world.
        var contextTraining: [SFTExample] = []
        for index in 0..<config.contextWorlds {
            let perturbed = world.changed(fraction: 0.5, seed: config.seed + 100 + UInt64(index))
            contextTraining += perturbed.people.map { withContext("\($0.name) lives in \($0.town).", $0, answer: $0.town) }
        }
        let reader = FineTuning.run(base: base, tokenizer: tokenizer, examples: contextTraining, recipe: config.recipe).model
        let index = BM25Index(documents: documents(changed))
        var hits = 0
        func retrieved(_ person: Person) -> SFTExample {
            let document = index.search("Where does \(person.name) live?").first ?? ""
            if document == "\(person.name) lives in \(person.town)." { hits += 1 }
            return withContext(document, person, answer: person.town)
        }
        let movedRetrieved = movers.map(retrieved), stayedRetrieved = stayers.map(retrieved)

        // 5. Fine-tuning on the new facts (closed-book questions about the movers, repeated).
        let newFacts = Array(repeating: movedQuestions, count: 8).flatMap { $0 }
        let updated = FineTuning.run(base: base, tokenizer: tokenizer, examples: newFacts, recipe: config.recipe).model

        return FineTuneVsRetrievalReport(
            formBase: accuracy(base, tokenizer, formTest), formFineTuned: accuracy(formTuned, tokenizer, formTest),
            movedClosedBook: accuracy(base, tokenizer, movedQuestions),
            movedWithRetrieval: accuracy(reader, tokenizer, movedRetrieved),
            movedAfterFineTuning: accuracy(updated, tokenizer, movedQuestions),
            stayedClosedBook: accuracy(base, tokenizer, stayedQuestions),
            stayedWithRetrieval: accuracy(reader, tokenizer, stayedRetrieved),
            stayedAfterFineTuning: accuracy(updated, tokenizer, stayedQuestions),
            retrievalHitRate: Double(hits) / Double(max(movers.count + stayers.count, 1)))
    }
}
