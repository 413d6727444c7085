// Workbook.swift — the solved exercises, compiled by `SOLUTIONS=1 swift test`.

/// Facts about this build of the workbook.
public enum Workbook {
    /// true: this is the solutions build.
    public static let isSolutions = true
}
