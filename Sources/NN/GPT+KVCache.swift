// GPT+KVCache.swift — the model's forward pass for generation: new positions against cached ones.
//
// Teaches: what changes when the past is cached. Every layer still runs — embeddings, norms,
// projections (with whatever adapters are installed), MLPs — but only on the new positions:
// T prompt tokens once (prefill), then a single token per step (decode). Attention is the one place
// the past is needed; there the new queries meet the cached keys and values:
//   x [1, T, C] → q [H, T, D], new k, v [Hkv, T, D] → appended to the cache
//   query i (absolute position s + i) attends to the prefix P (prefix tuning) and cache rows 0…s + i
// The logits equal the full forward's at every position (tests hold them to it); RoPE and GPT-2's
// position table just start at the cached length instead of 0.
// Runs without the autodiff tape: the cache holds plain numbers, not graph nodes.
// A prompt of several tokens runs its attention through the training path's fused kernel
// (Kernels/Attention.swift, grouped KV read straight from the cache); a decode step's one query uses the loop below.
// Leaves out: batched generation (batch 1 only), speculative decoding, flash-style decode attention.
import Kernels
import Autodiff

extension GPT {
    /// Logits for `ids` continuing the sequence held in `cache`, which it extends by their positions.
    ///
    /// The first call on an empty cache also places the virtual tokens of prompt tuning (they are
    /// then cached like any other position). Returns [T, V] (`lastOnly`: [1, V], the next-token
    /// logits after the last id — what decoding needs, without projecting every prompt position
    /// onto the vocabulary). Never records a tape, whatever the parameters' `requiresGrad`.
    /// Requires 1 ≤ T and cached + new positions ≤ contextLength (callers check user input first).
    public func callAsFunction(_ ids: [Int32], cache: KVCache, lastOnly: Bool = false) -> Tensor {
        require(!ids.isEmpty, "GPT (cached): no ids to run")
        let virtualCount = cache.count == 0 ? virtualTokenCount : 0
        let start = cache.count, added = virtualCount + ids.count
        require(start + added <= config.contextLength,
                "GPT (cached): \(start) cached + \(added) new positions exceed the context length \(config.contextLength)")
        return Tensor.withNoGrad {
            cache.reserve(start + added)
            // 1. Embeddings of the new positions only: [1, P + T, C] (P only on the first call).
            var x = embed(ids, batch: 1, steps: ids.count, firstPosition: start, withVirtualTokens: virtualCount > 0)
            // 2. Every block, its attention reading (and extending) layer l of the cache; one RoPE table
            //    (Llama) for the new positions serves all of them.
            let rope = ropeTable(positions: start..<start + added)
            for (layer, block) in blocks.enumerated() {
                x = block.forward(x, dropoutSeed: nil) { block.attention($0, cache: cache, layer: layer, rope: rope) }
            }
            cache.advance(by: added)
            // 3. Logits of the real tokens (or of the last one).
            let keep = lastOnly ? (added - 1)..<added : virtualCount..<added
            if keep.count != added { x = x.slice(axis: 1, keep) }
            return logits(x)
        }
    }
}

