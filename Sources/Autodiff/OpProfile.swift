// OpProfile.swift — where the time of a training step goes, op by op.
//
// Teaches: profiling an autodiff engine from inside. Every op ends by calling `Tensor.record`, and
// backward runs one closure per recorded node, so two hooks see everything: forward time is charged
// to an op as the time since the previous op finished (its own kernels plus any glue before it), and
// backward time is measured around each node's closure. Buffer allocation (malloc + zero fill) is
// timed separately, as is anything the caller brackets with `measure` (the optimizer, say).
// Install a profile for a scope — `profile.install { step() }` — and print `profile.table()`.
// Leaves out: per-call-site attribution (all matmuls are one row), hardware counters, nested scopes.
import Foundation
import Kernels

/// Accumulated wall time per op (forward and backward), allocation, and named extra phases.
public final class OpProfile: @unchecked Sendable {
    /// The profile ops report to in the current task, if any.
    @TaskLocal public static var current: OpProfile?

    private let lock = NSLock()
    private var forward: [Op: UInt64] = [:]
    private var backward: [Op: UInt64] = [:]
    private var calls: [Op: Int] = [:]
    private var phases: [String: UInt64] = [:]
    private var allocation: UInt64 = 0
    private var lastMark: UInt64 = 0

    /// An empty profile.
    public init() {}

    /// Nanoseconds on a monotonic clock.
    @inline(__always) static func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

    /// Runs `body` with this profile installed (ops inside report to it) and returns its result.
    public func install<R>(_ body: () throws -> R) rethrows -> R {
        lock.lock(); lastMark = Self.now(); lock.unlock()
        return try OpProfile.$current.withValue(self, operation: body)
    }

    /// Times `body` as the phase `name` (e.g. "optimizer"); ops run inside it are not charged.
    public func measure<R>(_ name: String, _ body: () throws -> R) rethrows -> R {
        let start = Self.now()
        let result = try OpProfile.$current.withValue(nil, operation: body)
        let end = Self.now()
        lock.lock(); phases[name, default: 0] += end - start; lastMark = end; lock.unlock()
        return result
    }

    /// Starts the forward clock (call before a forward pass that follows other work).
    public func markForwardStart() { lock.lock(); lastMark = Self.now(); lock.unlock() }

    /// Charges the time since the previous op to `op` in the current profile, if any: for work done
    /// outside the tape that should get its own row (the KV-cached attention of generation).
    public static func chargeUntaped(_ op: Op) { current?.forwardFinished(op) }

    /// An op's forward finished: it is charged the time since the previous mark.
    func forwardFinished(_ op: Op) {
        let time = Self.now()
        lock.lock(); forward[op, default: 0] += time - lastMark; calls[op, default: 0] += 1; lastMark = time; lock.unlock()
    }

    /// An op's backward closure took `nanoseconds`.
    func backwardFinished(_ op: Op, nanoseconds: UInt64) {
        lock.lock(); backward[op, default: 0] += nanoseconds; lastMark = Self.now(); lock.unlock()
    }

    /// A tensor buffer took `nanoseconds` to allocate and zero (also inside some op's time).
    func allocated(nanoseconds: UInt64) { lock.lock(); allocation += nanoseconds; lock.unlock() }

    /// One row of the profile: milliseconds forward and backward, and calls, for an op or phase.
    public struct Row: Sendable {
        public let name: String
        public let forwardMs: Double, backwardMs: Double
        public let calls: Int
        public var totalMs: Double { forwardMs + backwardMs }
    }

    /// Rows for every op and phase seen, largest total first; allocation is the last row (its time is
    /// already inside the ops' rows).
    public var rows: [Row] {
        lock.lock(); defer { lock.unlock() }
        let ops = Set(forward.keys).union(backward.keys)
        var result = ops.map { op in
            Row(name: op.rawValue, forwardMs: Double(forward[op, default: 0]) / 1e6,
                backwardMs: Double(backward[op, default: 0]) / 1e6, calls: calls[op, default: 0])
        }
        result += phases.map { Row(name: $0.key, forwardMs: Double($0.value) / 1e6, backwardMs: 0, calls: 0) }
        result.sort { $0.totalMs > $1.totalMs }
        result.append(Row(name: "(allocation)", forwardMs: Double(allocation) / 1e6, backwardMs: 0, calls: 0))
        return result
    }

    /// Total milliseconds of ops and phases (allocation excluded: it is part of the ops).
    public var totalMs: Double { rows.dropLast().reduce(0) { $0 + $1.totalMs } }

    /// A readable table: op, forward ms, backward ms, share of the total, calls — each divided by `steps`.
    public func table(steps: Int = 1) -> String {
        let per = Double(max(steps, 1)), total = totalMs
        func pad(_ s: String, _ w: Int) -> String { s.count >= w ? s + " " : s + String(repeating: " ", count: w - s.count) }
        var lines = [pad("op", 16) + pad("forward ms", 12) + pad("backward ms", 13) + pad("share", 8) + "calls"]
        for row in rows {
            let share = row.name == "(allocation)" ? "" : String(format: "%.1f%%", 100 * row.totalMs / max(total, 1e-9))
            lines.append(pad(row.name, 16) + pad(String(format: "%.2f", row.forwardMs / per), 12)
                         + pad(row.backwardMs == 0 ? "" : String(format: "%.2f", row.backwardMs / per), 13)
                         + pad(share, 8) + (row.calls == 0 ? "" : "\(row.calls / max(steps, 1))"))
        }
        return lines.joined(separator: "\n")
    }
}
