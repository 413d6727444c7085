// MultiAdapterServing.swift — one base model, many adapters, one batch.
//
// Teaches: why LoRA is cheap to serve. The base weights are shared; each request picks an adapter;
// a batch mixes requests for different adapters. The base matmul runs once for the whole batch and
// each adapter's low-rank branch runs only on its own rows (the "segmented" batching of S-LoRA and
// Punica, in its simplest form). The result equals running every row alone with its adapter.
// Leaves out: batching across sequence lengths, adapter paging between host and device memory.
import Kernels
import Autodiff
import NN

extension LoRALayer {
    /// Inference with a per-row adapter choice: x [B, T, in] (or [B, in]); `rows[b]` names the adapter
    /// for row b (nil: base only). Requires no-grad mode.
    func forward(_ x: Tensor, layer: Linear, rows: [String?]) -> Tensor {
        require(!Tensor.gradientsEnabled, "mixed-adapter batches are for inference: use Tensor.withNoGrad")
        require(rows.count == x.shape[0], "mixed-adapter batch: \(rows.count) adapter choices for \(x.shape[0]) rows")
        let y = layer.baseForward(x)
        let rowWidthIn = x.count / rows.count, rowWidthOut = y.count / rows.count
        for name in Set(rows.compactMap { $0 }).sorted() {
            guard let w = weights(name), !w.merged else { continue }
            // Gather this adapter's rows, run its branch on them only, add the result back in place.
            let members = rows.indices.filter { rows[$0] == name }
            let gathered = x.reshaped([rows.count, rowWidthIn]).indexSelect(members)
                .reshaped([members.count] + x.shape.dropFirst())
            let delta = Tensor.matmul(Tensor.matmul(gathered, w.a, transposeB: true), w.b, transposeB: true) * w.config.scaling
            for (slot, row) in members.enumerated() {
                let target = y.data + row * rowWidthOut, source = delta.data + slot * rowWidthOut
                for i in 0..<rowWidthOut { target[i] += source[i] }
            }
        }
        return y
    }
}

/// Serving several adapters from one base model (caseless namespace).
public enum MultiAdapterServing {
    /// The per-row adapter choice of the batch being served, read by every LoRA layer.
    @TaskLocal static var rowAdapters: [String?]?

    /// Logits [B·T, V] for `ids` [B, T] where row b uses adapter `adapters[b]` (nil: the base model).
    public static func logits(_ model: GPT, ids: [Int32], batch: Int, steps: Int, adapters: [String?]) -> Tensor {
        require(adapters.count == batch, "MultiAdapterServing: \(adapters.count) adapter choices for batch \(batch)")
        let routers = LoRA.loraLayers(of: model).map { RowRouter(lora: $0.lora) }
        for ((_, layer, _), router) in zip(LoRA.loraLayers(of: model), routers) { layer.adapter = router }
        defer { for router in routers { router.restore(model) } }
        return Tensor.withNoGrad {
            $rowAdapters.withValue(adapters) { model(ids, batch: batch, steps: steps) }
        }
    }

    /// Bytes of one adapter's tensors (what loading or swapping it moves).
    public static func adapterBytes(_ name: String, in model: GPT) -> Int {
        LoRA.loraLayers(of: model).compactMap { $0.lora.weights(name) }.flatMap(\.named).map(\.tensor.byteCount).reduce(0, +)
    }
}

/// Temporarily stands in for a LoRA layer, routing each batch row to its adapter.
final class RowRouter: LinearAdapter {
    let lora: LoRALayer
    init(lora: LoRALayer) { self.lora = lora }
    var adapterParameters: [(name: String, tensor: Tensor)] { lora.adapterParameters }
    func forward(_ x: Tensor, layer: Linear) -> Tensor {
        guard let rows = MultiAdapterServing.rowAdapters else { return lora.forward(x, layer: layer) }
        return lora.forward(x, layer: layer, rows: rows)
    }
    /// Puts the LoRA layer back on whichever Linear this router is installed on.
    func restore(_ model: GPT) {
        for (_, layer) in LoRA.linearLayers(of: model) where layer.adapter === self { layer.adapter = lora }
    }
}

extension MultiAdapterServing {
    /// Greedy generation for a batch whose rows use different adapters. Rows are right-padded to a
    /// common length (causal attention never looks right, so padding does not change real positions);
    /// each row stops at `stop` or after `maxNewTokens`. Returns the new tokens of every row.
    public static func generate(_ model: GPT, prompts: [[Int]], adapters: [String?], maxNewTokens: Int, stop: Int?) -> [[Int]] {
        var sequences = prompts
        var finished = [Bool](repeating: false, count: prompts.count)
        let vocabulary = model.config.vocabularySize
        for _ in 0..<maxNewTokens where finished.contains(false) {
            let length = sequences.map(\.count).max()!
            let ids = sequences.flatMap { row in (row + [Int](repeating: 0, count: length - row.count)).map(Int32.init) }
            let logits = self.logits(model, ids: ids, batch: sequences.count, steps: length, adapters: adapters)
            for row in sequences.indices where !finished[row] {
                // The prediction after the row's last real token.
                let base = (row * length + sequences[row].count - 1) * vocabulary
                var best = 0
                for v in 1..<vocabulary where logits.data[base + v] > logits.data[base + best] { best = v }
                sequences[row].append(best)
                if best == stop || sequences[row].count >= model.config.contextLength { finished[row] = true }
            }
        }
        return zip(sequences, prompts).map { Array($0.dropFirst($1.count)) }
    }
}
