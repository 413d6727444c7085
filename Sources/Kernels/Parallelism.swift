// Parallelism.swift — how many threads kernels may use, as a task-local mode (no global state).
//
// Teaches: splitting independent work over cores with Dispatch, and scoping a setting with
// `@TaskLocal` so tests can run the same computation at 1 and 2 threads side by side.
// Leaves out: thread pools with work stealing, NUMA, affinity.
import Foundation

/// The thread budget for kernels. Read `Parallelism.threads`; change it for a scope with
/// `Parallelism.$threads.withValue(1) { ... }`.
public enum Parallelism {
    /// Maximum threads a kernel may use in the current task (default: all active cores).
    @TaskLocal public static var threads: Int = ProcessInfo.processInfo.activeProcessorCount
}
