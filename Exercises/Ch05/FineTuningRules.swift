// FineTuningRules.swift — Chapter 5 exercises: what gets a loss, and what gets trained.
import ExerciseKit

/// Task 5.1 — loss weights for one SFT example.
///
/// An example is `promptLength` prompt tokens followed by `responseLength` response tokens. Return one
/// weight per token: `promptLossWeight` for prompt tokens and 1 for response tokens.
public func responseWeights(promptLength: Int, responseLength: Int, promptLossWeight: Float) throws -> [Float] {
    // TODO: prompt tokens first, then response tokens.
    try todo("5.1")
}

/// Task 5.2 — the partial-freeze rule.
///
/// In a GPT-2 with `layers` blocks, parameters are named like "h.3.attn.c_attn.weight", "wte.weight",
/// "ln_f.bias". Training only the last `trainLast` blocks means: a block parameter is trainable when its
/// block index is ≥ layers − trainLast; the final norm ("ln_f.") is trainable; everything else is frozen.
public func isTrainable(parameter name: String, layers: Int, trainLast: Int) throws -> Bool {
    // TODO: parse the block index after "h."; handle "ln_f." and the rest.
    try todo("5.2")
}
