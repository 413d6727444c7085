// CompositeGradientCheckTests.swift — gradient checks of whole layers, not single ops: attention with its
// causal mask, grouped KV heads, RoPE and a prefix; a block of each flavour; the whole model's loss.
//
// Each op is checked alone in the op catalogue (Tests/AutodiffTests); these catch what only appears when
// ops are chained — a head split permuted the wrong way in backward, a repeated KV head whose gradient is
// not summed over its query heads, a prefix concatenated but not reached by backward, a residual branch
// dropped. Every parameter is redrawn at scale 0.3 first (see TestSupport/GradientChecking.swift), and
// each test asserts the number of checked scalars is every input plus every trainable parameter. The
// Llama attention layer is also checked in Double against a twin written without Tensor (tolerance 1e-4,
// where the Float check's 1e-2 cannot see a gradient wrong by 0.5%).
import Testing
import Foundation
import Kernels
import Autodiff
@testable import NN
import TestSupport

/// A prefix of learned keys and values for the tests (PEFT's prefix tuning installs its own).
final class TestPrefix: AttentionPrefix {
    let keys: Tensor, values: Tensor
    init(heads: Int, length: Int, width: Int, rng: inout RNG) {
        keys = makeParameter(Tensor.randomNormal([heads, length, width], std: 0.5, rng: &rng))
        values = makeParameter(Tensor.randomNormal([heads, length, width], std: 0.5, rng: &rng))
    }
    var prefixParameters: [(name: String, tensor: Tensor)] { [("prefix_keys", keys), ("prefix_values", values)] }
}

@Suite struct CompositeGradientCheckTests {
    /// TinyModels' configs: GPT-2 flavour width 12 (3 heads of 4, MLP 48); Llama flavour width 16, 4 query
    /// heads sharing 2 KV heads (GQA), head size 4 (RoPE), MLP 24. Both have 2 blocks and vocabulary 11.
    static let gpt2 = TinyModels.gpt2
    static let llama = TinyModels.llama
    static let flavours = [gpt2, llama]

    /// x [2, 3, C] with N(0, 1) entries, requiring a gradient.
    func input(_ config: GPTConfig, seed: UInt64) -> Tensor {
        var rng = RNG(seed: seed)
        return Tensor.randomNormal([2, 3, config.embeddingSize], rng: &rng, requiresGrad: true)
    }

    func expectPassed(_ result: GradientCheckResult, checks module: any Module, inputs: [Tensor], _ label: String) {
        #expect(result.passed, "\(label): \(result)")
        #expect(result.checked == ModuleGradientCheck.scalarCount(module, inputs: inputs), "\(label): not every scalar was checked")
    }

    /// Attention w.r.t. x and every projection (and, with a prefix, the prefix keys and values).
    @Test(arguments: CompositeGradientCheckTests.flavours, [0, 2])
    func attentionWithTheCausalMask(_ config: GPTConfig, prefixLength: Int) {
        var rng = RNG(seed: 1)
        let attention = CausalSelfAttention(config: config, rng: &rng)
        ModuleGradientCheck.randomize(attention, seed: 2)
        if prefixLength > 0 { attention.prefix = TestPrefix(heads: config.heads, length: prefixLength, width: config.headSize, rng: &rng) }
        let x = input(config, seed: 3)
        let result = ModuleGradientCheck.check(attention, inputs: [x]) { attention(x) }
        expectPassed(result, checks: attention, inputs: [x],
                     "\(config.flavour) attention (GQA: \(config.kvHeads) of \(config.heads) heads), \(prefixLength) prefix positions")
    }

    @Test(arguments: CompositeGradientCheckTests.flavours)
    func block(_ config: GPTConfig) {
        var rng = RNG(seed: 7)
        let block = Block(config: config, rng: &rng)
        ModuleGradientCheck.randomize(block, seed: 8)
        let x = input(config, seed: 9)
        let result = ModuleGradientCheck.check(block, inputs: [x]) { block(x, dropoutSeed: nil) }
        expectPassed(result, checks: block, inputs: [x], "\(config.flavour) block")
    }

    /// The mean next-token loss of the whole model w.r.t. every parameter (embeddings, both blocks, final
    /// norm, and the tied or separate head).
    @Test(arguments: CompositeGradientCheckTests.flavours)
    func wholeModelLoss(_ config: GPTConfig) {
        var rng = RNG(seed: 10)
        let model = GPT(config: config, rng: &rng)
        ModuleGradientCheck.randomize(model, seed: 11)
        let ids: [Int32] = [1, 4, 0, 10, 2, 3, 5, 1]
        let targets: [Int32] = [4, 0, 10, 2, 3, 5, 1, 9]
        let result = ModuleGradientCheck.check(model, inputs: []) {
            Tensor.crossEntropy(model(ids, batch: 2, steps: 4), targets: targets)
        }
        expectPassed(result, checks: model, inputs: [], "\(config.flavour) model loss")
    }

