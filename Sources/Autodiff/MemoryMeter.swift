// MemoryMeter.swift — counting the bytes that tensors hold, by what they are for.
//
// Teaches: where training memory goes. Every tensor buffer is tagged with a role (weights,
// gradients, optimizer state, activations); a meter installed for a scope adds bytes when a buffer is
// allocated and subtracts them when it is freed, and remembers the peak. Chapters use it to put a
// *measured* breakdown next to the estimator's formula.
// Leaves out: allocator overhead, the Swift runtime's own memory, and buffers made outside tensors
// (unless they report themselves with `MeteredAllocation`).
import Kernels
import Foundation

/// What a buffer is for. The four roles of the training-memory equation, plus `other`.
public enum MemoryRole: String, Sendable, CaseIterable, Codable {
    case weights, gradients, optimizerState, activations, other

    /// The role given to buffers allocated in the current task (default: activations).
    /// Change it for a scope: `MemoryRole.$current.withValue(.optimizerState) { ... }`.
    @TaskLocal public static var current: MemoryRole = .activations
}

/// Live and peak bytes, per role, of the buffers allocated while it is installed.
///
/// Install with `MemoryMeter.measure { ... }` (or `meter.install { ... }`); buffers remember the meter
/// that saw them born and report their release to it, even after the scope ends.
public final class MemoryMeter: @unchecked Sendable {
    /// The meter that new buffers report to in the current task, if any.
    @TaskLocal public static var current: MemoryMeter?

    private let lock = NSLock()
    private var live: [MemoryRole: Int] = [:]
    private var peakByRole: [MemoryRole: Int] = [:]
    private var liveTotal = 0
    private var peakTotalBytes = 0
    private var breakdownAtPeak: [MemoryRole: Int] = [:]

    /// A meter with zero counts.
    public init() {}

    /// Runs `body` with this meter installed and returns its result.
    public func install<R>(_ body: () throws -> R) rethrows -> R {
        try MemoryMeter.$current.withValue(self, operation: body)
    }

    /// Runs `body` under a fresh meter; returns the body's result and the meter.
    public static func measure<R>(_ body: () throws -> R) rethrows -> (result: R, meter: MemoryMeter) {
        let meter = MemoryMeter()
        let result = try meter.install(body)
        return (result, meter)
    }

    /// Records `bytes` newly held under `role`.
    public func allocate(_ bytes: Int, role: MemoryRole) {
        lock.lock(); defer { lock.unlock() }
        live[role, default: 0] += bytes
        peakByRole[role] = max(peakByRole[role, default: 0], live[role]!)
        liveTotal += bytes
        if liveTotal > peakTotalBytes {
            // Remember what the memory was made of at the moment of the overall peak.
            peakTotalBytes = liveTotal
            breakdownAtPeak = live
        }
    }

    /// Records `bytes` released from `role`.
    public func release(_ bytes: Int, role: MemoryRole) {
        lock.lock(); defer { lock.unlock() }
        live[role, default: 0] -= bytes
        liveTotal -= bytes
    }

    /// Moves `bytes` from one role to another (a buffer re-tagged, e.g. a new tensor made a weight).
    public func retag(_ bytes: Int, from old: MemoryRole, to new: MemoryRole) {
        release(bytes, role: old)
        allocate(bytes, role: new)
    }

    /// Bytes held now under `role`.
    public func liveBytes(_ role: MemoryRole) -> Int { lock.lock(); defer { lock.unlock() }; return live[role, default: 0] }
    /// Bytes held now in total.
    public var liveTotalBytes: Int { lock.lock(); defer { lock.unlock() }; return liveTotal }
    /// The largest value `liveBytes(role)` reached.
    public func peakBytes(_ role: MemoryRole) -> Int { lock.lock(); defer { lock.unlock() }; return peakByRole[role, default: 0] }
    /// The largest total reached.
    public var peakTotal: Int { lock.lock(); defer { lock.unlock() }; return peakTotalBytes }
    /// Bytes per role at the moment the total peaked (these add up to `peakTotal`).
    public var peakBreakdown: [MemoryRole: Int] { lock.lock(); defer { lock.unlock() }; return breakdownAtPeak }

    /// Starts a new peak measurement from the current live bytes (e.g. after building the model).
    public func resetPeak() {
        lock.lock(); defer { lock.unlock() }
        peakTotalBytes = liveTotal
        breakdownAtPeak = live
        peakByRole = live
    }
}

/// A raw allocation of `count` elements of `T` that reports itself to the current meter.
/// Tensor storage is one; quantized weights (packed bytes) use it too so their real size is measured.
public final class MeteredAllocation<T>: @unchecked Sendable {
    /// Start of the buffer (zero-initialised).
    public let pointer: UnsafeMutablePointer<T>
    /// Number of elements.
    public let count: Int
    /// The meter that saw this buffer allocated (nil if none was installed).
    public let meter: MemoryMeter?
    /// The role the bytes are counted under; setting it moves the bytes between roles.
    public var role: MemoryRole {
        didSet { if oldValue != role { meter?.retag(byteCount, from: oldValue, to: role) } }
    }
    /// Size in bytes.
    public var byteCount: Int { count * MemoryLayout<T>.stride }

    /// Allocates `count` elements, zero-filled, counted under `role` (default: the task's role).
    public init(count: Int, zero: T, role: MemoryRole = MemoryRole.current) {
        require(count >= 0, "MeteredAllocation: negative element count \(count)")
        self.count = count
        _ = HeapReuse.isApplied
        let profile = OpProfile.current, start = profile == nil ? 0 : OpProfile.now()
        self.pointer = UnsafeMutablePointer<T>.allocate(capacity: max(count, 1))
        pointer.initialize(repeating: zero, count: count)
        if let profile { profile.allocated(nanoseconds: OpProfile.now() - start) }
        self.role = role
        self.meter = MemoryMeter.current
        meter?.allocate(count * MemoryLayout<T>.stride, role: role)
    }

    /// Allocates `count` elements *without* initialising them, for a buffer its creator overwrites
    /// completely before anyone reads it (an op's output): this skips a pass over memory that costs
    /// as much as a cheap op. `T` must be a trivial type (Float, UInt8, …).
    public init(uninitializedCount count: Int, role: MemoryRole = MemoryRole.current) {
        require(count >= 0, "MeteredAllocation: negative element count \(count)")
        self.count = count
        _ = HeapReuse.isApplied
        let profile = OpProfile.current, start = profile == nil ? 0 : OpProfile.now()
        self.pointer = UnsafeMutablePointer<T>.allocate(capacity: max(count, 1))
        if let profile { profile.allocated(nanoseconds: OpProfile.now() - start) }
        self.role = role
        self.meter = MemoryMeter.current
        meter?.allocate(count * MemoryLayout<T>.stride, role: role)
    }

    deinit {
        meter?.release(byteCount, role: role)
        pointer.deallocate()
    }
}
