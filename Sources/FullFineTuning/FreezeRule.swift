// FreezeRule.swift — partial fine-tuning: which weights a fine-tune updates.
//
// Teaches: the one thing full and partial fine-tuning differ in. Full fine-tuning trains every
// parameter; partial fine-tuning freezes part of the network (here: everything but the last N blocks,
// optionally the embeddings too): fewer gradients and optimizer states, less forgetting, usually a
// little less task accuracy. A rule is applied to a model before the shared SFT loop (Training's
// `FineTuning.run(…, prepare: { rule.apply(to: $0) })`).
// Leaves out: freezing by parameter kind (norms, biases: see BitFit in PEFT), gradual unfreezing.
import NN

/// Which parameters a fine-tune trains.
public enum FreezeRule: Sendable, Equatable, Codable, CustomStringConvertible {
    /// Every parameter (full fine-tuning).
    case none
    /// Only the last `blocks` transformer blocks and the final norm; the token embeddings too when
    /// `trainEmbeddings` (with tied embeddings they are also the output head).
    case lastBlocks(Int, trainEmbeddings: Bool)

    public var description: String {
        switch self {
        case .none: return "full"
        case .lastBlocks(let n, let embeddings): return "last \(n) block\(n == 1 ? "" : "s")\(embeddings ? " + embeddings" : "")"
        }
    }

    /// Sets `requiresGrad` on every parameter of `model` according to the rule; returns the number
    /// of trainable parameters.
    @discardableResult
    public func apply(to model: GPT) -> Int {
        switch self {
        case .none:
            model.setTrainable(true)
        case .lastBlocks(let count, let trainEmbeddings):
            model.setTrainable(false)
            let layers = model.config.layers
            let prefix = model.config.flavour == .gpt2 ? "h." : "layers."
            let finalNorm = model.config.flavour == .gpt2 ? "ln_f." : "norm."
            model.setTrainable(true) { name in
                // "h.3.mlp.c_fc.weight" → block 3.
                if name.hasPrefix(prefix), let block = Int(name.dropFirst(prefix.count).prefix { $0 != "." }) {
                    return block >= layers - count
                }
                if name.hasPrefix(finalNorm) || name.hasPrefix("lm_head.") { return true }
                return trainEmbeddings && (name.hasPrefix("wte.") || name.hasPrefix("embed_tokens.") || name.hasPrefix("wpe."))
            }
        }
        return model.parameterCount(trainableOnly: true)
    }
}
