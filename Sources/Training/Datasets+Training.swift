// Datasets+Training.swift — the built-in data sources plug into the trainer.
import Datasets

extension Batch: LanguageModelBatch {}
extension SFTBatchSource: BatchSource {}
extension PretrainingBatchSource: BatchSource {}
