// MemoryEstimator.swift — the training-memory equation, as arithmetic you can check by hand.
//
// Teaches: where the memory of fine-tuning goes, before measuring it.
//   inference ≈ N · bytes per parameter · 1.2          (20% for activations, KV cache, buffers)
//   training  = weights + gradients + optimizer state + activations
//             = N·b_w + N_t·b_g + N_t·k·b_s + activations(B, T, architecture)
// where N is the parameter count, N_t the trainable ones and k the optimizer's state values per
// parameter (Adam: 2). The book's worked numbers: a 13B model in fp16 needs 26 GB for weights and
// ≈ 31.2 GB to serve; training all of it with Adam adds 13B × 3 values × 2 bytes = 78 GB for
// gradients and states, while training 1B parameters adds only 6 GB. Sizes are decimal (1 GB = 10⁹ B).
// Leaves out: fragmentation, framework workspace, communication buffers of distributed training.
import NN

/// A parameter count and architecture for the estimator's presets and our own models.
public struct ModelSize: Sendable {
    /// Display name, e.g. "13B".
    public var name: String
    /// Total parameters N.
    public var parameters: Double
    /// Transformer layers, width and heads (used for activation estimates).
    public var layers: Int, width: Int, heads: Int

    /// A model size.
    public init(name: String, parameters: Double, layers: Int, width: Int, heads: Int) {
        self.name = name
        self.parameters = parameters
        (self.layers, self.width, self.heads) = (layers, width, heads)
    }

    /// Llama-family presets used in the book's tables.
    public static let presets: [ModelSize] = [
        ModelSize(name: "7B", parameters: 7e9, layers: 32, width: 4096, heads: 32),
        ModelSize(name: "13B", parameters: 13e9, layers: 40, width: 5120, heads: 40),
        ModelSize(name: "33B", parameters: 33e9, layers: 60, width: 6656, heads: 52),
        ModelSize(name: "65B", parameters: 65e9, layers: 80, width: 8192, heads: 64),
        ModelSize(name: "70B", parameters: 70e9, layers: 80, width: 8192, heads: 64),
    ]
}

/// Bytes of memory, by the four roles of the training equation.
public struct MemoryBreakdown: Sendable, Equatable {
    public var weights: Double
    public var gradients: Double
    public var optimizerState: Double
    public var activations: Double
    /// The sum of the four roles.
    public var total: Double { weights + gradients + optimizerState + activations }

    /// A breakdown from its four parts.
    public init(weights: Double, gradients: Double, optimizerState: Double, activations: Double) {
        (self.weights, self.gradients, self.optimizerState, self.activations) = (weights, gradients, optimizerState, activations)
    }
}

/// The memory equation (caseless namespace).
public enum MemoryEstimator {
    /// Serving memory: N · bytesPerParameter · overhead (1.2 by the book's rule of thumb).
    public static func inference(parameters: Double, bytesPerParameter: Double, overhead: Double = 1.2) -> Double {
        parameters * bytesPerParameter * overhead
    }

    /// Training memory without activations: weights for all N parameters, and gradients plus
    /// `stateValues` optimizer values for each of the `trainable` ones.
    public static func training(parameters: Double, trainable: Double, weightBytes: Double, gradientBytes: Double,
                                stateValues: Int, stateBytes: Double, activations: Double = 0) -> MemoryBreakdown {
        MemoryBreakdown(weights: parameters * weightBytes, gradients: trainable * gradientBytes,
                        optimizerState: trainable * Double(stateValues) * stateBytes, activations: activations)
    }

    /// Peak bytes of activations *our* implementation keeps for backward in one training step of a GPT on
    /// a batch [B, T], in fp32, derived op by op from NN/Attention.swift, MLP.swift and GPT.swift.
    ///
    /// Every op writes a fresh buffer that the next op's backward keeps (no views), so the count is
    /// the sum of op outputs. Per block, with N = B·T·C, S = B·H·T² (attention probabilities), M = B·T·mlpSize:
    /// - GPT-2: norm N, qkv 3N (a Linear with its bias is one fused op, one output), slices 3N, head split
    ///   3N reshape + 3N permute, fused causal attention S (the probabilities it keeps for backward) + its
    ///   output N, permute N + reshape N, c_proj N, residual N, norm N, MLP M (fc) + M (GELU) + N (down),
    ///   residual N → 21N + 2M + S.
    /// - Llama: norm N, q N, k/v 2Nkv, head split 2N + 4Nkv, RoPE N + Nkv, KV repeat (when grouped)
    ///   2·(Nkv + 2N), fused attention S + output N, permute and reshape 2N, o_proj N, residual N, norm N, gate/up/SiLU/product 4M,
    ///   down N, residual N.
    /// Plus small per-row statistics of each norm, the embeddings, the final norm, the logits [B·T, V] and
    /// the one log-sum-exp per row that the fused cross-entropy keeps (no [B·T, V] log-probabilities).
    /// With checkpointing only each block's output N is kept, plus — at the peak — either the head's
    /// buffers (end of forward) or the activations of the one block being recomputed during backward.
    ///
    /// `frozenPrefix`: the embeddings and this many first blocks are frozen (partial fine-tuning).
    /// Ops whose inputs need no gradient record nothing, so those layers save no activations at
    /// all — only the last frozen output, which the first trainable op keeps.
    public static func activationBytes(config: GPTConfig, batch: Int, steps: Int, checkpointing: Bool = false,
                                       frozenPrefix: Int = 0) -> Double {
        let (b, t, c) = (Double(batch), Double(steps), Double(config.embeddingSize))
        let n = b * t * c
        let s = b * Double(config.heads) * t * t
        let m = b * t * Double(config.mlpSize)
        let rows = b * t
        let nkv = n * Double(config.kvHeads) / Double(config.heads)
        var perBlock: Double
        switch config.flavour {
        case .gpt2:
            perBlock = 21 * n + 2 * m + s + 2 * (2 * rows)    // + mean/rstd of two LayerNorms
        case .llama:
            let repeatKV = config.kvHeads == config.heads ? 0 : 2 * (nkv + 2 * n)
            perBlock = n + n + 2 * nkv + 2 * n + 4 * nkv + n + nkv + repeatKV + s + 3 * n + n + n + n + 4 * m + n + n
                + 2 * rows                                        // + rstd of two RMSNorms
        }
        let embeddings = config.flavour == .gpt2 ? 2 * n + t * c : n   // token rows (+ positions, sum)
        let head = n + rows * (config.flavour == .gpt2 ? 2 : 1) + n   // final norm + stats, reshape
            + rows * Double(config.vocabularySize) + rows          // logits and the saved log-sum-exp per row
        // Frozen layers keep nothing but their final output.
        let (front, trainableBlocks) = frozenPrefix > 0
            ? (n, Double(config.layers - min(frozenPrefix, config.layers)))
            : (embeddings, Double(config.layers))
        if checkpointing {
            // The peak is either the end of forward (block outputs + head) or the recomputation of
            // the last block in backward, by which time the head's buffers have been freed.
            return 4 * (front + trainableBlocks * n + max(head, perBlock))
        }
        return 4 * (front + trainableBlocks * perBlock + head)
    }
}
