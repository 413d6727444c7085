// TrainingCheckpoint.swift — save a run, stop, resume it bit for bit.
//
// Teaches: what a training run's state is. Not just the weights: the optimizer's moments and step
// count, the dropout RNG, the data position, the schedule position (the step), the log and the
// early-stopping counters. Restore all of it and the resumed run is *bitwise* the run that never
// stopped. The directory is written beside the old one and swapped in by rename, so an
// interruption leaves either the old checkpoint or the new one, never half of each.
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
}

/// A problem reading a training checkpoint, naming the file and what is wrong.
public struct TrainingCheckpointError: Error, CustomStringConvertible {
    public let description: String
}

/// Saving and resuming training runs (caseless namespace).
public enum TrainingCheckpoint {
    /// Writes model, optimizer state and trainer state to `directory`, replacing it atomically.
    public static func save<Position: Encodable>(_ trainer: Trainer, sourcePosition: Position, to directory: URL) throws {
        let fileManager = FileManager.default
        let parent = directory.deletingLastPathComponent()
        try fileManager.createDirectory(at: parent, withIntermediateDirectories: true)
        // 1. Write everything into a fresh sibling directory.
        let staging = parent.appendingPathComponent(".\(directory.lastPathComponent).partial-\(UUID().uuidString)")
        defer { try? fileManager.removeItem(at: staging) }
        try ModelCheckpoint.save(trainer.model, to: staging)
        let stateTensors = try trainer.optimizer.stateTensors().map {
            try SafeTensors.NamedTensor(name: $0.name, shape: $0.tensor.shape, floats: $0.tensor.values)
        }
        try SafeTensors.write(stateTensors, to: staging.appendingPathComponent("optimizer.safetensors"))
        let state = TrainerState(step: trainer.step, optimizerSteps: trainer.optimizer.stepCount, log: trainer.log,
                                 bestValidationLoss: trainer.bestValidationLoss,
                                 validationsWithoutImprovement: trainer.validationsWithoutImprovement,
                                 rng: trainer.rng, options: trainer.options,
                                 sourcePosition: try JSONEncoder().encode(sourcePosition))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        try encoder.encode(state).write(to: staging.appendingPathComponent("trainer.json"), options: .atomic)
        // 2. Swap it in: move the old one aside, move the new one in, then delete the old one.
        let old = parent.appendingPathComponent(".\(directory.lastPathComponent).old-\(UUID().uuidString)")
        let hadOld = fileManager.fileExists(atPath: directory.path)
        if hadOld { try fileManager.moveItem(at: directory, to: old) }
        try fileManager.moveItem(at: staging, to: directory)
        if hadOld { try? fileManager.removeItem(at: old) }
    }

    /// Restores a checkpoint into `trainer` (built with the same model config and optimizer type)
    /// and returns the batch source position to continue from.
    public static func resume<Position: Decodable>(_ trainer: Trainer, from directory: URL,
                                                   as _: Position.Type = Position.self) throws -> Position {
        // Weights: load the checkpoint's model and copy its values into the trainer's parameters.
        let saved = try ModelCheckpoint.load(directory: directory)
        // (The HF config does not carry our dropout rate, a training setting: compare the architecture.)
        var architecture = saved.config
        architecture.dropout = trainer.model.config.dropout
        guard architecture == trainer.model.config else {
            throw TrainingCheckpointError(description: "\(directory.path): model config differs from the trainer's model")
        }
        for ((name, target), (_, source)) in zip(trainer.model.namedParameters(), saved.namedParameters()) {
            guard target.shape == source.shape else {
                throw TrainingCheckpointError(description: "\(directory.path): parameter \(name) has shape \(source.shape), expected \(target.shape)")
            }
            target.assign(source)
        }
        // Optimizer moments.
        let stateFile = directory.appendingPathComponent("optimizer.safetensors")
        let file = try SafeTensors.File(contentsOf: stateFile)
        var values: [String: [Float]] = [:]
        for name in file.names { values[name] = try file.floats(of: name) }
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        let stateURL = directory.appendingPathComponent("trainer.json")
        let state: TrainerState
        do { state = try decoder.decode(TrainerState.self, from: Data(contentsOf: stateURL)) } catch {
            throw TrainingCheckpointError(description: "\(stateURL.path): \(error)")
        }
        try trainer.optimizer.loadState(values, stepCount: state.optimizerSteps)
        // Loop state.
        trainer.step = state.step
        trainer.log = state.log
        trainer.bestValidationLoss = state.bestValidationLoss
        trainer.validationsWithoutImprovement = state.validationsWithoutImprovement
        trainer.rng = state.rng
        do { return try JSONDecoder().decode(Position.self, from: state.sourcePosition) } catch {
            throw TrainingCheckpointError(description: "\(stateURL.path): batch source position: \(error)")
        }
    }
}
