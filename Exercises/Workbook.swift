// Workbook.swift — the learner's exercises (stubs). Solved versions live in Solutions/;
// `SOLUTIONS=1 swift test` compiles those instead.

/// Facts about this build of the workbook.
public enum Workbook {
    /// false: these are the stubs as shipped.
    public static let isSolutions = false
}