    /// Llama attention (GQA, RoPE, 2 prefix positions) in Double: backward against central differences of
    /// `llamaAttentionTwin`, at 1e-4 relative.
    @Test func llamaAttentionMatchesItsDoubleTwin() throws {
        let config = Self.llama
        var rng = RNG(seed: 12)
        let attention = CausalSelfAttention(config: config, rng: &rng)
        ModuleGradientCheck.randomize(attention, seed: 13)
        let prefix = TestPrefix(heads: config.heads, length: 2, width: config.headSize, rng: &rng)
        attention.prefix = prefix
        let x = input(config, seed: 14)
        // The twin's inputs, in this order.
        let projections = try [attention.q_proj, attention.k_proj, attention.v_proj, attention.o_proj].map { try #require($0).weight }
        let inputs = [x, prefix.keys, prefix.values] + projections
        #expect(inputs.map(\.count).reduce(0, +) == ModuleGradientCheck.scalarCount(attention, inputs: [x]))
        let twin = { (v: [[Double]]) in llamaAttentionTwin(v, batch: 2, steps: 3, prefix: 2, config: config) }
        // The twin computes the same function (else the check below would test another function's gradient).
        let forward = Tensor.withNoGrad { attention(x) }.values
        let expected = twin(inputs.map { $0.values.map(Double.init) })
        let worst = zip(forward, expected).map { abs(Double($0) - $1) }.max() ?? .infinity
        #expect(forward.count == expected.count && worst < 1e-5, "twin forward differs by \(worst)")
        let result = GradientCheck.check(inputs, reference: twin) { _ in attention(x) }
        #expect(result.passed, "\(result)")
        #expect(result.checked == inputs.map(\.count).reduce(0, +))
    }
}

/// Llama self-attention in Double, from its definition. v = [x [B·T·C], prefix keys [H·P·D], prefix values
/// [H·P·D], W_q [C, C], W_k [Hkv·D, C], W_v [Hkv·D, C], W_o [C, C]] → out [B·T·C].
func llamaAttentionTwin(_ v: [[Double]], batch b: Int, steps t: Int, prefix p: Int, config: GPTConfig) -> [Double] {
    let (c, h, hkv, d) = (config.embeddingSize, config.heads, config.kvHeads, config.headSize)
    let x = v[0][...]
    // Projections [B·T, heads·D], then heads split to [B, heads, T, D].
    func projected(_ weight: [Double], heads n: Int) -> [Double] {
        let y = referenceMatmul(x, b * t, c, transA: false, weight[...], n * d, c, transB: true)
        var split = [Double](repeating: 0, count: y.count)
        for bi in 0..<b { for ti in 0..<t { for hi in 0..<n { for di in 0..<d {
            split[((bi * n + hi) * t + ti) * d + di] = y[(bi * t + ti) * n * d + hi * d + di]
        } } } }
        return split
    }
    let theta = Double(config.ropeTheta)
    let q = ropeReference(projected(v[3], heads: h), steps: t, width: d, offset: 0, theta: theta)
    let k = ropeReference(projected(v[4], heads: hkv), steps: t, width: d, offset: 0, theta: theta)
    let values = projected(v[5], heads: hkv)
    // Query head hi reads KV head hi / (H / Hkv), after the P prefix positions (which take no rotation).
    var keys: [Double] = [], mixedValues: [Double] = []
    for bi in 0..<b {
        for hi in 0..<h {
            let g = hi / (h / hkv)
            let prefixRows: Range<Int> = (hi * p * d)..<((hi + 1) * p * d)
            let sequenceRows: Range<Int> = ((bi * hkv + g) * t * d)..<((bi * hkv + g + 1) * t * d)
            keys.append(contentsOf: v[1][prefixRows])
            keys.append(contentsOf: k[sequenceRows])
            mixedValues.append(contentsOf: v[2][prefixRows])
            mixedValues.append(contentsOf: values[sequenceRows])
        }
    }
    let mixed = attentionReference([q, keys, mixedValues], heads: b * h, t: t, s: p + t, d: d)   // [B, H, T, D]
    // Heads merged back to [B·T, C], then the output projection.
    var merged = [Double](repeating: 0, count: b * t * c)
    for bi in 0..<b { for hi in 0..<h { for ti in 0..<t { for di in 0..<d {
        merged[(bi * t + ti) * c + hi * d + di] = mixed[((bi * h + hi) * t + ti) * d + di]
    } } } }
    return referenceMatmul(merged[...], b * t, c, transA: false, v[6][...], c, c, transB: true)
}
