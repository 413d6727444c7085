// GPT.swift — a decoder-only transformer you can read in one sitting.
//
// Teaches: the whole model. Token (and, for GPT-2, position) embeddings; a stack of pre-norm blocks
// x ← x + attn(norm(x)); x ← x + mlp(norm(x)); a final norm; logits = x·Eᵀ (tied) or a separate head.
// Parameter names follow Hugging Face (GPT-2: `h.0.attn.c_attn.weight`; Llama:
// `layers.0.self_attn.q_proj.weight`, HF adds a `model.` prefix) so checkpoints and LoRA target
// patterns carry over.
// Generation with a KV cache (prefill once, then one position per token) is in GPT+KVCache.swift.
// Leaves out: attention masks for padding inside a row (we pad at the end and mask the loss).
import Kernels
import Autodiff

/// Learned "virtual token" embeddings placed before every sequence (prompt tuning; defined by PEFT
/// methods above NN). They take the first P positions, so P + T must fit the context.
public protocol PromptPrefix: AnyObject {
    /// The embeddings [P, C].
    var embeddings: Tensor { get }
    /// The method's parameters with local names (they appear at the model's top level).
    var prefixParameters: [(name: String, tensor: Tensor)] { get }
}

/// One transformer block: attention then MLP, each as a pre-norm residual branch.
public final class Block: Module {
    let config: GPTConfig
    /// Norm before attention (`ln_1` / `input_layernorm`).
    public let attentionNorm: any Module
    /// Self-attention (`attn` / `self_attn`).
    public let attention: CausalSelfAttention
    /// Norm before the MLP (`ln_2` / `post_attention_layernorm`).
    public let mlpNorm: any Module
    /// Feed-forward (`mlp`).
    public let mlp: MLP

    /// A block with freshly initialised layers.
    public init(config: GPTConfig, rng: inout RNG) {
        self.config = config
        attentionNorm = Block.makeNorm(config)
        attention = CausalSelfAttention(config: config, rng: &rng)
        mlpNorm = Block.makeNorm(config)
        mlp = MLP(config: config, rng: &rng)
    }

    static func makeNorm(_ config: GPTConfig) -> any Module {
        config.flavour == .gpt2 ? LayerNorm(config.embeddingSize, eps: config.normEpsilon)
                                : RMSNorm(config.embeddingSize, eps: config.normEpsilon)
    }

    static func normalize(_ norm: any Module, _ x: Tensor) -> Tensor {
        if let layerNorm = norm as? LayerNorm { return layerNorm(x) }
        return (norm as! RMSNorm)(x)
    }

    public var localParameters: [(name: String, tensor: Tensor)] { [] }
    public var children: [(name: String, module: any Module)] {
        config.flavour == .gpt2
            ? [("ln_1", attentionNorm), ("attn", attention), ("ln_2", mlpNorm), ("mlp", mlp)]
            : [("input_layernorm", attentionNorm), ("self_attn", attention),
               ("post_attention_layernorm", mlpNorm), ("mlp", mlp)]
    }

    /// x [B, T, C] → [B, T, C]. `dropoutSeed` (training only) seeds the residual-branch dropout masks;
    /// `rope` (Llama) is the forward pass's RoPE table for positions 0..<T (made per call when nil).
    public func callAsFunction(_ x: Tensor, dropoutSeed: UInt64?, rope: RoPETable? = nil) -> Tensor {
        forward(x, dropoutSeed: dropoutSeed, attend: { attention($0, rope: rope) })
    }

    /// The block around any attention: the full one above, or the cached one of generation.
    func forward(_ x: Tensor, dropoutSeed: UInt64?, attend: (Tensor) -> Tensor) -> Tensor {
        var rng = RNG(seed: dropoutSeed ?? 0)
        let p = dropoutSeed == nil ? 0 : config.dropout
        let afterAttention = x + attend(Block.normalize(attentionNorm, x)).dropout(p, rng: &rng)
        return afterAttention + mlp(Block.normalize(mlpNorm, afterAttention)).dropout(p, rng: &rng)
    }
}

/// The language model: ids [B, T] → next-token logits [B·T, V].
public final class GPT: Module {
    /// The architecture.
    public let config: GPTConfig
    /// Token embeddings [V, C] (`wte` / `embed_tokens`).
    public let tokenEmbedding: Embedding
    /// GPT-2 only: learned position embeddings [T, C] (`wpe`).
    public let positionEmbedding: Embedding?
    /// The blocks (`h` / `layers`).
    public let blocks: [Block]
    /// Final norm (`ln_f` / `norm`).
    public let finalNorm: any Module
    /// Output head [V, C] when embeddings are not tied (`lm_head`).
    public let head: Linear?
    /// Recompute each block in backward instead of storing its activations (see Checkpointing.swift).
    public var checkpointActivations = false
    /// Prompt tuning: learned "virtual token" embeddings placed before every sequence (nil: none).
    /// Positions count them, so P + T must fit the context. Their parameters belong to the PEFT method.
    public var promptPrefix: PromptPrefix?
    /// P, the number of virtual token positions in front of every sequence (0 without prompt tuning).
    public var virtualTokenCount: Int { promptPrefix?.embeddings.shape[0] ?? 0 }

