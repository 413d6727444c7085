// LocalGradients.swift — Chapter 1 exercises: the chain rule, one node at a time (solved).
import ExerciseKit
import Foundation

/// Task 1.1 — the backward step of y = tanh(x).
///
/// Given the input x of a tanh node and the gradient of the final output with respect to the node's
/// output (`outputGradient` = ∂L/∂y), return ∂L/∂x. (Hint: d tanh(x)/dx = 1 − tanh²(x).)
public func tanhBackward(x: Double, outputGradient: Double) throws -> Double {
    // Chain rule: ∂L/∂x = ∂L/∂y · dy/dx, and dy/dx = 1 − y² with y = tanh x.
    let y = tanh(x)
    return (1 - y * y) * outputGradient
}

/// Task 1.2 — the gradient of any function by central differences.
///
/// Return [∂f/∂x₀, …, ∂f/∂xₙ₋₁] at `x`, each estimated as (f(x + h·eᵢ) − f(x − h·eᵢ)) / 2h.
public func centralDifferenceGradient(_ f: ([Double]) -> Double, at x: [Double], step h: Double) throws -> [Double] {
    // The symmetric difference cancels the second-order term of the Taylor series: error O(h²).
    (0..<x.count).map { i in
        var up = x, down = x
        up[i] += h
        down[i] -= h
        return (f(up) - f(down)) / (2 * h)
    }
}

/// Task 1.3 — the order in which backward visits nodes.
///
/// `inputs[node]` lists the nodes `node` was computed from. Return every node reachable from `output`
/// (including it) ordered so that each node comes *after* all of its inputs — the reverse of this order
/// is the order backward runs in. Visit inputs in the order listed (depth-first, post-order).
public func topologicalOrder(inputs: [Int: [Int]], output: Int) throws -> [Int] {
    // Post-order DFS: a node is appended only once everything it depends on is already in the list.
    var order: [Int] = []
    var visited = Set<Int>()
    func visit(_ node: Int) {
        guard visited.insert(node).inserted else { return }
        for input in inputs[node] ?? [] { visit(input) }
        order.append(node)
    }
    visit(output)
    return order
}
