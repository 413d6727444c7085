// TrainingCheckpointRobustnessTests.swift — a damaged checkpoint resumes into a sane state or throws,
// and a throwing resume leaves the trainer exactly as it was; the defects of issue 18 one by one;
// saving replaces the directory as a whole and cleans up what killed saves left behind.
import Foundation
import Kernels
import Testing
@testable import Autodiff
import NN
import Optim
import Checkpoints
import TestSupport
@testable import Training

extension CyclingSource {
    /// Positions are batch counters: never negative.
    func problem(with position: Int) -> String? { position >= 0 ? nil : "negative position \(position)" }
}

@Suite struct TrainingCheckpointRobustnessTests {
    static let batches = [TestBatch.rows(0..<2), TestBatch.rows(2..<4), TestBatch.rows(4..<7)]

    /// Everything a resume may change, for before/after comparisons.
    struct Snapshot: Equatable {
        var parameters: [[Float]], optimizer: [[Float]], step: Int, optimizerSteps: Int, log: [TrainingLogEntry]
        var rng: RNG, best: Float, patience: Int
        init(_ trainer: Trainer) {
            parameters = trainer.model.namedParameters().map(\.tensor.values)
            optimizer = trainer.optimizer.stateTensors().map(\.tensor.values)
            (step, optimizerSteps, log, rng) = (trainer.step, trainer.optimizer.stepCount, trainer.log, trainer.rng)
            (best, patience) = (trainer.bestValidationLoss, trainer.validationsWithoutImprovement)
        }
    }

    /// A trainer with dropout (so its RNG matters) after `steps` steps, and its source.
    static func trainer(after steps: Int) throws -> (Trainer, CyclingSource) {
        var rng = RNG(seed: 21)
        var config = TrainerTests.config
        config.dropout = 0.1
        let model = GPT(config: config, rng: &rng)
        let trainer = Trainer(model: model, optimizer: AdamW(model.namedParameters()),
                              options: TrainerOptions(steps: 10, learningRate: 3e-3, warmupSteps: 2, seed: 5))
        var source = CyclingSource(batches: batches)
        if steps > 0 { try? trainer.run(source: &source) { if $0.step == steps { throw CancellationError() } } }
        return (trainer, source)
    }

