// TrainingCheckpoint.swift — save a run, stop, resume it bit for bit.
//
// Teaches: what a training run's state is. Not just the weights: the optimizer's moments and step
// count, the dropout RNG, the data position, the schedule position (the step), the log and the
// early-stopping counters. Restore all of it and the resumed run is *bitwise* the run that never
// stopped. The directory is written beside the old one and swapped in by one atomic exchange
// (AtomicDirectory), so an interruption leaves either the old checkpoint or the new one, never half
// of each. Resuming checks every file and counter first and only then touches the trainer.
// Leaves out: keeping the last-k checkpoints, asynchronous saving.
import Foundation
import Kernels
import Autodiff
import NN
import Optim
import Checkpoints

/// The scalar state of a trainer, as written to trainer.json.
struct TrainerState: Codable {
    var step: Int
    var optimizerSteps: Int
    var log: [TrainingLogEntry]
    var bestValidationLoss: Float
    var validationsWithoutImprovement: Int
    var rng: RNG
    var options: TrainerOptions
    /// The batch source's position, JSON-encoded.
    var sourcePosition: Data
    /// The model's architecture (dropout included: it changes the run).
    var modelConfig: GPTConfig
    /// A fingerprint of the frozen parameters (names and bits), which the checkpoint does not store:
    /// resuming on another base model would silently continue a different run.
    var frozenFingerprint: UInt64
}

extension TrainingCheckpoint {
    /// FNV-1a over the names and bit patterns of `model`'s frozen parameters.
    static func frozenFingerprint(of model: GPT) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        func mix(_ byte: UInt8) { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
        for (name, tensor) in model.namedParameters() where !tensor.requiresGrad {
            for byte in name.utf8 { mix(byte) }
            for i in 0..<tensor.count {
                let bits = tensor.data[i].bitPattern
                for shift in stride(from: 0, to: 32, by: 8) { mix(UInt8(truncatingIfNeeded: bits >> UInt32(shift))) }
            }
        }
        return hash
    }

    /// The trainable parameters: what a checkpoint stores (frozen ones come from the base model).
    static func trainableParameters(of model: GPT) -> [(name: String, tensor: Tensor)] {
        model.namedParameters().filter { $0.tensor.requiresGrad }
    }
}

/// A problem reading a training checkpoint, naming the file and what is wrong.
public struct TrainingCheckpointError: Error, CustomStringConvertible {
    public let description: String
}

/// Saving and resuming training runs (caseless namespace).
public enum TrainingCheckpoint {
    /// Writes the trainable parameters (parameters.safetensors, under our parameter names), the
    /// optimizer state (optimizer.safetensors) and the trainer state (trainer.json) to `directory`,
    /// replacing it as a whole (`AtomicDirectory`: a kill at any moment leaves the previous
    /// checkpoint or this one). Frozen parameters are not stored — they come from the base model
    /// (a fingerprint checks it is the same one) — so a LoRA or QLoRA checkpoint is adapter-sized.
    public static func save<Position: Encodable>(_ trainer: Trainer, sourcePosition: Position, to directory: URL) throws {
        let parameterTensors = try trainableParameters(of: trainer.model).map {
            try SafeTensors.NamedTensor(name: $0.name, shape: $0.tensor.shape, floats: $0.tensor.values)
        }
        let stateTensors = try trainer.optimizer.stateTensors().map {
            try SafeTensors.NamedTensor(name: $0.name, shape: $0.tensor.shape, floats: $0.tensor.values)
        }
        let state = TrainerState(step: trainer.step, optimizerSteps: trainer.optimizer.stepCount, log: trainer.log,
                                 bestValidationLoss: trainer.bestValidationLoss,
                                 validationsWithoutImprovement: trainer.validationsWithoutImprovement,
                                 rng: trainer.rng, options: trainer.options,
                                 sourcePosition: try JSONEncoder().encode(sourcePosition),
                                 modelConfig: trainer.model.config, frozenFingerprint: frozenFingerprint(of: trainer.model))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        let stateJSON = try encoder.encode(state)
        try AtomicDirectory.write(to: directory) { staging in
            try SafeTensors.write(parameterTensors, to: staging.appendingPathComponent("parameters.safetensors"))
            try SafeTensors.write(stateTensors, to: staging.appendingPathComponent("optimizer.safetensors"))
            try AtomicFile.write(stateJSON, to: staging.appendingPathComponent("trainer.json"))
        }
    }

