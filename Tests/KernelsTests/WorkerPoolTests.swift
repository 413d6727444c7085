// WorkerPoolTests.swift — the spinning worker pool runs every iteration exactly once, in every situation
// that could lose or repeat one: tiny and large jobs, nested jobs, several callers at once, workers that
// went to sleep, more workers than cores.
import Testing
import Foundation
@testable import Kernels

/// Slots written by the iterations of a job: iteration i adds 1 to slot i and nothing else, so a slot
/// that is not exactly 1 afterwards names an iteration that was lost or run twice.
private final class Tally: @unchecked Sendable {
    let slots: UnsafeMutablePointer<Int>
    let count: Int
    init(_ count: Int) {
        self.count = count
        slots = .allocate(capacity: max(1, count))
        slots.initialize(repeating: 0, count: max(1, count))
    }
    deinit { slots.deallocate() }
    func mark(_ i: Int) { slots[i] += 1 }
    /// Indices whose slot is not exactly 1.
    var wrong: [Int] { (0..<count).filter { slots[$0] != 1 } }
}

@Suite(.timeLimit(.minutes(1))) struct WorkerPoolTests {
    @Test(arguments: [0, 1, 2, 3, 7, 64, 1000])
    func everyIterationRunsExactlyOnce(count: Int) {
        let pool = WorkerPool(workers: 1)
        for _ in 0..<50 {
            let tally = Tally(count)
            pool.run(iterations: count) { tally.mark($0) }
            #expect(tally.wrong.isEmpty, "iterations lost or repeated: \(tally.wrong.prefix(5))")
        }
    }

    @Test func moreWorkersThanCoresStillCoverTheJob() {
        let pool = WorkerPool(workers: 5)
        for count in [2, 6, 13, 500] {
            let tally = Tally(count)
            pool.run(iterations: count) { tally.mark($0) }
            #expect(tally.wrong.isEmpty, "count \(count): \(tally.wrong.prefix(5))")
        }
    }

    @Test func aJobInsideAJobFallsBackAndCompletes() {
        let pool = WorkerPool(workers: 1)
        let outer = 4, inner = 9
        let tally = Tally(outer * inner)
        pool.run(iterations: outer) { o in
            pool.run(iterations: inner) { i in tally.mark(o * inner + i) }
        }
        #expect(tally.wrong.isEmpty, "\(tally.wrong.prefix(5))")
    }

    @Test func severalCallersAtOnceEachGetTheirWholeJob() {
        let pool = WorkerPool(workers: 1)
        let callers = 4, count = 257
        let tallies = (0..<callers).map { _ in Tally(count) }
        DispatchQueue.concurrentPerform(iterations: callers) { caller in
            for _ in 0..<20 { pool.run(iterations: count) { tallies[caller].mark($0) } }
        }
        for (caller, tally) in tallies.enumerated() {
            // 20 jobs per caller: every slot counted 20 times.
            #expect((0..<count).allSatisfy { tally.slots[$0] == 20 }, "caller \(caller)")
        }
    }

    @Test func sleepingWorkersAreWokenForTheNextJob() {
        let pool = WorkerPool(workers: 2)
        for round in 0..<5 {
            // Longer than the spin budget: the workers go to sleep before each job.
            usleep(UInt32(WorkerPool.spinBudgetNanoseconds / 1000) * 3)
            let tally = Tally(100)
            pool.run(iterations: 100) { tally.mark($0) }
            #expect(tally.wrong.isEmpty, "round \(round): \(tally.wrong.prefix(5))")
        }
    }

    @Test func workersReallyTakePart() {
        // With one worker and iterations that each wait for the other participant, the job can only
        // finish if two threads run it at once (a serial pool would spin forever: the time limit fails it).
        let pool = WorkerPool(workers: 1)
        let arrived = UnsafeMutablePointer<Int>.allocate(capacity: 1)
        arrived.initialize(to: 0)
        defer { arrived.deallocate() }
        let lock = NSLock()
        struct Box: @unchecked Sendable { let pointer: UnsafeMutablePointer<Int> }
        let box = Box(pointer: arrived)
        pool.run(iterations: 2) { _ in
            lock.lock(); box.pointer.pointee += 1; lock.unlock()
            while true {
                lock.lock(); let both = box.pointer.pointee == 2; lock.unlock()
                if both { break }
            }
        }
        #expect(arrived.pointee == 2)
    }
}

/// The default thread budget counts the cores this process may run on — checked against the kernel's
/// own list of them in /proc/self/status (`Cpus_allowed_list: 0-1`, or `0,2-3`), an independent reading
/// of the same affinity mask (skipped where there is no /proc).
@Suite struct AvailableCoresTests {
    static let allowedList: String? = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8))?
        .split(separator: "\n").first { $0.hasPrefix("Cpus_allowed_list:") }
        .map { $0.dropFirst("Cpus_allowed_list:".count).trimmingCharacters(in: .whitespaces) }

    @Test(.enabled(if: allowedList != nil, "no /proc/self/status here")) func theAffinityMaskIsCounted() throws {
        let list = try #require(Self.allowedList)
        let allowed = list.split(separator: ",").reduce(0) { count, part in
            let ends = part.split(separator: "-").compactMap { Int($0) }
            return count + (ends.count == 2 ? ends[1] - ends[0] + 1 : 1)
        }
        #expect(Parallelism.availableCores == min(allowed, ProcessInfo.processInfo.activeProcessorCount), "\(list)")
        #expect(Parallelism.threads == Parallelism.availableCores)
    }
}
