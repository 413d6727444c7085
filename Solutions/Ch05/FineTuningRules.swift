// FineTuningRules.swift — Chapter 5 exercises: what gets a loss, and what gets trained (solved).
import ExerciseKit

/// Task 5.1 — loss weights for one SFT example.
///
/// An example is `promptLength` prompt tokens followed by `responseLength` response tokens. Return one
/// weight per token: `promptLossWeight` for prompt tokens and 1 for response tokens.
public func responseWeights(promptLength: Int, responseLength: Int, promptLossWeight: Float) throws -> [Float] {
    // With weight 0 the prompt contributes no loss and so no gradient: the model is never trained to
    // produce prompts, only to answer them.
    [Float](repeating: promptLossWeight, count: promptLength) + [Float](repeating: 1, count: responseLength)
}

/// Task 5.2 — the partial-freeze rule.
///
/// In a GPT-2 with `layers` blocks, parameters are named like "h.3.attn.c_attn.weight", "wte.weight",
/// "ln_f.bias". Training only the last `trainLast` blocks means: a block parameter is trainable when its
/// block index is ≥ layers − trainLast; the final norm ("ln_f.") is trainable; everything else is frozen.
public func isTrainable(parameter name: String, layers: Int, trainLast: Int) throws -> Bool {
    if name.hasPrefix("ln_f.") { return true }
    guard name.hasPrefix("h."), let block = Int(name.dropFirst(2).prefix { $0 != "." }) else { return false }
    // Late blocks are the most task-specific; early blocks hold general features worth protecting.
    return block >= layers - trainLast
}
