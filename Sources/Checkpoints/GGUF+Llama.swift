// GGUF+Llama — a llama.cpp Llama file as our GPT: tensor names, hyperparameters, the RoPE permutation.
//
// What this file teaches: the three things that separate a GGUF Llama from a Hugging Face one.
// 1. Names. llama.cpp renames every tensor; the map (ours ← GGUF) is
//        embed_tokens.weight                     ← token_embd.weight
//        layers.N.input_layernorm.weight         ← blk.N.attn_norm.weight
//        layers.N.self_attn.{q,k,v}_proj.weight  ← blk.N.attn_{q,k,v}.weight
//        layers.N.self_attn.o_proj.weight        ← blk.N.attn_output.weight
//        layers.N.post_attention_layernorm.weight← blk.N.ffn_norm.weight
//        layers.N.mlp.{gate,up,down}_proj.weight ← blk.N.ffn_{gate,up,down}.weight
//        norm.weight                             ← output_norm.weight
//        lm_head.weight                          ← output.weight   (absent: tied to token_embd)
// 2. Hyperparameters live in metadata under the architecture's name: `llama.context_length`,
//    `llama.embedding_length`, `llama.block_count`, `llama.feed_forward_length`,
//    `llama.attention.head_count(_kv)`, `llama.rope.freq_base`, `llama.attention.layer_norm_rms_epsilon`,
//    and the vocabulary size (`llama.vocab_size`, else the token list, else token_embd's rows).
// 3. The Q/K rows are permuted. llama.cpp's RoPE rotates adjacent pairs (2i, 2i+1) of a head, Hugging
//    Face's (and ours) rotates (i, i + D/2). So its converter reorders the rows of q_proj and k_proj
//    within each head: GGUF row h·D + 2i + j holds HF row h·D + j·D/2 + i (j ∈ {0, 1}, i < D/2).
//    E.g. D = 4: GGUF rows [r0, r2, r1, r3] of each head. Loading undoes it (as transformers' GGUF
//    loader does), exporting re-applies it. K uses the number of KV heads.
// Everything is validated before the model is built: architecture, every expected tensor with its
// shape and a decodable type (all problems in one error), no tensor left over.
// What it leaves out: other architectures (qwen2, gemma, phi… are refused by name), RoPE scaling,
// biases, and partial rotary dimensions.

import Foundation
import Kernels
import Autodiff
import NN

extension GGUF {
    /// The GGUF name of one of our Llama parameter names, or nil if it has none.
    public static func llamaTensorName(of name: String) -> String? {
        switch name {
        case "embed_tokens.weight": return "token_embd.weight"
        case "norm.weight": return "output_norm.weight"
        case "lm_head.weight": return "output.weight"
        default: break
        }
        let parts = name.split(separator: ".", maxSplits: 2).map(String.init)
        guard parts.count == 3, parts[0] == "layers", Int(parts[1]) != nil else { return nil }
        let suffixes = ["input_layernorm.weight": "attn_norm.weight", "self_attn.q_proj.weight": "attn_q.weight",
                        "self_attn.k_proj.weight": "attn_k.weight", "self_attn.v_proj.weight": "attn_v.weight",
                        "self_attn.o_proj.weight": "attn_output.weight", "post_attention_layernorm.weight": "ffn_norm.weight",
                        "mlp.gate_proj.weight": "ffn_gate.weight", "mlp.up_proj.weight": "ffn_up.weight",
                        "mlp.down_proj.weight": "ffn_down.weight"]
        return suffixes[parts[2]].map { "blk.\(parts[1]).\($0)" }
    }

    /// Reorders the rows of a Q or K projection [heads·D, columns] between llama.cpp's RoPE layout and
    /// Hugging Face's. `toGGUF: false` undoes the converter's permutation (loading), `true` applies it.
    public static func permuteRoPERows(_ values: [Float], heads: Int, columns: Int, toGGUF: Bool) -> [Float] {
        let rows = values.count / max(columns, 1)
        let d = rows / max(heads, 1), half = d / 2
        var out = values
        for h in 0..<heads {
            for i in 0..<half {
                for j in 0..<2 {
                    let huggingFace = h * d + j * half + i, llamaCpp = h * d + 2 * i + j
                    let (to, from) = toGGUF ? (llamaCpp, huggingFace) : (huggingFace, llamaCpp)
                    for c in 0..<columns { out[to * columns + c] = values[from * columns + c] }
                }
            }
        }
        return out
    }
}

