// Parallelism.swift — how many threads kernels may use, as a task-local mode (no global state), and
// the one helper that splits row-wise work over them.
//
// Teaches: splitting independent work over cores with Dispatch, and scoping a setting with
// `@TaskLocal` so tests can run the same computation at 1 and 2 threads side by side. Work is cut
// into blocks of a fixed size that does not depend on the thread count; each block is computed the
// same way whoever runs it, so results are bitwise identical for any number of threads.
// The threads themselves are a persistent, spinning pool (WorkerPool.swift).
// Leaves out: work stealing, NUMA, pinning threads to cores (the affinity mask is only counted).
import Foundation
import CSpinWait

/// The thread budget for kernels. Read `Parallelism.threads`; change it for a scope with
/// `Parallelism.$threads.withValue(1) { ... }`.
public enum Parallelism {
    /// Maximum threads a kernel may use in the current task (default: `availableCores`).
    @TaskLocal public static var threads: Int = availableCores

    /// The cores this process may run on: the active cores, fewer when the process is confined to a
    /// subset (`taskset -c 0`, a container's cpuset). Foundation's `activeProcessorCount` counts the
    /// machine's cores whatever the affinity, and two spinning threads sharing one core each wait for
    /// the other's time slice — so the affinity mask is counted too (Linux; `tinytune_allowed_cpus`).
    public static let availableCores: Int = {
        let active = max(ProcessInfo.processInfo.activeProcessorCount, 1)
        let allowed = Int(tinytune_allowed_cpus())
        return allowed > 0 ? min(allowed, active) : active
    }()

    /// Work (in multiply-adds or similar) below which a second thread costs more than it saves.
    public static let minimumWorkPerThread = 100_000

    /// A closure handed to worker threads. The callers of `forEachBlock` write disjoint memory per
    /// block, which is what makes sharing it safe.
    private struct Body: @unchecked Sendable { let run: (Range<Int>) -> Void }

    /// Calls `body(range)` for the blocks `0..<blockSize`, `blockSize..<2·blockSize`, … covering
    /// `0..<count`, on up to `Parallelism.threads` threads when the total work (`count · workPerItem`)
    /// is worth it. Blocks never depend on the thread count; `body` must only write what its block owns.
    public static func forEachBlock(count: Int, blockSize: Int, workPerItem: Int, threads: Int? = nil,
                                    _ body: (Range<Int>) -> Void) {
        if count <= 0 { return }
        let blocks = (count + blockSize - 1) / blockSize
        let budget = threads ?? Parallelism.threads
        let workers = max(1, min(budget, blocks, count * workPerItem / minimumWorkPerThread))
        @Sendable func block(_ index: Int) -> Range<Int> { (index * blockSize)..<min(count, (index + 1) * blockSize) }
        if workers == 1 {
            for index in 0..<blocks { body(block(index)) }
            return
        }
        noteSplit(workers)
        withoutActuallyEscaping(body) { body in
            let shared = Body(run: body)
            // Worker w takes a contiguous run of blocks (neighbouring rows share cache lines at the edges).
            perform(iterations: workers) { worker in
                for index in (blocks * worker / workers)..<(blocks * (worker + 1) / workers) { shared.run(block(index)) }
            }
        }
    }

    /// Runs `body(i)` for every i in 0..<iterations on the persistent worker threads, the caller taking
    /// part, and returns when all have finished (`WorkerPool`: spinning workers, no wake-up per call).
    /// `body` must only write memory that iteration i owns.
    static func perform(iterations: Int, _ body: @Sendable (Int) -> Void) {
        WorkerPool.shared.run(iterations: iterations, body)
    }

    /// Counts, for the current task, the kernel calls that really ran on more than one thread.
    @TaskLocal public static var splitCounter: SplitCounter?

    /// Kernels call this just before they hand work to `workers` threads.
    @inline(__always) static func noteSplit(_ workers: Int) {
        if workers > 1 { splitCounter?.add() }
    }
}

/// How many kernel calls split their work over several threads (tests use it to prove that a
/// "1 vs 2 threads" comparison really exercised the threaded code).
public final class SplitCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0
    /// A counter at zero.
    public init() {}
    /// The number of threaded kernel calls so far.
    public var count: Int { lock.lock(); defer { lock.unlock() }; return value }
    func add() { lock.lock(); value += 1; lock.unlock() }
}
