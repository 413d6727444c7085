// ServingByHand.swift — Chapter 9 exercise: routing a mixed batch to its adapters.
import ExerciseKit

/// Task 9.1 — segments of a mixed-adapter batch.
///
/// Row b of a batch asks for adapter `choices[b]` (nil: the base model only). Serving runs the base
/// matmul once for all rows, then each adapter's low-rank branch once, on just the rows that chose it.
/// Return those groups: one entry per adapter that some row chose, sorted by adapter name, each with
/// its rows in increasing order. Rows that chose nil belong to no group.
public func adapterSegments(_ choices: [String?]) throws -> [(adapter: String, rows: [Int])] {
    // TODO: collect the row indices of every non-nil choice, grouped by adapter name.
    // TODO: sort the groups by name (rows are already increasing if you scan the batch in order).
    try todo("9.1")
}
