// DAREMasks.swift — where DARE's random keep/drop decisions come from.
//
// Teaches: separating a method's randomness from its arithmetic. DARE (Yu et al., 2024) keeps each
// task-vector entry with probability `density` and then rescales; the random mask is the only part
// that cannot match another library bit for bit (mergekit draws it with torch.bernoulli, whose
// stream we do not reproduce). Everything after the mask — rescale, weights, TIES consensus,
// normalize, λ — is deterministic, so a caller that supplies the masks (for instance the ones
// mergekit drew, recorded by scripts/mergekit/make_dare_fixtures.py) gets mergekit's tensors.
// By default the masks come from our seeded RNG: one uniform per entry, kept when it is < density.
// Leaves out: other sparsifications by a provider (TIES's and breadcrumbs' masks are deterministic).
import Kernels

/// One mask DARE needs: for task vector of `model` (the config's model path) on `tensor` (its
/// transformers name, as mergekit calls it), `count` entries, each kept with probability `density`.
public struct DAREMaskRequest: Sendable, Hashable {
    /// The tensor's transformers name (`transformer.h.0.attn.c_attn.weight`, `model.layers.0.mlp.up_proj.weight`).
    public let tensor: String
    /// The model whose task vector is masked, as written in the config.
    public let model: String
    /// Entries in the tensor.
    public let count: Int
    /// The probability of keeping an entry (0 < density < 1).
    public let density: Double

    /// A request (ModelMerge builds these; tests may too).
    public init(tensor: String, model: String, count: Int, density: Double) {
        (self.tensor, self.model, self.count, self.density) = (tensor, model, count, density)
    }
}

/// Supplies DARE's keep mask (true = kept), `count` values in the tensor's transformers layout
/// (row-major as safetensors stores it: GPT-2's Conv1D weights are [in, out]). Throws to stop the merge.
public typealias DAREMaskProvider = (DAREMaskRequest) throws -> [Bool]

/// The masks of one merge: a provider's, or our seeded RNG's.
struct DAREMasks {
    let provider: DAREMaskProvider?
    var rng: RNG

    /// The keep mask for `request`, in our layout: `transposedShape` [out, in] when transformers stores
    /// the tensor transposed. Throws when a provider returns the wrong number of values.
    mutating func mask(_ request: DAREMaskRequest, transposedShape: [Int]?) throws -> [Bool] {
        guard let provider else { return (0..<request.count).map { _ in Double(rng.uniform()) < request.density } }
        let stored = try provider(request)
        guard stored.count == request.count else {
            throw ModelMerge.Error(description: "DARE mask for \(request.tensor) of \(request.model): \(stored.count) values for \(request.count) entries")
        }
        guard let shape = transposedShape, shape.count == 2 else { return stored }
        // Ours [out, in] at o·in + i is transformers' [in, out] at i·out + o.
        let (outputs, inputs) = (shape[0], shape[1])
        return (0..<stored.count).map { stored[($0 % inputs) * outputs + $0 / inputs] }
    }
}
