// LocalGradients.swift — Chapter 1 exercises: the chain rule, one node at a time.
import ExerciseKit

/// Task 1.1 — the backward step of y = tanh(x).
///
/// Given the input x of a tanh node and the gradient of the final output with respect to the node's
/// output (`outputGradient` = ∂L/∂y), return ∂L/∂x. (Hint: d tanh(x)/dx = 1 − tanh²(x).)
public func tanhBackward(x: Double, outputGradient: Double) throws -> Double {
    // TODO: return the local derivative of tanh at x times the output gradient.
    try todo("1.1")
}

/// Task 1.2 — the gradient of any function by central differences.
///
/// Return [∂f/∂x₀, …, ∂f/∂xₙ₋₁] at `x`, each estimated as (f(x + h·eᵢ) − f(x − h·eᵢ)) / 2h.
public func centralDifferenceGradient(_ f: ([Double]) -> Double, at x: [Double], step h: Double) throws -> [Double] {
    // TODO: perturb one coordinate at a time, up and down by h.
    try todo("1.2")
}

/// Task 1.3 — the order in which backward visits nodes.
///
/// `inputs[node]` lists the nodes `node` was computed from. Return every node reachable from `output`
/// (including it) ordered so that each node comes *after* all of its inputs — the reverse of this order
/// is the order backward runs in. Visit inputs in the order listed (depth-first, post-order).
public func topologicalOrder(inputs: [Int: [Int]], output: Int) throws -> [Int] {
    // TODO: depth-first search; append a node after visiting all of its inputs; skip visited nodes.
    try todo("1.3")
}
