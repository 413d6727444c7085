// WorkerPool.swift — persistent worker threads that wait for work by spinning, then by sleeping.
//
// Teaches: why handing work to a second core can cost more than the work. `DispatchQueue.concurrentPerform`
// wakes a pool thread that has gone to sleep; on a virtual machine the sleeping core must be woken by an
// interrupt through the hypervisor, tens of microseconds each time. A GEMM that synchronises its threads
// a few times per call, or a training step with hundreds of threaded kernels, pays that again and again:
// 2 threads were measured no faster than 1 on 512³. BLAS libraries keep their threads spinning for a
// while after each job, and so does this pool:
//  1. The caller publishes a job (a closure and an iteration count) and bumps a generation counter.
//  2. Workers that are spinning see the new generation at once; sleeping ones are woken by a semaphore.
//  3. Everyone, the caller included, claims iterations from a shared counter until none are left, and
//     each worker reports done. The caller returns when all workers have reported, so the job's fields
//     are never rewritten while a worker could still read them.
//  4. A worker that sees no job for `spinBudget` goes to sleep (it never burns a core for long).
// Which thread runs an iteration never changes what the iteration computes, so results stay bitwise
// identical for any number of threads.
// Leaves out: work stealing, thread affinity, NUMA, shrinking the pool. One job runs at a time; a
// second caller (another thread, or a job that itself asks for threads) gets Dispatch instead.
import Foundation
import CSpinWait

/// A team of `workers` persistent threads that run `(Int) -> Void` jobs together with the caller.
final class WorkerPool: @unchecked Sendable {
    /// One pool per process with one worker per extra core (none on a single core). Created on first
    /// use; its threads live as long as the process.
    static let shared = WorkerPool(workers: ProcessInfo.processInfo.activeProcessorCount - 1)

    /// How long an idle worker spins before it sleeps: long enough to bridge the serial code between
    /// two threaded kernels of a training step, short enough not to matter when the process idles.
    static let spinBudgetNanoseconds: UInt64 = 500_000

    /// The number of worker threads (the caller makes one more participant).
    let workers: Int
    /// Held by the thread whose job is running; a second caller sees it taken and uses Dispatch.
    private let running = NSLock()
    /// Shared counters, one cache line (64 bytes) apart so the threads do not fight over one line:
    /// [0] generation, [8] next iteration to claim, [16] workers done, [24 + 8w] worker w is asleep.
    private let counters: UnsafeMutablePointer<CLong>
    /// The current job. Written only by the caller, before the generation bump, and cleared only after
    /// every worker has reported done.
    private var job: ((Int) -> Void)?
    private var iterations = 0
    /// One semaphore per worker, signalled by the caller when that worker is asleep.
    private let wakeUps: [DispatchSemaphore]

    private var generation: UnsafeMutablePointer<CLong> { counters }
    private var nextIteration: UnsafeMutablePointer<CLong> { counters + 8 }
    private var workersDone: UnsafeMutablePointer<CLong> { counters + 16 }
    private func asleep(_ worker: Int) -> UnsafeMutablePointer<CLong> { counters + 24 + 8 * worker }

    init(workers: Int) {
        self.workers = max(0, workers)
        counters = .allocate(capacity: 24 + 8 * self.workers)
        counters.initialize(repeating: 0, count: 24 + 8 * self.workers)
        wakeUps = (0..<self.workers).map { _ in DispatchSemaphore(value: 0) }
        for worker in 0..<self.workers {
            let thread = Thread { [self] in self.serve(worker) }
            thread.name = "tinytune-worker-\(worker)"
            thread.start()
        }
    }

    /// Calls `body(i)` once for every i in 0..<iterations, spread over the caller and the workers, and
    /// returns when all calls have finished. `body` must only write memory that iteration i owns.
    func run(iterations count: Int, _ body: @Sendable (Int) -> Void) {
        if count <= 0 { return }
        if count == 1 || workers == 0 { for i in 0..<count { body(i) }; return }
        // A job is already running (another thread's, or ours and this is a nested request).
        guard running.try() else {
            DispatchQueue.concurrentPerform(iterations: count, execute: body)
            return
        }
        defer { running.unlock() }
        withoutActuallyEscaping(body) { body in
            // 1. Publish: the fields first, then the generation bump that makes them visible.
            job = body
            iterations = count
            tinytune_store_release(nextIteration, 0)
            tinytune_store_release(workersDone, 0)
            tinytune_fetch_add(generation, 1)
            // 2. Wake the workers that went to sleep (the exchange pairs with the worker's own check).
            for worker in 0..<workers where tinytune_exchange(asleep(worker), 0) == 1 {
                wakeUps[worker].signal()
            }
            // 3. Take a share of the iterations, then wait for every worker's report.
            claimIterations(body, count)
            while tinytune_load_acquire(workersDone) < workers { tinytune_cpu_relax() }
            job = nil
        }
    }

    /// Claims and runs iterations until the shared counter passes the end.
    private func claimIterations(_ body: (Int) -> Void, _ count: Int) {
        while true {
            let i = tinytune_fetch_add(nextIteration, 1)
            if i >= count { return }
            body(i)
        }
    }

    /// A worker's life: wait for a generation it has not seen, run its share, report, repeat.
    private func serve(_ worker: Int) {
        var seen: CLong = 0
        while true {
            seen = waitForJob(after: seen, worker: worker)
            if let body = job { claimIterations(body, iterations) }
            tinytune_fetch_add(workersDone, 1)
        }
    }

    /// Spins until the generation differs from `seen`; after the spin budget, sleeps until woken.
    /// Returns the new generation.
    private func waitForJob(after seen: CLong, worker: Int) -> CLong {
        var start: UInt64 = 0
        var spins = 0
        while true {
            let now = tinytune_load_acquire(generation)
            if now != seen { return now }
            tinytune_cpu_relax()
            spins &+= 1
            // Reading the clock costs ~20 ns; do it every 256 spins (a few microseconds).
            guard spins & 255 == 0 else { continue }
            let time = DispatchTime.now().uptimeNanoseconds
            if start == 0 { start = time; continue }
            guard time - start > Self.spinBudgetNanoseconds else { continue }
            // Sleep: announce it, then look once more. Either this look sees the new job, or the
            // caller's exchange sees the announcement and signals — never neither.
            tinytune_store_ordered(asleep(worker), 1)
            if tinytune_load_ordered(generation) != seen {
                // The caller may already have taken the announcement back and signalled: consume it.
                if tinytune_exchange(asleep(worker), 0) == 0 { wakeUps[worker].wait() }
            } else {
                wakeUps[worker].wait()
            }
            start = 0
        }
    }
}
