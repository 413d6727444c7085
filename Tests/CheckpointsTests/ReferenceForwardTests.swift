// A deliberately naive forward pass of GPT-2 and Llama, in Double, straight from the HF tensors,
// checked against the logits transformers computed (Fixtures/*/expected.json).
//
// This is not the library's model (that lives in NN). It exists to pin down, in executable form,
// the HF conventions a loader must respect, so the lead's NN mapping has a worked reference:
// - GPT-2 Conv1D weights are [in, out] (y = x·W), c_attn packs q | k | v along the output axis,
//   heads are contiguous D-wide slices, scores are scaled by 1/√D, the MLP uses gelu_new (tanh),
//   LayerNorm uses the biased variance and ε = 1e-5, and the LM head is wte (tied).
// - Llama nn.Linear weights are [out, in] (y = W·x), RMSNorm is x / √(mean(x²) + ε) · w,
//   RoPE rotates the two *halves* of each head (rotate_half), not interleaved pairs, with
//   inv_freq[j] = θ^(-2j/D); query head h reads key/value head h / (H/K); MLP is down(silu(gate)·up).

import Foundation
import Testing
@testable import Checkpoints

/// The parts of expected.json the test uses.
struct ExpectedLogits: Decodable {
    var model_type: String
    var tokens: [Int]
    var logits_shape: [Int]
    var logits: [Float]
    var activation: String
}

/// Row-major matrix read from a checkpoint, in Double.
struct Matrix {
    var rows: Int, columns: Int
    var values: [Double]
    subscript(row: Int, column: Int) -> Double { values[row * columns + column] }

    init(_ checkpoint: HFCheckpoint, _ name: String) throws {
        let shape = try checkpoint.shape(name)
        (rows, columns) = shape.count == 2 ? (shape[0], shape[1]) : (1, shape[0])
        values = try checkpoint.floats(name).map(Double.init)
    }

    /// x·W for W stored [in, out] (Conv1D).
    func inputMajorTimes(_ x: [Double]) -> [Double] {
        (0..<columns).map { o in (0..<rows).reduce(0) { $0 + x[$1] * self[$1, o] } }
    }

    /// W·x for W stored [out, in] (nn.Linear).
    func outputMajorTimes(_ x: [Double]) -> [Double] {
        (0..<rows).map { o in (0..<columns).reduce(0) { $0 + self[o, $1] * x[$1] } }
    }
}

enum Reference {
    static func layerNorm(_ x: [Double], weight: Matrix, bias: Matrix, epsilon: Double) -> [Double] {
        let mean = x.reduce(0, +) / Double(x.count)
        let variance = x.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(x.count)
        return x.indices.map { (x[$0] - mean) / (variance + epsilon).squareRoot() * weight.values[$0] + bias.values[$0] }
    }

    static func rmsNorm(_ x: [Double], weight: Matrix, epsilon: Double) -> [Double] {
        let meanSquare = x.reduce(0) { $0 + $1 * $1 } / Double(x.count)
        return x.indices.map { x[$0] / (meanSquare + epsilon).squareRoot() * weight.values[$0] }
    }

    static func geluTanh(_ x: Double) -> Double {
        0.5 * x * (1 + tanh((2 / Double.pi).squareRoot() * (x + 0.044715 * x * x * x)))
    }

    /// Causal attention for one query head over keys/values 0...t; q, k, v are [T][D].
    static func attend(query: [Double], keys: [[Double]], values: [[Double]]) -> [Double] {
        let scale = 1 / Double(query.count).squareRoot()
        let scores = keys.map { key in zip(query, key).reduce(0) { $0 + $1.0 * $1.1 } * scale }
        let top = scores.max()!
        let weights = scores.map { exp($0 - top) }
        let total = weights.reduce(0, +)
        var out = [Double](repeating: 0, count: query.count)
        for (w, value) in zip(weights, values) { for d in out.indices { out[d] += w / total * value[d] } }
        return out
    }

    static func gpt2Logits(_ c: HFCheckpoint, _ config: HFConfig.GPT2, tokens: [Int]) throws -> [[Double]] {
        let (width, heads, d) = (config.nEmbd, config.nHead, config.headDim)
        let eps = Double(config.layerNormEpsilon)
        let wte = try Matrix(c, "wte.weight"), wpe = try Matrix(c, "wpe.weight")
        var x = tokens.enumerated().map { t, token in (0..<width).map { wte[token, $0] + wpe[t, $0] } }
        for layer in 0..<config.nLayer {
            let p = "h.\(layer)."
            let m = { (name: String) in try Matrix(c, p + name) }
            // Attention: qkv = LN(x)·W_attn + b, split q | k | v, heads are contiguous slices.
            let qkv = try x.map { try zip(m("attn.c_attn.weight").inputMajorTimes(layerNorm($0, weight: m("ln_1.weight"), bias: m("ln_1.bias"), epsilon: eps)),
                                          m("attn.c_attn.bias").values).map(+) }
            var attended = [[Double]](repeating: [], count: x.count)
            for t in x.indices {
                for h in 0..<heads {
                    let slice = { (row: [Double], part: Int) in Array(row[(part * width + h * d)..<(part * width + (h + 1) * d)]) }
                    attended[t] += attend(query: slice(qkv[t], 0), keys: qkv[...t].map { slice($0, 1) }, values: qkv[...t].map { slice($0, 2) })
                }
            }
            for t in x.indices {
                let projected = zip(try m("attn.c_proj.weight").inputMajorTimes(attended[t]), try m("attn.c_proj.bias").values).map(+)
                x[t] = zip(x[t], projected).map(+)
                let hidden = zip(try m("mlp.c_fc.weight").inputMajorTimes(layerNorm(x[t], weight: m("ln_2.weight"), bias: m("ln_2.bias"), epsilon: eps)),
                                 try m("mlp.c_fc.bias").values).map { geluTanh($0 + $1) }
                x[t] = zip(x[t], zip(try m("mlp.c_proj.weight").inputMajorTimes(hidden), try m("mlp.c_proj.bias").values).map(+)).map(+)
            }
        }
        let (lnF, lnFBias) = (try Matrix(c, "ln_f.weight"), try Matrix(c, "ln_f.bias"))
        // Tied head: logits = LN(x)·wteᵀ, i.e. wte used as an [out, in] matrix.
        return x.map { wte.outputMajorTimes(layerNorm($0, weight: lnF, bias: lnFBias, epsilon: eps)) }
    }

