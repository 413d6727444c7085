// Datasets+Training.swift — the built-in data sources plug into the trainer.
import Autodiff
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

extension PretrainingBatchSource: BatchSource {
    /// The position is an RNG state: four words, not all zero.
    public func problem(with position: RNG) -> String? {
        position.state.count == 4 && position.state.contains { $0 != 0 } ? nil : "position is not a valid RNG state"
    }
}
