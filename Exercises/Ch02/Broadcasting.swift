// Broadcasting.swift — Chapter 2 exercises: shapes, broadcasting and its gradient, a tiled matmul.
import ExerciseKit

/// The error Task 2.1 throws for shapes that do not broadcast.
public struct BroadcastError: Error, Equatable, CustomStringConvertible {
    public let left: [Int], right: [Int]
    public init(left: [Int], right: [Int]) { self.left = left; self.right = right }
    public var description: String { "shapes \(left) and \(right) do not broadcast" }
}

/// Task 2.1 — the broadcast shape of two shapes (NumPy rules).
///
/// Align the shapes at the right; each pair of extents must be equal or one of them 1; missing
/// leading extents count as 1. Throw `BroadcastError(left: a, right: b)` when they are incompatible.
public func broadcastShape(_ a: [Int], _ b: [Int]) throws -> [Int] {
    // TODO: walk both shapes from the last axis to the first.
    try todo("2.1")
}

/// Task 2.2 — undo broadcasting for a gradient.
///
/// `gradient` has shape `from` (row-major); `to` broadcasts to `from`. Return the gradient for an input
/// of shape `to`: the sum of `gradient` over every axis that broadcasting added or stretched.
public func unbroadcast(_ gradient: [Float], from: [Int], to: [Int]) throws -> [Float] {
    // TODO: pad `to` with leading 1s; for each output index, add it into the input index it came from.
    try todo("2.2")
}

/// Task 2.3 — a tiled matrix multiply.
///
/// C [m, n] = A [m, k] · B [k, n], row-major, computed tile by tile: loop over blocks of `tile` rows,
/// columns and depth so each block of A, B and C is reused while it is in cache. The result must equal
/// the plain triple loop (up to rounding).
public func tiledMatmul(_ a: [Float], _ b: [Float], m: Int, n: Int, k: Int, tile: Int) throws -> [Float] {
    // TODO: three outer loops over tiles (i0, p0, j0), three inner loops inside the tile.
    try todo("2.3")
}