extension CausalSelfAttention {
    /// Attention output for x [1, T, C] at the positions right after the `cache.count` cached ones,
    /// writing their keys and values into layer `layer` of the cache (the caller advances the count
    /// once every layer has written).
    func callAsFunction(_ x: Tensor, cache: KVCache, layer: Int, rope: RoPETable?) -> Tensor {
        let (t, h, d) = (x.shape[1], config.heads, config.headSize)
        let start = cache.count
        // 1. Projections of the new positions, rotated from position `start` (Llama).
        //    q: [1, H, T, D]; k, v: [1, Hkv, T, D]
        let (q, k, v) = project(x, positionOffset: start, rope: rope)
        cache.write(layer: layer, keys: k.data, values: v.data, steps: t)
        // 2. For each query head and new position: scores over prefix + visible cache rows, softmax,
        //    weighted sum of values. Query head `head` reads KV head `head / groups` (grouped KV).
        let groups = h / config.kvHeads
        let scale = 1 / Float(d).squareRoot()
        let prefixLength = prefix?.keys.shape[1] ?? 0
        let prefixKeys = prefix?.keys.data, prefixValues = prefix?.values.data   // [H, P, D]
        let mixed = Tensor(zeros: [1, t, h * d])                                    // heads merged: [1, T, C]
        let (queries, output) = (q.data, mixed.data)
        if prefixLength == 0 && t > 1 {
            // A prompt (no prefix-tuning prefix): the training path's fused kernel, blocked matrix products
            // per head, with the cached positions as keys every new query sees.
            promptAttention(queries, cache: cache, layer: layer, queries: t, into: output)
            OpProfile.chargeUntaped(.attention)
            return projectOutput(mixed)
        }
        // Heads are independent and write disjoint columns of `mixed`, so a prompt's heads are shared
        // out over the threads (a decode step's single position is too little work to split).
        Parallelism.forEachBlock(count: h, blockSize: 1, workPerItem: t * (prefixLength + start + t) * d) { heads in
            var scores = [Float](repeating: 0, count: prefixLength + start + t)
            scores.withUnsafeMutableBufferPointer { buffer in
                guard let weights = buffer.baseAddress else { return }
                for head in heads {
                    let keys = cache.keys(layer: layer, head: head / groups)      // [capacity, D]
                    let values = cache.values(layer: layer, head: head / groups)
                    for i in 0..<t {
                        let query = queries + (head * t + i) * d
                        let visible = start + i + 1                                // causal: rows 0…start + i
                        let width = prefixLength + visible
                        if let prefixKeys {
                            for j in 0..<prefixLength { weights[j] = scale * dot(query, prefixKeys + (head * prefixLength + j) * d, d) }
                        }
                        for j in 0..<visible { weights[prefixLength + j] = scale * dot(query, keys + j * d, d) }
                        Softmax.forward(weights, weights, rows: 1, cols: width)
                        let out = output + i * h * d + head * d
                        if let prefixValues {
                            for j in 0..<prefixLength { addScaled(weights[j], prefixValues + (head * prefixLength + j) * d, to: out, d) }
                        }
                        for j in 0..<visible { addScaled(weights[prefixLength + j], values + j * d, to: out, d) }
                    }
                }
            }
        }
        OpProfile.chargeUntaped(.attention)   // its own row in a profile, not the projection's
        // 3. The output projection, as in the full forward.
        return projectOutput(mixed)
    }
}

extension CausalSelfAttention {
    /// Attention of t > 1 new queries q [H, t, D] over the cache's rows 0 ..< count + t of layer `layer`
    /// (already holding the new keys and values), written heads-merged into `output` [t, H·D]: query i
    /// sees the cached positions and new positions 0…i. Kernels/Attention.swift does the work.
    func promptAttention(_ q: UnsafePointer<Float>, cache: KVCache, layer: Int, queries t: Int,
                         into output: UnsafeMutablePointer<Float>) {
        let (h, d) = (config.heads, config.headSize)
        let keys = cache.count + t
        let perHead = UnsafeMutablePointer<Float>.allocate(capacity: h * t * d)            // [H, t, D]
        let probabilities = UnsafeMutablePointer<Float>.allocate(capacity: h * t * keys)   // [H, t, keys]
        defer { perHead.deallocate(); probabilities.deallocate() }
        CausalAttention.forward(q: q, k: cache.keys(layer: layer, head: 0), v: cache.values(layer: layer, head: 0),
                                out: perHead, probabilities: probabilities, heads: h, queries: t, keys: keys, width: d,
                                scale: 1 / Float(d).squareRoot(), groups: h / config.kvHeads,
                                keyHeadStride: cache.capacity * d)
        // Merge the heads: output[i, head·D ..< head·D + D] = perHead[head, i, 0 ..< D].
        for head in 0..<h {
            for i in 0..<t { (output + i * h * d + head * d).update(from: perHead + (head * t + i) * d, count: d) }
        }
    }
}

/// Σ a[i]·b[i] over n floats (eight lanes at a time).
@inline(__always)
private func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
    var lanes = SIMD8<Float>(repeating: 0)
    var i = 0
    while i &+ 8 <= n {
        lanes = lanes.addingProduct(UnsafeRawPointer(a + i).loadUnaligned(as: SIMD8<Float>.self),
                                    UnsafeRawPointer(b + i).loadUnaligned(as: SIMD8<Float>.self))
        i &+= 8
    }
    var sum = lanes.sum()
    while i < n { sum += a[i] * b[i]; i &+= 1 }
    return sum
}

/// y[i] += w·x[i] over n floats.
@inline(__always)
private func addScaled(_ w: Float, _ x: UnsafePointer<Float>, to y: UnsafeMutablePointer<Float>, _ n: Int) {
    for i in 0..<n { y[i] += w * x[i] }
}
