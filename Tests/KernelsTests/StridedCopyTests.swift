// StridedCopyTests.swift — the strided gather against a naive per-element odometer, and the heap policy.
import Testing
import Foundation
@testable import Kernels

/// The specification: destination[flat index] (=|+=) source[Σ index·strides], element by element.
private func naiveGather(_ source: [Float], strides: [Int], shape: [Int], into destination: inout [Float], accumulate: Bool) {
    let count = shape.reduce(1, *)
    for flat in 0..<count {
        var rest = flat, offset = 0
        for axis in stride(from: shape.count - 1, through: 0, by: -1) {
            offset += (rest % shape[axis]) * strides[axis]
            rest /= shape[axis]
        }
        destination[flat] = accumulate ? destination[flat] + source[offset] : source[offset]
    }
}

@Suite struct StridedCopyTests {
    /// Row-major strides of `shape`.
    static func strides(_ shape: [Int]) -> [Int] {
        var result = [Int](repeating: 1, count: shape.count)
        for axis in stride(from: shape.count - 2, through: 0, by: -1) { result[axis] = result[axis + 1] * shape[axis + 1] }
        return result
    }

    @Test(arguments: [
        // [B, T, H, D] → [B, H, T, D] (attention's head split) and back.
        ([2, 5, 3, 4], [0, 2, 1, 3]), ([2, 3, 5, 4], [0, 2, 1, 3]),
        // Innermost axis moved: the runs are strided.
        ([3, 4, 5], [2, 0, 1]), ([6, 7], [1, 0]),
        // Extent-1 axes and the identity (every axis merges into one run).
        ([1, 4, 1, 3], [0, 2, 1, 3]), ([2, 3, 4], [0, 1, 2]),
    ])
    func permutationsMatchTheNaiveCopy(shape: [Int], order: [Int]) {
        let count = shape.reduce(1, *)
        let source = (0..<count).map { Float($0) * 0.5 - 3 }
        let inStrides = Self.strides(shape)
        let outShape = order.map { shape[$0] }, readStrides = order.map { inStrides[$0] }
        for accumulate in [false, true] {
            var fast = (0..<count).map { Float($0 % 7) }, slow = fast
            source.withUnsafeBufferPointer { from in
                fast.withUnsafeMutableBufferPointer { to in
                    StridedCopy.gather(from: from.baseAddress!, strides: readStrides, shape: outShape,
                                       into: to.baseAddress!, accumulate: accumulate)
                }
            }
            naiveGather(source, strides: readStrides, shape: outShape, into: &slow, accumulate: accumulate)
            #expect(fast == slow, "\(shape) \(order) accumulate \(accumulate)")
        }
    }

    @Test func broadcastStridesRepeatTheSource() {
        // A [3] row read with stride 0 along the outer axis fills [4, 3] with four copies.
        let source: [Float] = [1, 2, 3]
        var out = [Float](repeating: 0, count: 12)
        source.withUnsafeBufferPointer { from in
            out.withUnsafeMutableBufferPointer { StridedCopy.gather(from: from.baseAddress!, strides: [0, 1], shape: [4, 3], into: $0.baseAddress!) }
        }
        #expect(out == [1, 2, 3, 1, 2, 3, 1, 2, 3, 1, 2, 3])
    }

    @Test func largeCopiesOnTwoThreadsEqualOneThread() {
        // Enough runs to be split over threads: [8, 64, 4, 32] → [8, 4, 64, 32].
        let shape = [8, 64, 4, 32], order = [0, 2, 1, 3]
        let count = shape.reduce(1, *)
        let source = (0..<count).map { Float(($0 * 7919) % 1000) }
        let inStrides = Self.strides(shape)
        var one = [Float](repeating: 0, count: count), two = one, slow = one
        for (threads, target) in [(1, 0), (2, 1)] {
            Parallelism.$threads.withValue(threads) {
                source.withUnsafeBufferPointer { from in
                    if target == 0 {
                        one.withUnsafeMutableBufferPointer { StridedCopy.gather(from: from.baseAddress!, strides: order.map { inStrides[$0] }, shape: order.map { shape[$0] }, into: $0.baseAddress!) }
                    } else {
                        two.withUnsafeMutableBufferPointer { StridedCopy.gather(from: from.baseAddress!, strides: order.map { inStrides[$0] }, shape: order.map { shape[$0] }, into: $0.baseAddress!) }
                    }
                }
            }
        }
        naiveGather(source, strides: order.map { inStrides[$0] }, shape: order.map { shape[$0] }, into: &slow, accumulate: false)
        #expect(one == slow && two == slow)
    }
}

