// BatchSource.swift — what the trainer needs from data: token batches, and a resumable position.
//
// Teaches: the contract between data and training. A batch is B rows of T input ids, the T target
// ids (inputs shifted by one; −1 = ignore) and a loss weight per target. A source hands out batches
// and can report and restore its position, so a resumed run sees exactly the batches it would have.
// Leaves out: streaming from disk, multi-worker loading.

/// B rows of T next-token-prediction examples, flattened row-major.
public protocol LanguageModelBatch {
    /// B: rows.
    var batchSize: Int { get }
    /// T: positions per row.
    var contextLength: Int { get }
    /// Input ids [B·T].
    var inputs: [Int32] { get }
    /// Target ids [B·T]; −1 marks a position that contributes no loss.
    var targets: [Int32] { get }
    /// Loss weight per target [B·T] (0 for ignored positions).
    var weights: [Float] { get }
}

/// An endless, seeded supply of batches whose position can be saved and restored.
public protocol BatchSource {
    associatedtype Batch: LanguageModelBatch
    associatedtype Position: Codable
    /// The next batch (advances the position).
    mutating func nextBatch() -> Batch
    /// Where the source is; restoring it replays the same batches.
    var position: Position { get set }
    /// Why `position` (read from a checkpoint) is not one this source can continue from, or nil.
    func problem(with position: Position) -> String?
}

extension BatchSource {
    /// By default every decodable position is accepted.
    public func problem(with position: Position) -> String? { nil }
}
