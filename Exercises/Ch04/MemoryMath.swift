// MemoryMath.swift — Chapter 4 exercises: the memory equation by hand.
import ExerciseKit

/// Task 4.1 — serving memory.
///
/// Bytes needed to serve a model of `parameters` parameters stored with `bytesPerParameter` bytes
/// each, with the book's 20% overhead for activations and buffers.
public func inferenceBytes(parameters: Double, bytesPerParameter: Double) throws -> Double {
    // TODO: N · bytes · 1.2
    try todo("4.1")
}

/// Task 4.2 — training memory without activations, with Adam.
///
/// All `parameters` weights are stored (`bytesPerValue` each); each of the `trainable` ones also needs a
/// gradient and Adam's two moments (also `bytesPerValue` each). Return the total bytes.
public func adamTrainingBytes(parameters: Double, trainable: Double, bytesPerValue: Double) throws -> Double {
    // TODO: weights + (gradient + 2 states) per trainable parameter.
    try todo("4.2")
}
