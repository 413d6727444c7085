// ExerciseKit.swift — how the exercises work: stubs that throw, probes that notice, a catalogue.
//
// Teaches (the learner): every exercise is a function in `Exercises/ChNN/` whose body is
// `try todo("7.2")`. Replace that line with your solution; `swift test --filter "Task 7.2"` then
// runs the task's tests, which were skipped until now, and `swift run exercises` shows your progress.
// A stub never crashes: it throws `Unimplemented`, so one unsolved exercise cannot stop the others.
// Leaves out: hints and grading beyond pass/fail (the tests' messages are the hints).

/// Thrown by an exercise stub that has not been written yet.
public struct Unimplemented: Error, CustomStringConvertible, Equatable {
    /// The task id, e.g. "7.2".
    public let task: String
    /// The error for task `task`.
    public init(task: String) { self.task = task }
    public var description: String { "Task \(task) is not implemented yet" }
}

/// The body of every exercise stub: always throws `Unimplemented(task:)`.
public func todo(_ task: String) throws -> Never {
    throw Unimplemented(task: task)
}

/// Whether a learner has attempted an exercise.
public enum ExerciseStatus: String, Sendable {
    /// The stub no longer throws `Unimplemented`.
    case attempted
    /// The stub still throws `Unimplemented`.
    case pending
}

/// One exercise: where it is and how to tell whether it has been attempted.
public struct Exercise: Sendable {
    /// Task id "chapter.number", e.g. "2.1".
    public let id: String
    public let title: String
    /// Path of the file to edit, relative to the package root.
    public let file: String
    /// Calls the stub once with a trivial input; must not have side effects.
    public let probe: @Sendable () throws -> Void

    /// An exercise entry.
    public init(id: String, title: String, file: String, probe: @escaping @Sendable () throws -> Void) {
        self.id = id
        self.title = title
        self.file = file
        self.probe = probe
    }

    /// The chapter number (the part of the id before the dot).
    public var chapter: Int { Int(id.split(separator: ".").first ?? "") ?? 0 }

    /// `.pending` while the stub throws `Unimplemented`; any other outcome (a value, another error)
    /// means the learner has written something.
    public var status: ExerciseStatus {
        do {
            try probe()
            return .attempted
        } catch is Unimplemented {
            return .pending
        } catch {
            return .attempted
        }
    }

    /// The command that runs this task's tests.
    public var testCommand: String { "swift test --filter \"Task \(id)\"" }
}