    static func directory(_ name: String) -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("tinytune-\(name)-\(UUID())")
    }

    @Test func damagedCheckpointsResumeSanelyOrLeaveTheTrainerUnchanged() throws {
        let good = Self.directory("good"), work = Self.directory("work"), restore = Self.directory("restore")
        defer { for url in [good, work, restore] { try? FileManager.default.removeItem(at: url) } }
        let (saved, savedSource) = try Self.trainer(after: 4)
        try TrainingCheckpoint.save(saved, sourcePosition: savedSource.position, to: good)
        // The victim is at another step, so any partial application would show.
        let (victim, victimSource) = try Self.trainer(after: 1)
        try TrainingCheckpoint.save(victim, sourcePosition: victimSource.position, to: restore)
        let before = Snapshot(victim)
        let names = ["trainer.json", "optimizer.safetensors", "parameters.safetensors"]
        let originals = try names.map { try Data(contentsOf: good.appendingPathComponent($0)) }
        try FileManager.default.copyItem(at: good, to: work)
        var mutator = FileMutator(seed: 1805)
        var (accepted, refused) = (0, 0)
        for round in 0..<900 {
            let which = round % names.count
            let (mutant, _) = which == 0 ? mutator.mutateText(String(decoding: originals[0], as: UTF8.self)) : mutator.mutate(originals[which])
            try mutant.write(to: work.appendingPathComponent(names[which]))
            defer { try? originals[which].write(to: work.appendingPathComponent(names[which])) }
            var source = CyclingSource(batches: Self.batches)
            do {
                try TrainingCheckpoint.resume(victim, source: &source, from: work)
                // Sane: counters in range, every number finite, the RNG usable.
                #expect((0...10).contains(victim.step) && victim.log.count == victim.step && source.position >= 0)
                #expect(victim.model.namedParameters().allSatisfy { $0.tensor.values.allSatisfy(\.isFinite) })
                #expect(victim.optimizer.stateTensors().allSatisfy { $0.tensor.values.allSatisfy(\.isFinite) })
                #expect(victim.rng.state.count == 4 && victim.rng.state.contains { $0 != 0 })
                accepted += 1
                try TrainingCheckpoint.resume(victim, source: &source, from: restore)
            } catch {
                #expect(Snapshot(victim) == before, "a failed resume changed the trainer: \(error)")
                refused += 1
            }
        }
        #expect(accepted > 50 && refused > 300, "accepted \(accepted), refused \(refused)")
    }

    /// trainer.json with one top-level value replaced.
    static func editTrainerJSON(_ directory: URL, _ edit: (inout [String: Any]) -> Void) throws {
        let url = directory.appendingPathComponent("trainer.json")
        var json = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
        edit(&json)
        try JSONSerialization.data(withJSONObject: json).write(to: url)
    }

    @Test(arguments: ["negative step", "step Int.max", "negative optimizer steps", "rng of 3 words", "rng all zero",
                      "negative position", "negative second moment", "infinite weight", "missing state"])
    func impossibleStatesAreRefusedAndChangeNothing(defect: String) throws {
        let directory = Self.directory("defect")
        defer { try? FileManager.default.removeItem(at: directory) }
        let (saved, source) = try Self.trainer(after: 3)
        try TrainingCheckpoint.save(saved, sourcePosition: source.position, to: directory)
        switch defect {
        case "negative step": try Self.editTrainerJSON(directory) { $0["step"] = -1 }
        case "step Int.max": try Self.editTrainerJSON(directory) { $0["step"] = Int.max }
        case "negative optimizer steps": try Self.editTrainerJSON(directory) { $0["optimizerSteps"] = -3 }
        case "rng of 3 words": try Self.editTrainerJSON(directory) { $0["rng"] = ["state": [1, 2, 3]] }
        case "rng all zero": try Self.editTrainerJSON(directory) { $0["rng"] = ["state": [0, 0, 0, 0]] }
        case "negative position": try Self.editTrainerJSON(directory) { $0["sourcePosition"] = Data("-4".utf8).base64EncodedString() }
        case "negative second moment", "infinite weight", "missing state":
            let file = defect == "infinite weight" ? "parameters.safetensors" : "optimizer.safetensors"
            let url = directory.appendingPathComponent(file)
            let stored = try SafeTensors.File(contentsOf: url)
            var tensors: [SafeTensors.NamedTensor] = []
            for name in stored.names {
                var values = try stored.floats(of: name)
                if defect == "missing state" && name.hasSuffix("h.1.ln_1.bias.exp_avg") { continue }
                if defect == "negative second moment" && name.hasSuffix(".exp_avg_sq") { values[values.count / 2] = -1e-6 }
                if defect == "infinite weight" && name == "h.1.mlp.c_fc.weight" { values[5] = .infinity }
                tensors.append(try SafeTensors.NamedTensor(name: name, shape: try stored.info(name).shape, floats: values))
            }
            try SafeTensors.write(tensors, to: url)
        default: Issue.record("unknown defect \(defect)")
        }
        let (victim, _) = try Self.trainer(after: 1)
        let before = Snapshot(victim)
        var resumed = CyclingSource(batches: Self.batches)
        #expect(throws: (any Error).self) { try TrainingCheckpoint.resume(victim, source: &resumed, from: directory) }
        #expect(Snapshot(victim) == before)
        #expect(resumed.position == 0)
    }

    @Test func saveReplacesTheWholeDirectoryAndCleansUpLeftovers() throws {
        let root = Self.directory("leftovers")
        defer { try? FileManager.default.removeItem(at: root) }
        let directory = root.appendingPathComponent("checkpoint")
        let (trainer, source) = try Self.trainer(after: 2)
        try TrainingCheckpoint.save(trainer, sourcePosition: source.position, to: directory)
        // What killed saves leave: a staging directory, a moved-aside old one, a temporary file inside.
        let fileManager = FileManager.default
        for name in [".checkpoint.partial-1234", ".checkpoint.old-5678"] {
            try fileManager.createDirectory(at: root.appendingPathComponent(name), withIntermediateDirectories: true)
        }
        try Data("x".utf8).write(to: directory.appendingPathComponent("stray.txt"))
        try TrainingCheckpoint.save(trainer, sourcePosition: source.position, to: directory)
        #expect(try fileManager.contentsOfDirectory(atPath: root.path) == ["checkpoint"])
        // Replaced as a whole: a file that was not part of the new state is gone.
        #expect(try fileManager.contentsOfDirectory(atPath: directory.path).sorted()
                == ["optimizer.safetensors", "parameters.safetensors", "trainer.json"])
        // The gap of the two-rename fallback (old moved aside, new not yet in): resume restores the old one.
        try fileManager.moveItem(at: directory, to: root.appendingPathComponent(".checkpoint.old-ABCD"))
        let (victim, _) = try Self.trainer(after: 0)
        var resumed = CyclingSource(batches: Self.batches)
        try TrainingCheckpoint.resume(victim, source: &resumed, from: directory)
        #expect(victim.step == 2 && resumed.position == source.position)
        #expect(Snapshot(victim) == Snapshot(trainer))
    }

    @Test func aCheckpointOfAnotherBaseModelIsRefused() throws {
        let directory = Self.directory("base")
        defer { try? FileManager.default.removeItem(at: directory) }
        // Partial training: block 0 frozen, so its weights are the base the checkpoint depends on.
        func partial() -> Trainer {
            var rng = RNG(seed: 21)
            let model = GPT(config: TrainerTests.config, rng: &rng)
            model.setTrainable(false)
            model.setTrainable(true) { $0.hasPrefix("h.1.") }
            return Trainer(model: model, optimizer: AdamW(model.namedParameters()), options: TrainerOptions(steps: 4, learningRate: 1e-3))
        }
        let saved = partial()
        var source = CyclingSource(batches: Self.batches)
        try saved.run(source: &source)
        try TrainingCheckpoint.save(saved, sourcePosition: source.position, to: directory)
        let other = partial()
        other.model.namedParameters().first { $0.name == "h.0.ln_1.weight" }!.tensor.data[0] += 1
        var resumed = CyclingSource(batches: Self.batches)
        #expect { try TrainingCheckpoint.resume(other, source: &resumed, from: directory) } throws: { "\($0)".contains("frozen") }
        let same = partial()
        try TrainingCheckpoint.resume(same, source: &resumed, from: directory)
        #expect(Snapshot(same) == Snapshot(saved))
    }
}
