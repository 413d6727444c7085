// Datasets+Training.swift — the built-in data sources plug into the trainer.
import Datasets

extension Batch: LanguageModelBatch {}
extension SFTBatchSource: BatchSource {
    /// A position is an epoch ≥ 0 and an index into that epoch's order (0…count).
    public func problem(with position: Position) -> String? {
        guard position.epoch >= 0, position.epoch < 1 << 40, (0...examples.count).contains(position.index) else {
            return "position epoch \(position.epoch), index \(position.index) does not fit \(examples.count) examples"
        }
        return nil
    }
}

// (Its position is an RNG, whose decoding already refuses states it could not use.)
extension PretrainingBatchSource: BatchSource {}
