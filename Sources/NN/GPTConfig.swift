// GPTConfig.swift — one configuration for both model families we build: GPT-2 and Llama.
//
// Teaches: how little separates the two: GPT-2 = learned positions + LayerNorm + GELU MLP + tied
// embeddings + biases; Llama = rotary positions + RMSNorm + SwiGLU MLP + grouped KV heads, no biases.
// Leaves out: sliding windows, mixture-of-experts, ALiBi.
import Autodiff

/// Architecture hyperparameters of a decoder-only transformer.
public struct GPTConfig: Codable, Sendable, Equatable {
    /// Which family's building blocks to use.
    public enum Flavour: String, Codable, Sendable {
        /// Learned positions, LayerNorm, GELU MLP, fused QKV projection, biases.
        case gpt2
        /// RoPE, RMSNorm, SwiGLU MLP, separate (grouped) Q/K/V projections, no biases.
        case llama
    }

    public var flavour: Flavour
    /// V: number of token ids.
    public var vocabularySize: Int
    /// Maximum sequence length T (GPT-2's learned position table has this many rows).
    public var contextLength: Int
    /// C: width of the residual stream.
    public var embeddingSize: Int
    /// Number of transformer blocks.
    public var layers: Int
    /// Query heads H (C must be divisible by H).
    public var heads: Int
    /// Key/value heads (H must be divisible by it; = heads for plain multi-head attention).
    public var kvHeads: Int
    /// Hidden width of the MLP (GPT-2: 4C; Llama: its intermediate size).
    public var mlpSize: Int
    /// Epsilon of the norms.
    public var normEpsilon: Float
    /// RoPE base θ (Llama only).
    public var ropeTheta: Float
    /// Whether the output projection reuses the token embedding matrix.
    public var tiedEmbeddings: Bool
    /// Dropout probability on residual branches during training.
    public var dropout: Float
    /// GELU formula for the GPT-2 MLP.
    public var geluApproximation: String

    /// A config with GPT-2 defaults (mlpSize 4C, biases, tied embeddings, tanh GELU).
    public static func gpt2(vocabularySize: Int, contextLength: Int, embeddingSize: Int, layers: Int, heads: Int,
                            dropout: Float = 0) -> GPTConfig {
        GPTConfig(flavour: .gpt2, vocabularySize: vocabularySize, contextLength: contextLength,
                  embeddingSize: embeddingSize, layers: layers, heads: heads, kvHeads: heads,
                  mlpSize: 4 * embeddingSize, normEpsilon: 1e-5, ropeTheta: 10_000, tiedEmbeddings: true,
                  dropout: dropout, geluApproximation: "tanh")
    }

    /// A config with Llama defaults (RoPE, RMSNorm, SwiGLU, untied, no biases).
    public static func llama(vocabularySize: Int, contextLength: Int, embeddingSize: Int, layers: Int, heads: Int,
                             kvHeads: Int, mlpSize: Int, ropeTheta: Float = 10_000, normEpsilon: Float = 1e-5,
                             tiedEmbeddings: Bool = false) -> GPTConfig {
        GPTConfig(flavour: .llama, vocabularySize: vocabularySize, contextLength: contextLength,
                  embeddingSize: embeddingSize, layers: layers, heads: heads, kvHeads: kvHeads, mlpSize: mlpSize,
                  normEpsilon: normEpsilon, ropeTheta: ropeTheta, tiedEmbeddings: tiedEmbeddings, dropout: 0,
                  geluApproximation: "tanh")
    }

    /// Width of one attention head, C / H.
    public var headSize: Int { embeddingSize / heads }
    /// The RoPE angle table (θ = `ropeTheta`, head width `headSize`) for `positions`; Llama's blocks read it.
    func ropeTable(positions: Range<Int>) -> RoPETable {
        RoPETable(theta: ropeTheta, width: headSize, positions: positions)
    }

    /// Checks the divisibility rules; returns a message naming the offending fields, or nil.
    public func validationError() -> String? {
        if vocabularySize <= 0 || contextLength <= 0 || embeddingSize <= 0 || layers <= 0 || heads <= 0 || kvHeads <= 0 {
            return "GPTConfig: sizes must be positive (\(self))"
        }
        if embeddingSize % heads != 0 { return "GPTConfig: embeddingSize \(embeddingSize) not divisible by heads \(heads)" }
        if heads % kvHeads != 0 { return "GPTConfig: heads \(heads) not divisible by kvHeads \(kvHeads)" }
        if flavour == .llama && headSize % 2 != 0 { return "GPTConfig: RoPE needs an even head size, got \(headSize)" }
        if dropout < 0 || dropout >= 1 { return "GPTConfig: dropout \(dropout) not in [0, 1)" }
        return nil
    }
}
