// LanguageModelling.swift — Chapter 3 exercises: the two details every GPT gets right (solved).
import ExerciseKit

/// Task 3.1 — the causal mask.
///
/// Return a [T, T] row-major matrix whose entry (i, j) is 0 when position i may attend to position j
/// (j ≤ i) and −∞ when j is in i's future (j > i). Added to attention scores before the softmax.
public func causalMask(steps: Int) throws -> [Float] {
    // exp(−∞) = 0, so after the softmax the future gets exactly zero weight.
    (0..<(steps * steps)).map { index in index % steps > index / steps ? -Float.infinity : 0 }
}

/// Task 3.2 — next-token prediction pairs.
///
/// From a token sequence, return the model's inputs (every token but the last) and targets (every
/// token but the first): at position t the model reads inputs[t] and must predict targets[t].
public func nextTokenPairs(_ tokens: [Int]) throws -> (inputs: [Int], targets: [Int]) {
    // One sequence of n tokens gives n − 1 training examples at once.
    (Array(tokens.dropLast()), Array(tokens.dropFirst()))
}
