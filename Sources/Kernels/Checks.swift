// Checks.swift — argument checks that survive `-Ounchecked`.
//
// Teaches a build-setting trap: the numeric targets compile with `-Ounchecked` for speed, and under
// it Swift's `precondition` is *assumed* true rather than checked — a shape mismatch would silently
// read out of bounds. `require` is checked in every build mode (it calls `fatalError`, which is never
// removed), so API misuse still stops with a message naming the op and the shapes.
// Leaves out: recoverable errors (functions that read user input throw instead).

/// Stops the program with `message` when `condition` is false, in every optimisation mode.
@inlinable @inline(__always)
public func require(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String,
                    file: StaticString = #fileID, line: UInt = #line) {
    if !condition() { fatalError(message(), file: file, line: line) }
}
