// QuantizationError.swift — what goes wrong when quantizing, named precisely.
//
// Teaches: nothing about numbers; it is the module's one error type, so a bad block size, a shape that
// does not divide into blocks or a corrupt quantized file is reported with the offending value.
// Leaves out: recovery — every error is final for the operation that threw it.

/// A quantization request that cannot be carried out; `description` names the tensor, shape or value.
public struct QuantizationError: Error, CustomStringConvertible, Equatable {
    /// What went wrong, naming the offending tensor, shape, key or value.
    public let description: String

    /// An error with the given message.
    public init(_ description: String) { self.description = description }
}
