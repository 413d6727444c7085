// Tape.swift — reverse-mode automatic differentiation.
//
// Teaches: how `loss.backward()` works. Every op that sees an input needing a gradient records a
// node: the op's name, its inputs, and a closure that reads the output's gradient and *adds* each
// input's share into that input's gradient (the chain rule, one op at a time). Backward sorts the
// graph topologically and runs the closures from the loss back to the leaves.
// Leaves out: higher-order gradients (backward closures are not themselves recorded), hooks.
import Kernels

/// Every differentiable operation. An op cannot record a tape node without a case here, and the
/// gradient-check catalogue in the tests must cover every case — so a new op cannot skip its check.
public enum Op: String, CaseIterable, Sendable {
    case add, sub, mul, div, neg, addScalar, mulScalar, powScalar
    case matmul
    case reshape, transpose, permute, slice, concat, stack, indexSelect, embedding
    case sum, mean, max
    case exp, log, sqrt, relu, geluTanh, geluErf, silu, sigmoid, tanh
    case softmax, logSoftmax, crossEntropy, attention
    case layerNorm, rmsNorm, dropout, rope
    case linear, lowRankLinear, quantizedLinear, fakeQuantize
    case checkpoint
}

/// One recorded operation: which op, its inputs, and how to push the output's gradient into them.
struct Node {
    let op: Op
    let inputs: [Tensor]
    /// Called with the output tensor (whose `grad` is set); must add into the inputs' gradients.
    let backward: (_ output: Tensor) -> Void
}

extension Tensor {
    /// Whether ops record tape nodes in the current task. Use `Tensor.withNoGrad` to turn it off.
    @TaskLocal public static var gradientsEnabled: Bool = true

    /// Runs `body` without recording any tape nodes (inference, evaluation, optimizer updates).
    public static func withNoGrad<R>(_ body: () throws -> R) rethrows -> R {
        try $gradientsEnabled.withValue(false, operation: body)
    }

    /// The output tensor of an op: records `backward` on the tape when some input requires a gradient.
    ///
    /// Ops call this once with their freshly computed result. The closure receives the output (with its
    /// gradient filled in) and adds into `input.gradientBuffer()` for every input that `requiresGrad`.
    static func record(_ op: Op, _ output: Tensor, inputs: [Tensor],
                       backward: @escaping (_ output: Tensor) -> Void) -> Tensor {
        OpProfile.current?.forwardFinished(op)
        if gradientsEnabled && inputs.contains(where: \.requiresGrad) {
            output.requiresGrad = true
            output.node = Node(op: op, inputs: inputs, backward: backward)
        }
        return output
    }

    /// The op that produced this tensor, if it was recorded.
    public var producingOp: Op? { node?.op }

    /// The ops recorded on the tape behind this tensor, in the order backward would run them.
    public var recordedOps: [Op] { topologicalOrder().reversed().compactMap { $0?.node?.op } }

    /// Back-propagates from this scalar: d(self)/d(self) = 1.
    public func backward(retainGraph: Bool = false) {
        require(count == 1, "backward(): call it on a one-element loss, not shape \(shape); " +
                     "use backward(gradient:) for other outputs")
        backward(gradient: Tensor(repeating: 1, shape: shape, role: .gradients), retainGraph: retainGraph)
    }

    /// Back-propagates `gradient` (same shape as self) through the recorded graph.
    ///
    /// Leaf gradients accumulate across calls until `zeroGrad()`. Unless `retainGraph`, the graph is
    /// released afterwards (freeing saved activations) and intermediate gradients are dropped.
    public func backward(gradient: Tensor, retainGraph: Bool = false) {
        require(gradient.shape == shape, "backward(gradient:): gradient shape \(gradient.shape) ≠ output shape \(shape)")
        guard requiresGrad else { return }
        // 1. Order the graph so every tensor comes after all tensors computed from it.
        var order: [Tensor?] = topologicalOrder()
        // 2. Seed and propagate, output first. As soon as a tensor's node has run, its gradient and
        //    (unless the graph is retained) its node are dropped: the node's closure was what kept the
        //    op's inputs alive, so saved activations are freed progressively during backward, as in
        //    PyTorch, and intermediate gradients never pile up.
        let seed = gradientBuffer()
        for i in 0..<count { seed[i] += gradient.data[i] }
        for position in stride(from: order.count - 1, through: 0, by: -1) {
            guard let tensor = order[position] else { continue }
            order[position] = nil
            guard let node = tensor.node else { continue }
            if tensor.grad != nil {
                if let profile = OpProfile.current {
                    let start = OpProfile.now()
                    node.backward(tensor)
                    profile.backwardFinished(node.op, nanoseconds: OpProfile.now() - start)
                } else {
                    node.backward(tensor)
                }
            }
            tensor.grad = nil
            if !retainGraph { tensor.node = nil }
        }
    }

    /// Tensors reachable from self through recorded nodes (self last), depth-first post-order.
    func topologicalOrder() -> [Tensor?] {
        var order: [Tensor?] = []
        var visited = Set<ObjectIdentifier>()
        // Iterative DFS: deep transformer graphs would overflow the stack recursively.
        var stack: [(Tensor, Bool)] = [(self, false)]
        while let (tensor, expanded) = stack.popLast() {
            if expanded { order.append(tensor); continue }
            if !visited.insert(ObjectIdentifier(tensor)).inserted { continue }
            stack.append((tensor, true))
            for input in tensor.node?.inputs ?? [] where input.requiresGrad && !visited.contains(ObjectIdentifier(input)) {
                stack.append((input, false))
            }
        }
        return order
    }
}
