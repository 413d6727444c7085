// Chapter15RealThing+Distance.swift — how far each fine-tune moved the weights: the measurement behind
// the forgetting comparison.
//
// Teaches: "LoRA forgets less" is usually explained by distance: a low-rank update can only move the
// weights along a few directions per layer, so at the rates and budgets of large fine-tunes it moves
// them less than full fine-tuning does. Whether that holds depends on the distance each method actually
// travelled, not on its parameter count: full fine-tuning at the lowest rate that learns a task may
// barely move any weight, while LoRA at its own (much higher) lowest rate moves its few directions far.
// So next to the perplexity the chapter measures, for each fine-tune, the relative Frobenius distance
// of the linear layers (the weights LoRA can change, so the comparison is like for like):
//     d = sqrt(Σ_layers ‖W_tuned − W_base‖²) / sqrt(Σ_layers ‖W_base‖²)
// with W_tuned = W + s·B·A for a LoRA fine-tune (merged to measure, then unmerged).
// Distance is not the whole story (measured, README): on SmolLM2, full fine-tuning at lr 1e-4 moved the
// linear weights further than LoRA did and still lowered the general-text perplexity — the direction of
// an update matters as well as its size. The chapter's sentence only says whether the distances rank
// the two methods as their perplexity changes do.
// Leaves out: the embeddings and norms full fine-tuning also moves (not comparable with LoRA's), and
// QLoRA's packed base (its blocks never move; only its adapter does, as with LoRA).
import NN
import PEFT

extension Chapter15RealThing {
    /// A distance for a table cell: "1.90e-03", or "n/a" when it could not be measured (a packed base).
    static func distanceText(_ distance: Double?) -> String { distance.map { String(format: "%.2e", $0) } ?? "n/a" }

    /// The relative distance d (above) between `model`'s linear weights and `base`'s, LoRA adapter
    /// "default" included when attached. nil when a linear weight is packed (a quantized base) or the two
    /// models' linear layers do not pair up by name and shape.
    static func linearWeightDistance(_ model: GPT, base: GPT) throws -> Double? {
        let tuned = LoRA.linearLayers(of: model), original = LoRA.linearLayers(of: base)
        guard tuned.count == original.count, !tuned.isEmpty,
              tuned.allSatisfy({ $0.layer.packedWeight == nil }), original.allSatisfy({ $0.layer.packedWeight == nil }) else { return nil }
        // The adapter is folded in to measure W + s·B·A, and taken out again afterwards (W is restored up
        // to float rounding, ~1e-7 relative; the chapter measures this after every other use of the model).
        let adapted = !LoRA.loraLayers(of: model).isEmpty
        if adapted { try LoRA.merge("default", into: model) }
        defer { if adapted { LoRA.unmerge("default", from: model) } }
        var moved = 0.0, size = 0.0
        for (one, two) in zip(tuned, original) {
            guard one.path == two.path, one.layer.weight.shape == two.layer.weight.shape else { return nil }
            let (w, w0) = (one.layer.weight.data, two.layer.weight.data)
            for index in 0..<one.layer.weight.count {
                let difference = Double(w[index] - w0[index])
                moved += difference * difference
                size += Double(w0[index]) * Double(w0[index])
            }
        }
        return size > 0 ? (moved / size).squareRoot() : nil
    }
}
