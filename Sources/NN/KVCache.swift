// KVCache.swift — the keys and values every attention layer has already computed, kept for reuse.
//
// Teaches: why generation does not have to re-run the whole context for every new token. In a causal
// model, position i's key and value depend only on tokens 0…i, so once computed they never change.
// The cache keeps them, layer by layer; a new token then needs one position's worth of projections
// and MLP work, plus one attention row over the cached keys. Prefill (the prompt) fills the cache in
// one batched pass; decode appends one position per step.
//   per layer: keys, values [Hkv, capacity, D]   (grouped KV heads: the cache stores Hkv, not H, heads)
// Memory: 2 · layers · Hkv · capacity · D floats — for SmolLM2-135M (30 layers, 3 KV heads, D 64)
// 46 KB per position, so the cache is sized to what a generation needs, not to the 8192-token context,
// and grows by doubling (amortised O(1) per token; never a reallocation per token).
// Leaves out: paged / block caches shared between requests, quantized caches, batch > 1.
import Kernels
import Autodiff

/// Cached keys and values of every layer of one sequence (batch 1).
///
/// Positions 0..<count are filled. Prompt tuning's virtual tokens occupy the first positions like
/// any other token; prefix tuning's learned keys and values are not stored here (they are parameters
/// of the attention layer and are read from it).
public final class KVCache {
    /// Number of transformer blocks.
    public let layers: Int
    /// Key/value heads per layer (Hkv).
    public let kvHeads: Int
    /// Width of one head (D).
    public let headSize: Int
    /// The most positions the model accepts (the cache never grows beyond it).
    public let limit: Int
    /// Positions the buffers currently have room for.
    public private(set) var capacity: Int
    /// Positions filled (0…capacity).
    public private(set) var count = 0
    /// How many times the buffers were reallocated to grow (a test watches that decode does not).
    public private(set) var growths = 0
    // keys[l], values[l]: [Hkv, capacity, D], row-major.
    private var keys: [MeteredAllocation<Float>] = []
    private var values: [MeteredAllocation<Float>] = []

    /// An empty cache for `config` with room for `capacity` positions (clamped to 1…contextLength).
    public init(config: GPTConfig, capacity: Int) {
        layers = config.layers
        kvHeads = config.kvHeads
        headSize = config.headSize
        limit = config.contextLength
        self.capacity = min(max(capacity, 1), limit)
        (keys, values) = allocate(self.capacity)
    }

    private func allocate(_ positions: Int) -> ([MeteredAllocation<Float>], [MeteredAllocation<Float>]) {
        let size = kvHeads * positions * headSize
        func buffers() -> [MeteredAllocation<Float>] {
            (0..<layers).map { _ in MeteredAllocation(count: size, zero: 0, role: .activations) }
        }
        return (buffers(), buffers())
    }

    /// Makes room for `positions` in total (≤ `limit`), doubling the capacity as needed and copying
    /// what is filled. Call before appending; a no-op when there is room.
    public func reserve(_ positions: Int) {
        require(positions <= limit, "KVCache: \(positions) positions exceed the context length \(limit)")
        guard positions > capacity else { return }
        var grown = capacity
        while grown < positions { grown *= 2 }
        grown = min(grown, limit)
        let (newKeys, newValues) = allocate(grown)
        // Head g's rows move from stride `capacity` to stride `grown`.
        let filled = count * headSize
        for layer in 0..<layers {
            for g in 0..<kvHeads {
                (newKeys[layer].pointer + g * grown * headSize).update(from: keys[layer].pointer + g * capacity * headSize, count: filled)
                (newValues[layer].pointer + g * grown * headSize).update(from: values[layer].pointer + g * capacity * headSize, count: filled)
            }
        }
        (keys, values, capacity) = (newKeys, newValues, grown)
        growths += 1
    }

    /// Writes `steps` new positions of one layer after the filled ones, from k, v [Hkv, steps, D].
    /// The positions become visible to `count` only through `advance(by:)`, after every layer wrote.
    func write(layer: Int, keys k: UnsafePointer<Float>, values v: UnsafePointer<Float>, steps: Int) {
        require(count + steps <= capacity, "KVCache: writing \(steps) positions after \(count) overflows capacity \(capacity)")
        for g in 0..<kvHeads {
            let destination = (g * capacity + count) * headSize, source = g * steps * headSize
            (keys[layer].pointer + destination).update(from: k + source, count: steps * headSize)
            (values[layer].pointer + destination).update(from: v + source, count: steps * headSize)
        }
    }

    /// Marks `steps` more positions as filled (after every layer has written them).
    func advance(by steps: Int) {
        require(count + steps <= capacity, "KVCache: advancing \(steps) past capacity \(capacity)")
        count += steps
    }

    /// Keys of one layer and KV head: [capacity, D], the first `count` (+ positions being written) rows valid.
    func keys(layer: Int, head: Int) -> UnsafePointer<Float> { UnsafePointer(keys[layer].pointer + head * capacity * headSize) }

    /// Values of one layer and KV head: [capacity, D].
    func values(layer: Int, head: Int) -> UnsafePointer<Float> { UnsafePointer(values[layer].pointer + head * capacity * headSize) }

    /// Forgets every position after the first `positions` (keeps the buffers): rewinding to a shared
    /// prefix, e.g. the start of a conversation that is being continued.
    public func truncate(to positions: Int) {
        require(positions >= 0 && positions <= count, "KVCache: cannot truncate \(count) positions to \(positions)")
        count = positions
    }

    /// Forgets everything (keeps the buffers).
    public func reset() { count = 0 }

    /// Bytes held by the buffers.
    public var byteCount: Int { 2 * layers * kvHeads * capacity * headSize * MemoryLayout<Float>.stride }
}
