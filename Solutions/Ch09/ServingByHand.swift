// ServingByHand.swift — Chapter 9 exercise: routing a mixed batch to its adapters (solved).
import ExerciseKit

/// Task 9.1 — segments of a mixed-adapter batch.
///
/// Row b of a batch asks for adapter `choices[b]` (nil: the base model only). Serving runs the base
/// matmul once for all rows, then each adapter's low-rank branch once, on just the rows that chose it.
/// Return those groups: one entry per adapter that some row chose, sorted by adapter name, each with
/// its rows in increasing order. Rows that chose nil belong to no group.
public func adapterSegments(_ choices: [String?]) throws -> [(adapter: String, rows: [Int])] {
    // One scan of the batch: each row joins its adapter's group, so rows stay in increasing order.
    var groups: [String: [Int]] = [:]
    for (row, choice) in choices.enumerated() {
        guard let choice else { continue }      // base-only rows need no branch at all
        groups[choice, default: []].append(row)
    }
    // A fixed (sorted) order makes the batch's result independent of dictionary order. Each group is then
    // gathered into one dense matrix, so an adapter costs two thin matmuls however its rows are scattered.
    return groups.keys.sorted().map { ($0, groups[$0] ?? []) }
}