extension ModelCheckpoint {
    /// Our config for a GGUF file whose `general.architecture` is "llama"; throws naming the key for
    /// anything missing, mistyped or unsupported (other architectures, RoPE scaling, partial rotary).
    public static func gptConfig(gguf file: GGUF.File) throws -> GPTConfig {
        func fail(_ problem: GGUF.Problem) -> GGUF.Error { GGUF.Error(file: file.label, problem: problem) }
        let architecture = try file.string("general.architecture")
        guard architecture == "llama" else { throw fail(.unsupportedArchitecture(architecture)) }
        func positive(_ key: String) throws -> Int {
            let value = try file.int(key)
            guard value > 0, value <= 1 << 24 else { throw fail(.invalidValue(key: key, reason: "\(value) is not in 1...\(1 << 24)")) }
            return value
        }
        let embedding = try positive("llama.embedding_length"), heads = try positive("llama.attention.head_count")
        let kvHeads = try file.metadata["llama.attention.head_count_kv"] == nil ? heads : positive("llama.attention.head_count_kv")
        let vocabulary: Int
        if file.metadata["llama.vocab_size"] != nil {
            vocabulary = try positive("llama.vocab_size")
        } else if let tokens = file.metadata["tokenizer.ggml.tokens"]?.array {
            vocabulary = tokens.count
        } else {
            vocabulary = try file.info("token_embd.weight").shape.first ?? 0
        }
        let theta = try file.optional("llama.rope.freq_base", file.double) ?? 10_000
        let epsilon = try file.double("llama.attention.layer_norm_rms_epsilon")
        guard theta > 0, theta.isFinite else { throw fail(.invalidValue(key: "llama.rope.freq_base", reason: "\(theta) is not positive")) }
        guard epsilon > 0, epsilon < 1 else {
            throw fail(.invalidValue(key: "llama.attention.layer_norm_rms_epsilon", reason: "\(epsilon) is not in (0, 1)"))
        }
        if let scaling = try file.optional("llama.rope.scaling.type", file.string), scaling != "none" {
            throw fail(.invalidValue(key: "llama.rope.scaling.type", reason: "RoPE scaling '\(scaling)' is not supported"))
        }
        let config = GPTConfig.llama(vocabularySize: vocabulary, contextLength: try positive("llama.context_length"),
                                     embeddingSize: embedding, layers: try positive("llama.block_count"), heads: heads,
                                     kvHeads: kvHeads, mlpSize: try positive("llama.feed_forward_length"),
                                     ropeTheta: Float(theta), normEpsilon: Float(epsilon),
                                     tiedEmbeddings: !file.contains("output.weight"))
        if let problem = config.validationError() { throw fail(.invalidValue(key: "llama.*", reason: problem)) }
        // Each block has 9 tensors (plus embedding and final norm): a larger count cannot match the file,
        // and checking now keeps a corrupt count from building millions of expected names.
        guard config.layers <= (file.tensors.count - 2) / 9 else {
            throw fail(.invalidValue(key: "llama.block_count", reason: "\(config.layers) blocks need at least \(9 * config.layers + 2) tensors, the file has \(file.tensors.count)"))
        }
        for key in ["llama.rope.dimension_count", "llama.attention.key_length", "llama.attention.value_length"]
        where file.metadata[key] != nil {
            let value = try file.int(key)
            guard value == config.headSize else {
                throw fail(.invalidValue(key: key, reason: "\(value) differs from the head size \(config.headSize) (embedding / heads)"))
            }
        }
        return config
    }