    /// rotate_half RoPE on one head vector at position `t`.
    static func rope(_ v: [Double], position t: Int, theta: Double) -> [Double] {
        let half = v.count / 2
        var out = v
        for j in 0..<half {
            let angle = Double(t) * pow(theta, -2 * Double(j) / Double(v.count))
            out[j] = v[j] * cos(angle) - v[j + half] * sin(angle)
            out[j + half] = v[j + half] * cos(angle) + v[j] * sin(angle)
        }
        return out
    }

    static func llamaLogits(_ c: HFCheckpoint, _ config: HFConfig.Llama, tokens: [Int]) throws -> [[Double]] {
        let (heads, kvHeads, d) = (config.numAttentionHeads, config.numKeyValueHeads, config.headDim)
        let eps = Double(config.rmsNormEps)
        let embed = try Matrix(c, "model.embed_tokens.weight")
        var x = tokens.map { token in (0..<config.hiddenSize).map { embed[token, $0] } }
        for layer in 0..<config.numHiddenLayers {
            let p = "model.layers.\(layer)."
            let m = { (name: String) in try Matrix(c, p + name) }
            let normed = try x.map { rmsNorm($0, weight: try m("input_layernorm.weight"), epsilon: eps) }
            let headsOf = { (row: [Double], count: Int) in (0..<count).map { Array(row[($0 * d)..<(($0 + 1) * d)]) } }
            let q = try normed.enumerated().map { t, h in headsOf(try m("self_attn.q_proj.weight").outputMajorTimes(h), heads).map { rope($0, position: t, theta: config.ropeTheta) } }
            let k = try normed.enumerated().map { t, h in headsOf(try m("self_attn.k_proj.weight").outputMajorTimes(h), kvHeads).map { rope($0, position: t, theta: config.ropeTheta) } }
            let v = try normed.map { headsOf(try m("self_attn.v_proj.weight").outputMajorTimes($0), kvHeads) }
            for t in x.indices {
                let group = heads / kvHeads
                let attended = (0..<heads).flatMap { h in attend(query: q[t][h], keys: k[...t].map { $0[h / group] }, values: v[...t].map { $0[h / group] }) }
                x[t] = zip(x[t], try m("self_attn.o_proj.weight").outputMajorTimes(attended)).map(+)
                let h = rmsNorm(x[t], weight: try m("post_attention_layernorm.weight"), epsilon: eps)
                let gate = try m("mlp.gate_proj.weight").outputMajorTimes(h), up = try m("mlp.up_proj.weight").outputMajorTimes(h)
                let hidden = zip(gate, up).map { g, u in g / (1 + exp(-g)) * u }
                x[t] = zip(x[t], try m("mlp.down_proj.weight").outputMajorTimes(hidden)).map(+)
            }
        }
        let norm = try Matrix(c, "model.norm.weight"), head = try Matrix(c, "lm_head.weight")
        return x.map { head.outputMajorTimes(rmsNorm($0, weight: norm, epsilon: eps)) }
    }
}

@Suite struct ReferenceForwardTests {
    static func load(_ folder: String) throws -> (HFCheckpoint, ExpectedLogits) {
        let directory = try fixturesURL().appendingPathComponent(folder)
        let expected = try JSONDecoder().decode(ExpectedLogits.self, from: Data(contentsOf: directory.appendingPathComponent("expected.json")))
        return (try HFCheckpoint(directory: directory), expected)
    }

    static func maxDifference(_ logits: [[Double]], _ expected: ExpectedLogits) -> Double {
        zip(logits.flatMap { $0 }, expected.logits).map { abs($0 - Double($1)) }.max() ?? .infinity
    }

    @Test func expectedFilesHaveTheDocumentedLayout() throws {
        for folder in ["tiny-gpt2", "tiny-llama"] {
            let (_, expected) = try Self.load(folder)
            #expect(expected.tokens == [1, 17, 42, 5, 63, 0, 8, 29, 33, 12])
            #expect(expected.logits_shape == [10, 64])
            #expect(expected.logits.count == 640)
        }
    }

    @Test func gpt2ReferenceMatchesTransformers() throws {
        let (checkpoint, expected) = try Self.load("tiny-gpt2")
        guard case .gpt2(let config) = checkpoint.architecture else { Issue.record("not gpt2"); return }
        #expect(expected.activation == "gelu_new")
        let logits = try Reference.gpt2Logits(checkpoint, config, tokens: expected.tokens)
        #expect(Self.maxDifference(logits, expected) < 1e-4)
    }

    @Test func llamaReferenceMatchesTransformers() throws {
        let (checkpoint, expected) = try Self.load("tiny-llama")
        guard case .llama(let config) = checkpoint.architecture else { Issue.record("not llama"); return }
        let logits = try Reference.llamaLogits(checkpoint, config, tokens: expected.tokens)
        #expect(Self.maxDifference(logits, expected) < 1e-4)
    }
}