    /// A randomly initialised model (validates the config first).
    public init(config: GPTConfig, rng: inout RNG) {
        if let problem = config.validationError() { fatalError(problem) }
        self.config = config
        tokenEmbedding = Embedding(count: config.vocabularySize, width: config.embeddingSize, rng: &rng)
        positionEmbedding = config.flavour == .gpt2
            ? Embedding(count: config.contextLength, width: config.embeddingSize, std: 0.01, rng: &rng) : nil
        var blocks: [Block] = []
        for _ in 0..<config.layers { blocks.append(Block(config: config, rng: &rng)) }
        self.blocks = blocks
        finalNorm = Block.makeNorm(config)
        head = config.tiedEmbeddings ? nil
            : Linear(config.embeddingSize, config.vocabularySize, bias: false, rng: &rng)
    }

    public var localParameters: [(name: String, tensor: Tensor)] { promptPrefix?.prefixParameters ?? [] }
    public var children: [(name: String, module: any Module)] {
        let stack = blocks.enumerated().map { (String($0.offset), $0.element as any Module) }
        switch config.flavour {
        case .gpt2:
            return [("wte", tokenEmbedding), ("wpe", positionEmbedding!), ("h", ModuleList(stack)),
                    ("ln_f", finalNorm)] + (head.map { [("lm_head", $0 as any Module)] } ?? [])
        case .llama:
            return [("embed_tokens", tokenEmbedding), ("layers", ModuleList(stack)), ("norm", finalNorm)]
                + (head.map { [("lm_head", $0 as any Module)] } ?? [])
        }
    }

    /// Next-token logits for `ids` laid out [batch, steps] (steps ≤ contextLength) → [batch·steps, V].
    ///
    /// Pass `rng` during training to enable dropout (it advances by one draw per block).
    public func callAsFunction(_ ids: [Int32], batch: Int, steps: Int, rng: inout RNG?) -> Tensor {
        require(ids.count == batch * steps, "GPT: \(ids.count) ids for batch \(batch) × steps \(steps)")
        let virtualCount = virtualTokenCount
        let total = virtualCount + steps
        require(total <= config.contextLength,
                     "GPT: \(steps) steps\(virtualCount > 0 ? " + \(virtualCount) virtual tokens" : "") exceed the context length \(config.contextLength)")
        // 1. Embed tokens (after any virtual tokens), and positions for GPT-2: [B, P + T, C].
        var x = embed(ids, batch: batch, steps: steps, firstPosition: 0, withVirtualTokens: true)
        // 2. The residual stream through every block (optionally checkpointed), all of them reading one
        //    RoPE table (Llama) for the P + T positions.
        let rope = ropeTable(positions: 0..<total)
        for block in blocks {
            let seed = rng?.next()
            if checkpointActivations && Tensor.gradientsEnabled {
                x = Tensor.checkpoint([x], parameters: block.trainableParameters) { block($0[0], dropoutSeed: seed, rope: rope) }
            } else {
                x = block(x, dropoutSeed: seed, rope: rope)
            }
        }
        // 3. Final norm (dropping the virtual positions), then project every position onto the vocabulary.
        if virtualCount > 0 { x = x.slice(axis: 1, virtualCount..<total) }
        return logits(x)
    }

    /// The RoPE angle table for `positions` (Llama; nil for GPT-2, which has a position table instead).
    func ropeTable(positions: Range<Int>) -> RoPETable? {
        config.flavour == .llama ? config.ropeTable(positions: positions) : nil
    }

    /// Token embeddings for ids [B, T] — after the virtual tokens when `withVirtualTokens` — plus, for
    /// GPT-2, the position embeddings of positions `firstPosition`… → [B, P + T, C] (P = 0 without).
    func embed(_ ids: [Int32], batch: Int, steps: Int, firstPosition: Int, withVirtualTokens: Bool) -> Tensor {
        var x = tokenEmbedding(ids, shape: [batch, steps])
        if withVirtualTokens, let promptPrefix {
            let (virtualCount, c) = (virtualTokenCount, config.embeddingSize)
            let perRow = Array(repeating: promptPrefix.embeddings.reshaped([1, virtualCount, c]), count: batch)
            x = Tensor.concat([Tensor.concat(perRow, axis: 0), x], axis: 1)
        }
        if let positionEmbedding {
            let positions = x.shape[1]
            x = x + positionEmbedding((firstPosition..<firstPosition + positions).map(Int32.init), shape: [positions])
        }
        return x
    }

    /// The final norm and the projection onto the vocabulary: x [B, T, C] → logits [B·T, V].
    func logits(_ x: Tensor) -> Tensor {
        let (batch, steps) = (x.shape[0], x.shape[1])
        let rows = Block.normalize(finalNorm, x).reshaped([batch * steps, config.embeddingSize])
        if let head { return head(rows) }
        return Tensor.matmul(rows, tokenEmbedding.weight, transposeB: true)
    }

    /// Inference-mode logits (no dropout).
    public func callAsFunction(_ ids: [Int32], batch: Int, steps: Int) -> Tensor {
        var none: RNG? = nil
        return self(ids, batch: batch, steps: steps, rng: &none)
    }
}

/// An ordered list of modules named "0", "1", … (a path segment such as `h` in `h.0.attn`).
public final class ModuleList: Module {
    let items: [(name: String, module: any Module)]
    /// Wraps already-named children.
    public init(_ items: [(String, any Module)]) { self.items = items.map { (name: $0.0, module: $0.1) } }
    public var localParameters: [(name: String, tensor: Tensor)] { [] }
    public var children: [(name: String, module: any Module)] { items }
}
