// Broadcasting.swift — Chapter 2 exercises: shapes, broadcasting and its gradient, a tiled matmul (solved).
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
    let rank = max(a.count, b.count)
    var result: [Int] = []
    for i in 0..<rank {
        // Read from the right; an axis one shape lacks has extent 1.
        let x = i < a.count ? a[a.count - 1 - i] : 1
        let y = i < b.count ? b[b.count - 1 - i] : 1
        guard x == y || x == 1 || y == 1 else { throw BroadcastError(left: a, right: b) }
        result.insert(x == 1 ? y : x, at: 0)
    }
    return result
}

/// Task 2.2 — undo broadcasting for a gradient.
///
/// `gradient` has shape `from` (row-major); `to` broadcasts to `from`. Return the gradient for an input
/// of shape `to`: the sum of `gradient` over every axis that broadcasting added or stretched.
public func unbroadcast(_ gradient: [Float], from: [Int], to: [Int]) throws -> [Float] {
    // Every output element was computed from exactly one input element: add it there.
    let padded = [Int](repeating: 1, count: from.count - to.count) + to
    var result = [Float](repeating: 0, count: to.reduce(1, *))
    var index = [Int](repeating: 0, count: from.count)
    for value in gradient {
        // The input index: broadcast axes (extent 1) always read position 0.
        var flat = 0
        for axis in 0..<from.count { flat = flat * padded[axis] + (padded[axis] == 1 ? 0 : index[axis]) }
        result[flat] += value
        // Advance the output multi-index (row-major odometer).
        var axis = from.count - 1
        while axis >= 0 {
            index[axis] += 1
            if index[axis] < from[axis] { break }
            index[axis] = 0
            axis -= 1
        }
    }
    return result
}

/// Task 2.3 — a tiled matrix multiply.
///
/// C [m, n] = A [m, k] · B [k, n], row-major, computed tile by tile: loop over blocks of `tile` rows,
/// columns and depth so each block of A, B and C is reused while it is in cache. The result must equal
/// the plain triple loop (up to rounding).
public func tiledMatmul(_ a: [Float], _ b: [Float], m: Int, n: Int, k: Int, tile: Int) throws -> [Float] {
    var c = [Float](repeating: 0, count: m * n)
    for i0 in stride(from: 0, to: m, by: tile) {
        for p0 in stride(from: 0, to: k, by: tile) {
            for j0 in stride(from: 0, to: n, by: tile) {
                // Inside the tile: i-p-j order keeps the innermost loop on contiguous rows of B and C.
                for i in i0..<min(i0 + tile, m) {
                    for p in p0..<min(p0 + tile, k) {
                        let x = a[i * k + p]
                        for j in j0..<min(j0 + tile, n) { c[i * n + j] += x * b[p * n + j] }
                    }
                }
            }
        }
    }
    return c
}
