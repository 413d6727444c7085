// WorkerPool.swift — persistent worker threads that wait for work by spinning, then by sleeping.
//
// Teaches: why handing work to a second core can cost more than the work. `DispatchQueue.concurrentPerform`
// wakes a pool thread that has gone to sleep; on a virtual machine the sleeping core must be woken by an
// interrupt through the hypervisor, tens of microseconds each time. A GEMM that synchronises its threads
// a few times per call, or a training step with hundreds of threaded kernels, pays that again and again:
// 2 threads were measured no faster than 1 on 512³. BLAS libraries keep their threads spinning for a
// while after each job, and so does this pool:
//  1. The caller publishes a job (a closure and an iteration count) under a new generation number.
//  2. Workers that are spinning see it at once; sleeping ones are woken by a semaphore.
//  3. Everyone, the caller included, claims iterations from one shared word that holds the generation
//     and the next iteration together, so a claim can only succeed for the job that is current.
//  4. The caller returns when every iteration has *finished* — not when every worker has reported:
//     a worker that was descheduled (a busy machine: a build, another test) and wakes late finds the
//     job gone and claims nothing. Waiting for such a worker is what makes spinning pools collapse
//     when there are more runnable threads than cores.
//  5. A worker that finds nothing to claim for `spinBudget` goes to sleep; a caller that waits long
//     for a running iteration yields its core (the iteration's thread may be queued on it).
// Which thread runs an iteration never changes what the iteration computes, so results stay bitwise
// identical for any number of threads.
// Leaves out: work stealing, thread affinity, NUMA, shrinking the pool. One job runs at a time; a
// second caller (another thread, or a job that itself asks for threads) gets Dispatch instead.
import Foundation
import CSpinWait

/// A team of `workers` persistent threads that run `(Int) -> Void` jobs together with the caller.
final class WorkerPool: @unchecked Sendable {
    /// One pool per process with one worker per extra core of the machine (none on a single core), so
    /// an explicit `Parallelism.$threads.withValue(2)` gets its second thread even in a process confined
    /// to one core (whose default budget, `Parallelism.availableCores`, is 1). Created on first use; its
    /// threads live as long as the process.
    static let shared = WorkerPool(workers: ProcessInfo.processInfo.activeProcessorCount - 1)

    /// How long an idle worker spins before it sleeps: long enough to bridge the serial code between
    /// two threaded kernels of a training step, short enough not to matter when the process idles.
    static let spinBudgetNanoseconds: UInt64 = 500_000
    /// How long the caller spins for a running iteration before it starts yielding its core.
    static let waitBudgetNanoseconds: UInt64 = 50_000

    /// The number of worker threads (the caller makes one more participant).
    let workers: Int
    /// Held by the thread whose job is running; a second caller sees it taken and uses Dispatch.
    private let running = NSLock()
    /// Shared words, 64 bytes (8 words) apart so the threads do not fight over one cache line:
    /// [0] the claim word, generation << 32 | next iteration; [8] iterations finished;
    /// [16], [24] the iteration counts of the two job slots; [32 + 8w] worker w is asleep.
    private let words: UnsafeMutablePointer<CLong>
    /// Two job slots, used by alternate generations. A slot is rewritten only two generations later,
    /// after its job has finished; a worker reads a slot's closure only after claiming one of its
    /// iterations, which keeps that job (and the slot) alive until the iteration is done.
    private let bodies: UnsafeMutablePointer<((Int) -> Void)?>
    /// One semaphore per worker, signalled by the caller when that worker is asleep.
    private let wakeUps: [DispatchSemaphore]

    private var claimWord: UnsafeMutablePointer<CLong> { words }
    private var finished: UnsafeMutablePointer<CLong> { words + 8 }
    private func slotCount(_ generation: CLong) -> UnsafeMutablePointer<CLong> { words + 16 + 8 * Int(generation & 1) }
    private func asleep(_ worker: Int) -> UnsafeMutablePointer<CLong> { words + 32 + 8 * worker }

