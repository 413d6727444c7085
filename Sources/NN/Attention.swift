// Attention.swift — causal multi-head self-attention, with grouped KV heads and RoPE as options.
//
// Teaches: the one place tokens talk to each other. Each position makes a query, a key and a value;
// scores q·k/√d say how much each earlier position matters; a causal mask hides the future; the
// softmax-weighted sum of values is projected back into the residual stream.
//   x [B, T, C] → q [B, H, T, D], k, v [B, Hkv, T, D] → scores [B, H, T, T] → out [B, T, C]
// Generation's cached path (one new position against stored keys and values) is in
// Attention+KVCache.swift; it shares the projections below.
// Leaves out: flash-attention tiling, padding masks inside a row.
import Foundation
import Kernels
import Autodiff

/// Learned keys and values placed before the sequence in one attention layer (prefix tuning; defined
/// by PEFT methods above NN). Every query may attend to them; they take no position (no RoPE).
public protocol AttentionPrefix: AnyObject {
    /// Keys [H, P, D] (one set per query head, after grouped KV heads are expanded).
    var keys: Tensor { get }
    /// Values [H, P, D].
    var values: Tensor { get }
    /// The method's parameters with local names (they appear under the attention layer's path).
    var prefixParameters: [(name: String, tensor: Tensor)] { get }
}

/// Causal self-attention for both flavours (fused `c_attn` for GPT-2, `q/k/v_proj` for Llama).
public final class CausalSelfAttention: Module {
    let config: GPTConfig
    /// GPT-2: the fused query/key/value projection C → 3C.
    public let c_attn: Linear?
    /// GPT-2: the output projection.
    public let c_proj: Linear?
    /// Llama: separate projections (k and v produce kvHeads·D features).
    public let q_proj: Linear?, k_proj: Linear?, v_proj: Linear?, o_proj: Linear?
    /// Prefix tuning: learned keys and values that every query may attend to, placed before the
    /// sequence (nil: none). Their parameters belong to the PEFT method that installs them.
    public var prefix: AttentionPrefix?

    /// Projections initialised N(0, 0.02²); output projections scaled by 1/√(2·layers) (GPT-2's rule).
    public init(config: GPTConfig, rng: inout RNG) {
        self.config = config
        let c = config.embeddingSize, kvWidth = config.kvHeads * config.headSize
        let outputStd = 0.02 / Float(2 * config.layers).squareRoot()
        switch config.flavour {
        case .gpt2:
            c_attn = Linear(c, 3 * c, rng: &rng)
            c_proj = Linear(c, c, std: outputStd, rng: &rng)
            (q_proj, k_proj, v_proj, o_proj) = (nil, nil, nil, nil)
        case .llama:
            q_proj = Linear(c, c, bias: false, rng: &rng)
            k_proj = Linear(c, kvWidth, bias: false, rng: &rng)
            v_proj = Linear(c, kvWidth, bias: false, rng: &rng)
            o_proj = Linear(c, c, bias: false, std: outputStd, rng: &rng)
            (c_attn, c_proj) = (nil, nil)
        }
    }

    public var localParameters: [(name: String, tensor: Tensor)] {
        prefix?.prefixParameters ?? []
    }
    public var children: [(name: String, module: any Module)] {
        [("c_attn", c_attn), ("c_proj", c_proj), ("q_proj", q_proj), ("k_proj", k_proj),
         ("v_proj", v_proj), ("o_proj", o_proj)].compactMap { name, layer in layer.map { (name, $0 as any Module) } }
    }

    /// Queries [B, H, T, D] and keys, values [B, Hkv, T, D] for x [B, T, C] whose first position is
    /// `positionOffset` (Llama: queries and keys rotated by their positions, read from `rope` — the
    /// forward pass's shared table — or from a table made here when it is nil).
    func project(_ x: Tensor, positionOffset: Int = 0, rope: RoPETable? = nil) -> (q: Tensor, k: Tensor, v: Tensor) {
        let (b, t, c) = (x.shape[0], x.shape[1], x.shape[2])
        let (h, hkv, d) = (config.heads, config.kvHeads, config.headSize)
        // Split heads: [B, T, H·D] → [B, H, T, D].
        func heads(_ y: Tensor, _ count: Int) -> Tensor { y.reshaped([b, t, count, d]).permuted([0, 2, 1, 3]) }
        if let c_attn {
            let qkv = c_attn(x)
            return (heads(qkv.slice(axis: 2, 0..<c), h), heads(qkv.slice(axis: 2, c..<2 * c), h),
                    heads(qkv.slice(axis: 2, 2 * c..<3 * c), h))
        }
        // Llama (the init sets all three projections for this flavour): rotate queries and keys by position.
        let table = rope ?? config.ropeTable(positions: positionOffset..<positionOffset + t)
        return (heads(q_proj!(x), h).rope(table, positionOffset: positionOffset),
                heads(k_proj!(x), hkv).rope(table, positionOffset: positionOffset),
                heads(v_proj!(x), hkv))
    }

    /// The output projection: mixed values [..., C] → [..., C].
    func projectOutput(_ mixed: Tensor) -> Tensor { (c_proj ?? o_proj!)(mixed) }

    /// Attention output for x [B, T, C]; `rope` (Llama) is the forward pass's angle table, if it has one.
    public func callAsFunction(_ x: Tensor, rope: RoPETable? = nil) -> Tensor {
        let (b, t, c) = (x.shape[0], x.shape[1], x.shape[2])
        let (h, hkv, d) = (config.heads, config.kvHeads, config.headSize)
        // 1–2. Queries, keys, values per head (Llama: rotated by position).
        var (q, k, v) = project(x, rope: rope)
        // 3. Grouped KV: each KV head serves H/Hkv query heads (repeat it along the head axis).
        if hkv != h {
            let groups = h / hkv
            let order = (0..<h).map { $0 / groups }
            func repeatHeads(_ y: Tensor) -> Tensor {
                y.permuted([1, 0, 2, 3]).indexSelect(order).permuted([1, 0, 2, 3])
            }
            k = repeatHeads(k)
            v = repeatHeads(v)
        }
        // Prefix tuning: P learned positions in front of the keys and values, visible to every query.
        if let prefix {
            let prefixLength = prefix.keys.shape[1]
            func batched(_ p: Tensor) -> Tensor { Tensor.concat(Array(repeating: p.reshaped([1, h, prefixLength, d]), count: b), axis: 0) }
            k = Tensor.concat([batched(prefix.keys), k], axis: 2)
            v = Tensor.concat([batched(prefix.values), v], axis: 2)
        }
        // 4–5. Scores q·kᵀ/√D with the causal mask (−∞ above the diagonal), softmax over keys, mix the
        // values — one fused op (Autodiff/Ops+Attention.swift; the same math as
        // `(matmul(q, k, transposeB: true) * (1/√D) + causalMask(t, prefix: P)).softmax()` then `· v`);
        // then merge heads back into channels and project.
        let mixed = Tensor.causalAttention(q, k, v).permuted([0, 2, 1, 3]).reshaped([b, t, c])
        return projectOutput(mixed)
    }

    /// [T, P + T]: 0 where query i may attend (every prefix position, and sequence positions j ≤ i),
    /// −∞ where it may not (a constant: no gradient).
    public static func causalMask(_ steps: Int, prefix: Int = 0) -> Tensor {
        let width = prefix + steps
        let mask = Tensor(zeros: [steps, width])
        for i in 0..<steps {
            for j in (prefix + i + 1)..<max(width, prefix + i + 1) { mask.data[i * width + j] = -Float.infinity }
        }
        return mask
    }
}