    /// Restores a checkpoint into `trainer` (built with the same model config and optimizer type)
    /// and returns the batch source position to continue from. Everything is read and checked
    /// before anything is applied: a throwing resume leaves the trainer exactly as it was.
    public static func resume<Position: Decodable>(_ trainer: Trainer, from directory: URL,
                                                   as _: Position.Type = Position.self) throws -> Position {
        try resume(trainer, from: directory) { try JSONDecoder().decode(Position.self, from: $0) }
    }

    /// Restores a checkpoint into `trainer` and `source` (see `resume(_:from:as:)`); the saved
    /// position must be one `source` can continue from (`BatchSource.problem(with:)`).
    public static func resume<Source: BatchSource>(_ trainer: Trainer, source: inout Source, from directory: URL) throws {
        let prototype = source
        source.position = try resume(trainer, from: directory) { data in
            let position = try JSONDecoder().decode(Source.Position.self, from: data)
            if let problem = prototype.problem(with: position) { throw TrainingCheckpointError(description: problem) }
            return position
        }
    }

    /// The shared resume: validate all, then apply. `decodePosition` turns the saved position bytes
    /// into the caller's position (and may refuse it).
    static func resume<Position>(_ trainer: Trainer, from directory: URL,
                                 decodePosition: (Data) throws -> Position) throws -> Position {
        func fail(_ file: String, _ problem: String) -> TrainingCheckpointError {
            TrainingCheckpointError(description: "\(directory.appendingPathComponent(file).path): \(problem)")
        }
        try AtomicDirectory.recover(directory)
        // 1. Trainer state: decoded, then every counter checked.
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        let state: TrainerState
        do { state = try decoder.decode(TrainerState.self, from: Data(contentsOf: directory.appendingPathComponent("trainer.json"))) } catch {
            throw fail("trainer.json", "\(error)")
        }
        if let problem = state.problem(for: trainer) { throw fail("trainer.json", problem) }
        guard state.options == trainer.options else {
            throw fail("trainer.json", "the run was saved with other training options (steps \(state.options.steps), "
                       + "schedule, seed, …): resume with the options it was started with")
        }
        guard state.modelConfig == trainer.model.config else { throw fail("trainer.json", "model config differs from the trainer's model") }
        guard state.frozenFingerprint == frozenFingerprint(of: trainer.model) else {
            throw fail("trainer.json", "the frozen parameters differ from the ones this run was trained on (another base model?)")
        }
        // Trainable parameters: exactly the trainer's, by name and shape, finite.
        let targets = trainableParameters(of: trainer.model)
        let parameterFile = try SafeTensors.File(contentsOf: directory.appendingPathComponent("parameters.safetensors"))
        guard Set(parameterFile.names) == Set(targets.map(\.name)) else {
            throw fail("parameters.safetensors", "holds other parameters than the trainer trains")
        }
        var sources: [[Float]] = []
        for (name, target) in targets {
            guard try parameterFile.info(name).shape == target.shape else {
                throw fail("parameters.safetensors", "parameter \(name) has shape \(try parameterFile.info(name).shape), expected \(target.shape)")
            }
            let values = try parameterFile.floats(of: name)
            if let bad = values.firstIndex(where: { !$0.isFinite }) { throw fail("parameters.safetensors", "\(name) holds \(values[bad]) at \(bad)") }
            sources.append(values)
        }
        let position: Position
        do { position = try decodePosition(state.sourcePosition) } catch {
            throw fail("trainer.json", "batch source position: \(error)")
        }
        // 2. Optimizer state: exactly the entries this optimizer keeps (its own checks follow in loadState).
        let file = try SafeTensors.File(contentsOf: directory.appendingPathComponent("optimizer.safetensors"))
        var values: [String: [Float]] = [:]
        for name in file.names { values[name] = try file.floats(of: name) }
        let expected = Set(trainer.optimizer.stateTensors().map(\.name))
        if let extra = values.keys.sorted().first(where: { !expected.contains($0) }) {
            throw fail("optimizer.safetensors", "entry \(extra) belongs to no state of this optimizer")
        }
        do { try trainer.optimizer.loadState(values, stepCount: state.optimizerSteps) } catch {
            throw fail("optimizer.safetensors", "\(error)")
        }
        // 3. Apply: loadState (which validates all before storing) was the last step that can throw.
        for ((_, target), values) in zip(targets, sources) {
            values.withUnsafeBufferPointer { target.data.update(from: $0.baseAddress!, count: values.count) }
        }
        trainer.step = state.step
        trainer.log = state.log
        trainer.bestValidationLoss = state.bestValidationLoss
        trainer.validationsWithoutImprovement = state.validationsWithoutImprovement
        trainer.rng = state.rng
        return position
    }
}