    init(workers: Int) {
        self.workers = max(0, workers)
        words = .allocate(capacity: 32 + 8 * self.workers)
        words.initialize(repeating: 0, count: 32 + 8 * self.workers)
        bodies = .allocate(capacity: 2)
        bodies.initialize(repeating: nil, count: 2)
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
        if count == 1 || workers == 0 || count >= 1 << 31 { for i in 0..<count { body(i) }; return }
        // A job is already running (another thread's, or ours and this is a nested request).
        guard running.try() else {
            DispatchQueue.concurrentPerform(iterations: count, execute: body)
            return
        }
        defer { running.unlock() }
        withoutActuallyEscaping(body) { body in
            // 1. Publish: the slot and the counters first, then the claim word that makes them visible.
            let generation = (tinytune_load_acquire(claimWord) >> 32) + 1
            bodies[Int(generation & 1)] = body
            tinytune_store_ordered(slotCount(generation), CLong(count))
            tinytune_store_ordered(finished, 0)
            tinytune_store_ordered(claimWord, generation << 32)
            // 2. Wake the workers that went to sleep (the exchange pairs with the worker's own check).
            for worker in 0..<workers where tinytune_exchange(asleep(worker), 0) == 1 {
                wakeUps[worker].signal()
            }
            // 3. Take a share of the iterations, then wait until every iteration has finished.
            while claimAndRun() {}
            waitUntilFinished(count)
            bodies[Int(generation & 1)] = nil
        }
    }

    /// Claims one iteration of the current job and runs it; false when there is none left to claim.
    private func claimAndRun() -> Bool {
        while true {
            let word = tinytune_load_acquire(claimWord)
            let (generation, next) = (word >> 32, word & 0xFFFF_FFFF)
            guard next < tinytune_load_acquire(slotCount(generation)) else { return false }
            // The claim succeeds only if the word is unchanged: same job, same next iteration.
            guard tinytune_compare_exchange(claimWord, word, word + 1) != 0 else { continue }
            bodies[Int(generation & 1)]?(Int(next))
            tinytune_fetch_add(finished, 1)
            return true
        }
    }

    /// Spins (then yields the core) until `count` iterations have finished.
    private func waitUntilFinished(_ count: Int) {
        var start: UInt64 = 0
        var spins = 0
        while tinytune_load_acquire(finished) < count {
            tinytune_cpu_relax()
            spins &+= 1
            guard spins & 255 == 0 else { continue }
            let time = DispatchTime.now().uptimeNanoseconds
            if start == 0 { start = time } else if time - start > Self.waitBudgetNanoseconds { sched_yield() }
        }
    }

    /// A worker's life: claim and run iterations while there are any; spin, then sleep, when there are none.
    private func serve(_ worker: Int) {
        var idleSince: UInt64 = 0
        var spins = 0
        while true {
            if claimAndRun() { idleSince = 0; continue }
            tinytune_cpu_relax()
            spins &+= 1
            // Reading the clock costs ~20 ns; do it every 256 spins (a few microseconds).
            guard spins & 255 == 0 else { continue }
            let time = DispatchTime.now().uptimeNanoseconds
            if idleSince == 0 { idleSince = time; continue }
            guard time - idleSince > Self.spinBudgetNanoseconds else { continue }
            sleep(worker)
            idleSince = 0
        }
    }

    /// Sleeps until the caller signals. Announce the sleep, then look once more: either this look sees
    /// new work, or the caller's exchange sees the announcement and signals — never neither.
    private func sleep(_ worker: Int) {
        tinytune_store_ordered(asleep(worker), 1)
        let word = tinytune_load_ordered(claimWord)
        if (word & 0xFFFF_FFFF) < tinytune_load_ordered(slotCount(word >> 32)) {
            // Work arrived meanwhile. The caller may already have taken the announcement back and
            // signalled: then consume that signal, so it cannot wake a later sleep by mistake.
            if tinytune_exchange(asleep(worker), 0) == 0 { wakeUps[worker].wait() }
        } else {
            wakeUps[worker].wait()
        }
    }
}
