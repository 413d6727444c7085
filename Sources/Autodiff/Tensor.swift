// Tensor.swift — an n-dimensional array of Float32 that remembers how it was computed.
//
// Teaches: the data structure at the heart of every deep-learning library. A tensor is a shape, a
// contiguous row-major buffer, and — when it was produced by an op on tensors that need gradients —
// a node on the tape: its inputs and a closure that turns the gradient of the output into gradients
// of the inputs (see Tape.swift).
// Leaves out: views with arbitrary strides (every op writes a fresh contiguous buffer), other
// dtypes, devices.
import Foundation
import Kernels

/// A row-major Float32 array with optional gradient tracking.
///
/// Tensors are reference types: the graph links them, and parameters are updated in place.
/// `requiresGrad` marks leaves whose gradient we want (parameters); an op's output requires a gradient
/// when any input does and gradients are enabled (see `Tensor.withNoGrad`).
public final class Tensor {
    /// Extent of every axis, outermost first. `[]` is a scalar.
    public let shape: [Int]
    /// The element buffer, `count` floats, row-major.
    public let storage: MeteredAllocation<Float>
    /// Whether gradients flow to (and are stored for) this tensor.
    public var requiresGrad: Bool
    /// ∂loss/∂self accumulated by `backward()`; nil until a backward pass reaches it.
    public internal(set) var grad: Tensor?
    /// The tape entry that produced this tensor (nil for leaves and for untracked results).
    var node: Node?
    /// An optional human name (parameters carry their path, e.g. "h.0.attn.c_attn.weight").
    public var name: String?

    /// A zero-filled tensor of `shape`, counted under `role` by the memory meter.
    public init(zeros shape: [Int], requiresGrad: Bool = false, role: MemoryRole = MemoryRole.current) {
        require(shape.allSatisfy { $0 >= 0 }, "Tensor: negative extent in shape \(shape)")
        self.shape = shape
        self.storage = MeteredAllocation(count: shape.reduce(1, *), zero: 0, role: role)
        self.requiresGrad = requiresGrad
    }

    /// A tensor of `shape` whose elements are *not* initialised: only for an op that writes every
    /// element before the tensor is returned (saves the zero fill of large outputs).
    init(uninitialized shape: [Int]) {
        require(shape.allSatisfy { $0 >= 0 }, "Tensor: negative extent in shape \(shape)")
        self.shape = shape
        self.storage = MeteredAllocation(uninitializedCount: shape.reduce(1, *))
        self.requiresGrad = false
    }

    /// A tensor holding `values` in row-major order; `values.count` must equal the shape's element count.
    public convenience init(_ values: [Float], shape: [Int], requiresGrad: Bool = false,
                            role: MemoryRole = MemoryRole.current) {
        require(values.count == shape.reduce(1, *),
                     "Tensor: \(values.count) values do not fill shape \(shape) (\(shape.reduce(1, *)) elements)")
        self.init(zeros: shape, requiresGrad: requiresGrad, role: role)
        values.withUnsafeBufferPointer { storage.pointer.update(from: $0.baseAddress!, count: values.count) }
    }

    /// A rank-0 tensor holding one value.
    public convenience init(scalar: Float, requiresGrad: Bool = false) {
        self.init([scalar], shape: [], requiresGrad: requiresGrad)
    }

    /// A tensor of `shape` filled with `value`.
    public convenience init(repeating value: Float, shape: [Int], requiresGrad: Bool = false,
                            role: MemoryRole = MemoryRole.current) {
        self.init(zeros: shape, requiresGrad: requiresGrad, role: role)
        storage.pointer.update(repeating: value, count: count)
    }

    /// Number of elements (the product of the shape).
    public var count: Int { storage.count }
    /// Number of axes.
    public var rank: Int { shape.count }
    /// Bytes of element storage.
    public var byteCount: Int { storage.byteCount }
    /// Read-only pointer to the elements.
    public var data: UnsafeMutablePointer<Float> { storage.pointer }

    /// The elements as an array (a copy).
    public var values: [Float] { Array(UnsafeBufferPointer(start: data, count: count)) }

    /// The single element of a one-element tensor.
    public var item: Float {
        require(count == 1, "Tensor.item: tensor of shape \(shape) has \(count) elements, not 1")
        return data[0]
    }

    /// Element at a multi-index (slow; for tests and printing).
    public subscript(_ index: Int...) -> Float {
        get { data[flatIndex(index)] }
        set { data[flatIndex(index)] = newValue }
    }

    private func flatIndex(_ index: [Int]) -> Int {
        require(index.count == rank, "Tensor subscript: \(index.count) indices for shape \(shape)")
        var flat = 0
        for (axis, i) in index.enumerated() {
            require(i >= 0 && i < shape[axis], "Tensor subscript: index \(index) out of range for shape \(shape)")
            flat = flat * shape[axis] + i
        }
        return flat
    }

    /// A new leaf with the same values and no tape history (`requiresGrad` false).
    public func detached() -> Tensor {
        let copy = Tensor(zeros: shape)
        copy.data.update(from: data, count: count)
        return copy
    }

    /// Copies `other`'s values into this tensor in place (same element count). Not recorded on the tape.
    public func assign(_ other: Tensor) {
        require(other.count == count, "Tensor.assign: shape \(other.shape) does not fit \(shape)")
        data.update(from: other.data, count: count)
    }

    /// Sets the gradient to nil (it is re-created, zeroed, by the next backward pass).
    public func zeroGrad() { grad = nil }

    /// Installs `gradient` as this tensor's accumulated gradient (optimizers and tests use it).
    public func setGrad(_ gradient: Tensor?) {
        if let gradient {
            require(gradient.shape == shape, "Tensor.setGrad: gradient shape \(gradient.shape) ≠ \(shape)")
        }
        grad = gradient
    }

    /// The gradient buffer, created zero-filled (role: gradients) on first use.
    func gradientBuffer() -> UnsafeMutablePointer<Float> {
        if grad == nil { grad = Tensor(zeros: shape, role: .gradients) }
        return grad!.data
    }
}

extension Tensor: CustomStringConvertible {
    /// Shape and the first few values, e.g. `Tensor([2, 3]: 1.0, 2.0, 3.0, …)`.
    public var description: String {
        let shown = values.prefix(8).map { String(format: "%.4g", $0) }.joined(separator: ", ")
        return "Tensor(\(shape): \(shown)\(count > 8 ? ", …" : ""))"
    }
}