    /// Checks that `file` holds exactly the tensors of `config` with the right shapes and decodable
    /// types; one error lists every problem. Returns our parameter name → GGUF tensor name.
    public static func validateLlamaTensors(_ file: GGUF.File, config: GPTConfig) throws -> [(ours: String, gguf: String, shape: [Int])] {
        let (c, kv, f, v) = (config.embeddingSize, config.kvHeads * config.headSize, config.mlpSize, config.vocabularySize)
        var expected: [(String, [Int])] = [("embed_tokens.weight", [v, c])]
        for layer in 0..<config.layers {
            let p = "layers.\(layer)."
            expected += [(p + "input_layernorm.weight", [c]), (p + "self_attn.q_proj.weight", [c, c]),
                         (p + "self_attn.k_proj.weight", [kv, c]), (p + "self_attn.v_proj.weight", [kv, c]),
                         (p + "self_attn.o_proj.weight", [c, c]), (p + "post_attention_layernorm.weight", [c]),
                         (p + "mlp.gate_proj.weight", [f, c]), (p + "mlp.up_proj.weight", [f, c]), (p + "mlp.down_proj.weight", [c, f])]
        }
        expected.append(("norm.weight", [c]))
        if !config.tiedEmbeddings { expected.append(("lm_head.weight", [v, c])) }
        var problems: [String] = []
        var mapping: [(ours: String, gguf: String, shape: [Int])] = []
        for (ours, shape) in expected {
            guard let name = GGUF.llamaTensorName(of: ours) else { continue }
            guard file.contains(name) else { problems.append("missing \(name)"); continue }
            let info = try file.info(name)
            if info.shape != shape { problems.append("\(name) has shape \(info.shape), expected \(shape)") }
            if !GGUF.TensorType.decodable.contains(info.type) { problems.append("\(name) has unsupported type \(info.type.name)") }
            mapping.append((ours, name, shape))
        }
        let known = Set(mapping.map(\.gguf))
        let extra = file.tensors.map(\.name).filter { !known.contains($0) }
        if !extra.isEmpty { problems.append("unexpected tensors \(extra.prefix(5).joined(separator: ", "))\(extra.count > 5 ? " and \(extra.count - 5) more" : "")") }
        guard problems.isEmpty else {
            let supported = GGUF.TensorType.decodable.map(\.name).joined(separator: ", ")
            throw GGUF.Error(file: file.label, problem: .tensorMismatch(
                "not a Llama model we can load: " + problems.prefix(6).joined(separator: "; ")
                    + (problems.count > 6 ? "; and \(problems.count - 6) more" : "") + " (decodable types: \(supported))"))
        }
        return mapping
    }

    /// Builds our GPT from a Llama GGUF file, decoding every tensor to fp32 and undoing the Q/K permutation.
    /// Tensors for which `leavePacked(ourName, info)` is true are not decoded: the caller installs them
    /// (the Quantization module keeps block-quantized matrices packed that way).
    /// With `untieHead`, a tied model gets a separate (placeholder) `lm_head` the caller fills, e.g.
    /// with the packed token table shared by the embedding and the head.
    public static func model(from file: GGUF.File, untieHead: Bool = false,
                             leavePacked: (String, GGUF.TensorInfo) -> Bool = { _, _ in false }) throws -> GPT {
        var config = try gptConfig(gguf: file)
        let mapping = try validateLlamaTensors(file, config: config)
        if untieHead { config.tiedEmbeddings = false }
        var rng = RNG(seed: 0)  // placeholder initial values, all overwritten below
        let model = GPT(config: config, rng: &rng)
        let parameters = Dictionary(uniqueKeysWithValues: model.namedParameters().map { ($0.name, $0.tensor) })
        for (ours, name, shape) in mapping {
            guard let parameter = parameters[ours], !leavePacked(ours, try file.info(name)) else { continue }
            var values = try file.floats(of: name)
            if let heads = ropeHeads(ours, config) {
                values = GGUF.permuteRoPERows(values, heads: heads, columns: shape[1], toGGUF: false)
            }
            values.withUnsafeBufferPointer { parameter.data.update(from: $0.baseAddress!, count: values.count) }
        }
        return model
    }

    /// Heads whose rows the converter permuted, for a Q (query heads) or K (KV heads) projection.
    public static func ropeHeads(_ ourName: String, _ config: GPTConfig) -> Int? {
        if ourName.hasSuffix("self_attn.q_proj.weight") { return config.heads }
        if ourName.hasSuffix("self_attn.k_proj.weight") { return config.kvHeads }
        return nil
    }

    /// Loads a `.gguf` file into an fp32 GPT.
    public static func load(gguf url: URL) throws -> GPT {
        try model(from: GGUF.File(contentsOf: url))
    }
}

extension GGUF.File {
    /// The storage types by share of values, e.g. "Q4_1 79%, Q8_0 21%, F32 <1%".
    public var typeSummary: String {
        var counts: [GGUF.TensorType: Int] = [:]
        for tensor in tensors { counts[tensor.type, default: 0] += tensor.elementCount }
        let total = max(1, counts.values.reduce(0, +))
        return counts.sorted { ($1.value, $0.key.rawValue) < ($0.value, $1.key.rawValue) }.map { type, count in
            let percent = 100 * count / total
            return "\(type.name) \(percent == 0 ? "<1" : String(percent))%"
        }.joined(separator: ", ")
    }

    /// One line for a loaded model: "llama, 134.5M parameters, Q4_1 79%, Q8_0 21%, context 8192".
    public func summary(config: GPTConfig) -> String {
        let parameters = tensors.reduce(0) { $0 + $1.elementCount }
        let name = (try? string("general.name")).map { " \"\($0)\"" } ?? ""
        let millions = String(format: "%.1f", Double(parameters) / 1e6)
        return "llama\(name), \(millions)M parameters, \(typeSummary), context \(config.contextLength)"
    }
}
