// Value.swift — automatic differentiation on single numbers (a micrograd-sized engine).
//
// Teaches: the whole idea of backpropagation with nothing in the way. A `Value` holds a number, the
// gradient of the final output with respect to it, the values it was computed from, and a closure
// that applies the chain rule locally: given this node's gradient, add each input's share.
// `backward()` orders the graph topologically and runs those closures from the output down.
// Everything later (Tensor, the GPT) is this idea applied to arrays.
// Leaves out: tensors, efficiency; numbers are Doubles so this engine doubles as a precise oracle.
import Foundation

/// A scalar node in a computation graph.
public final class Value: CustomStringConvertible {
    /// The number.
    public var data: Double
    /// ∂output/∂self, filled in by `backward()` (accumulates; `zeroGrad()` resets).
    public var grad: Double = 0
    /// The nodes this one was computed from.
    public let children: [Value]
    /// The operation's name, for printing graphs.
    public let op: String
    /// Adds this node's contribution to its children's gradients (the local chain rule).
    var backwardStep: () -> Void = {}
    /// An optional label for printing.
    public var label: String

    /// A leaf (an input or a parameter).
    public init(_ data: Double, label: String = "") {
        self.data = data
        children = []
        op = ""
        self.label = label
    }

    init(_ data: Double, children: [Value], op: String) {
        self.data = data
        self.children = children
        self.op = op
        label = ""
    }

    public var description: String { "Value(\(label.isEmpty ? "" : label + " = ")\(data), grad \(grad))" }

    // MARK: - Operations, each with its local derivative right below

    /// a + b: both get the output's gradient unchanged.
    public static func + (a: Value, b: Value) -> Value {
        let out = Value(a.data + b.data, children: [a, b], op: "+")
        out.backwardStep = { [unowned out] in
            a.grad += out.grad
            b.grad += out.grad
        }
        return out
    }

    /// a · b: each gets the output's gradient times the *other* factor.
    public static func * (a: Value, b: Value) -> Value {
        let out = Value(a.data * b.data, children: [a, b], op: "×")
        out.backwardStep = { [unowned out] in
            a.grad += b.data * out.grad
            b.grad += a.data * out.grad
        }
        return out
    }

    /// aⁿ for a constant n: d/da = n·aⁿ⁻¹.
    public func pow(_ n: Double) -> Value {
        let out = Value(Foundation.pow(data, n), children: [self], op: "^\(n)")
        out.backwardStep = { [unowned out, unowned self] in
            self.grad += n * Foundation.pow(self.data, n - 1) * out.grad
        }
        return out
    }

    /// eˣ: its own derivative.
    public func exp() -> Value {
        let out = Value(Foundation.exp(data), children: [self], op: "exp")
        out.backwardStep = { [unowned out, unowned self] in self.grad += out.data * out.grad }
        return out
    }

    /// ln x: d/dx = 1/x.
    public func log() -> Value {
        let out = Value(Foundation.log(data), children: [self], op: "log")
        out.backwardStep = { [unowned out, unowned self] in self.grad += out.grad / self.data }
        return out
    }

    /// tanh x: d/dx = 1 − tanh²x.
    public func tanh() -> Value {
        let t = Foundation.tanh(data)
        let out = Value(t, children: [self], op: "tanh")
        out.backwardStep = { [unowned out, unowned self] in self.grad += (1 - t * t) * out.grad }
        return out
    }

    /// max(x, 0): the gradient passes where x > 0.
    public func relu() -> Value {
        let out = Value(max(data, 0), children: [self], op: "relu")
        out.backwardStep = { [unowned out, unowned self] in self.grad += (self.data > 0 ? 1 : 0) * out.grad }
        return out
    }

    /// 1/(1 + e⁻ˣ): d/dx = σ(x)(1 − σ(x)).
    public func sigmoid() -> Value {
        let s = 1 / (1 + Foundation.exp(-data))
        let out = Value(s, children: [self], op: "σ")
        out.backwardStep = { [unowned out, unowned self] in self.grad += s * (1 - s) * out.grad }
        return out
    }

    // Composite operations, built from the ones above (so they need no backward of their own).

    /// −a.
    public static prefix func - (a: Value) -> Value { a * Value(-1) }
    /// a − b.
    public static func - (a: Value, b: Value) -> Value { a + (-b) }
    /// a / b = a · b⁻¹.
    public static func / (a: Value, b: Value) -> Value { a * b.pow(-1) }
    /// a + constant.
    public static func + (a: Value, b: Double) -> Value { a + Value(b) }
    /// a · constant.
    public static func * (a: Value, b: Double) -> Value { a * Value(b) }
    /// constant · a.
    public static func * (a: Double, b: Value) -> Value { Value(a) * b }
    /// a − constant.
    public static func - (a: Value, b: Double) -> Value { a + Value(-b) }

    // MARK: - Backward

    /// All nodes this one depends on, each after its children (depth-first post-order).
    public func topologicalOrder() -> [Value] {
        var order: [Value] = []
        var visited = Set<ObjectIdentifier>()
        func visit(_ node: Value) {
            guard visited.insert(ObjectIdentifier(node)).inserted else { return }
            for child in node.children { visit(child) }
            order.append(node)
        }
        visit(self)
        return order
    }

    /// Sets d(self)/d(self) = 1 and propagates gradients to every node it depends on.
    public func backward() {
        let order = topologicalOrder()
        grad = 1
        for node in order.reversed() { node.backwardStep() }
    }

    /// Zeroes the gradient of this node and everything it depends on.
    public func zeroGrad() {
        for node in topologicalOrder() { node.grad = 0 }
    }
}