extension TrainerState {
    /// Why this state cannot continue in `trainer`, or nil. Counters must be possible (0 ≤ optimizer
    /// steps ≤ step ≤ the run's steps, one log entry per step), the RNG a valid xoshiro256** state
    /// (four words, not all zero — the all-zero state only ever produces zeros).
    func problem(for trainer: Trainer) -> String? {
        if step < 0 || step > trainer.options.steps { return "step \(step) is not in 0…\(trainer.options.steps) (the run's steps)" }
        if optimizerSteps < 0 || optimizerSteps > step { return "optimizerSteps \(optimizerSteps) is not in 0…\(step) (the step)" }
        if log.count != step { return "the log has \(log.count) entries for \(step) steps" }
        if let entry = log.enumerated().first(where: { $0.element.step != $0.offset + 1 }) {
            return "log entry \(entry.offset + 1) says step \(entry.element.step)"
        }
        if bestValidationLoss.isNaN { return "bestValidationLoss is NaN" }
        if validationsWithoutImprovement < 0 { return "validationsWithoutImprovement \(validationsWithoutImprovement) is negative" }
        if rng.state.count != 4 || rng.state.allSatisfy({ $0 == 0 }) {
            return "rng state must be four 64-bit words, not all zero (found \(rng.state.count) words)"
        }
        return nil
    }
}

// MARK: - Periodic checkpoints and resuming, for a whole run

/// Where a run keeps its checkpoint, how often it saves, and whether it continues an earlier one.
public struct CheckpointPlan: Sendable, Equatable {
    /// The checkpoint directory (replaced as a whole at every save).
    public var directory: URL
    /// Save every this many steps, and after the last step (0: never save).
    public var every: Int
    /// Continue from this checkpoint before training (nil: start fresh).
    public var resumeFrom: URL?

    /// A plan; see the properties.
    public init(directory: URL, every: Int, resumeFrom: URL? = nil) {
        (self.directory, self.every, self.resumeFrom) = (directory, every, resumeFrom)
    }
}

extension Trainer {
    /// `run`, resuming from `plan.resumeFrom` first (trainer and source, validated) and saving a
    /// checkpoint every `plan.every` steps and after the last one. A run killed at any moment and
    /// resumed from its checkpoint continues bitwise as if it had never stopped.
    public func run<Source: BatchSource>(source: inout Source, validation: [Source.Batch] = [],
                                         progress: ProgressReporter? = nil, checkpoints plan: CheckpointPlan) throws {
        if let from = plan.resumeFrom { try TrainingCheckpoint.resume(self, source: &source, from: from) }
        try run(source: &source, validation: validation, progress: progress) { trainer, position in
            guard plan.every > 0, trainer.step % plan.every == 0 || trainer.step == trainer.options.steps || trainer.shouldStop
            else { return }
            try TrainingCheckpoint.save(trainer, sourcePosition: position, to: plan.directory)
        }
    }
}
