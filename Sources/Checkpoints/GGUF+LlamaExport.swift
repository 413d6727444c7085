// GGUF+LlamaExport — our Llama-flavoured GPT written as a GGUF file llama.cpp, gguf-py and
// transformers can load.
//
// What this file teaches: exporting is GGUF+Llama.swift run backwards. Rename every parameter to its
// llama.cpp name, re-apply the Q/K row permutation for llama.cpp's RoPE, reverse the shape into ggml's
// innermost-first order (the writer does that), and describe the architecture in `llama.*` metadata.
// Matrices are stored in the requested type; norms (and any matrix whose rows are not whole blocks)
// stay F32, as llama.cpp's converter does for 1-D tensors. A tied model writes no `output.weight`.
// Tokenizer and chat-template metadata (`tokenizer.ggml.*`, `tokenizer.chat_template`) are built by the
// Tokenizers side and passed in as plain values.
// What it leaves out: the GPT-2 flavour (llama.cpp's gpt2 layout has fused QKV and biases), k-quants.

import Foundation
import NN

extension ModelCheckpoint {
    /// llama.cpp's `general.file_type` code for a file whose matrices are `type` (LLAMA_FTYPE_*).
    static func llamaFileType(_ type: GGUF.TensorType) -> UInt32 {
        switch type {
        case .f32: return 0
        case .f16: return 1
        case .q4_0: return 2
        case .q4_1: return 3
        case .q8_0: return 7
        case .bf16: return 32
        default: return 0
        }
    }

    /// The `general.*` and `llama.*` metadata describing `config`.
    public static func llamaMetadata(_ config: GPTConfig, name: String, type: GGUF.TensorType) -> [(key: String, value: GGUF.Value)] {
        [("general.architecture", .string("llama")),
         ("general.name", .string(name)),
         ("llama.context_length", .uint32(UInt32(config.contextLength))),
         ("llama.embedding_length", .uint32(UInt32(config.embeddingSize))),
         ("llama.block_count", .uint32(UInt32(config.layers))),
         ("llama.feed_forward_length", .uint32(UInt32(config.mlpSize))),
         ("llama.attention.head_count", .uint32(UInt32(config.heads))),
         ("llama.attention.head_count_kv", .uint32(UInt32(config.kvHeads))),
         ("llama.rope.freq_base", .float32(config.ropeTheta)),
         ("llama.attention.layer_norm_rms_epsilon", .float32(config.normEpsilon)),
         ("llama.rope.dimension_count", .uint32(UInt32(config.headSize))),
         ("llama.vocab_size", .uint32(UInt32(config.vocabularySize))),
         ("general.file_type", .uint32(llamaFileType(type))),
         ("general.quantization_version", .uint32(2))]
    }

    /// The model's tensors under llama.cpp names, Q/K permuted, matrices encoded as `type`.
    public static func ggufTensors(of model: GPT, type: GGUF.TensorType) throws -> [GGUF.TensorToWrite] {
        guard model.config.flavour == .llama else {
            throw GGUF.Error(file: "(export)", problem: .writer("only the Llama flavour exports to GGUF (this model is \(model.config.flavour))"))
        }
        var tensors: [GGUF.TensorToWrite] = []
        for (name, parameter) in model.namedParameters() {
            guard let ggufName = GGUF.llamaTensorName(of: name) else {
                throw GGUF.Error(file: "(export)", problem: .writer("parameter '\(name)' has no llama.cpp name (merge or drop adapters first)"))
            }
            guard parameter.count == parameter.shape.reduce(1, *), parameter.count > 0 else {
                throw GGUF.Error(file: "(export)", problem: .writer("parameter '\(name)' holds no fp32 values (a packed base: dequantize it first)"))
            }
            var values = parameter.values
            if let heads = ropeHeads(name, model.config) {
                values = GGUF.permuteRoPERows(values, heads: heads, columns: parameter.shape[1], toGGUF: true)
            }
            let row = parameter.shape.last ?? 1
            let storedType = parameter.shape.count == 2 && row % type.blockLayout.values == 0 ? type : .f32
            tensors.append(try GGUF.TensorToWrite(name: ggufName, shape: parameter.shape, floats: values, as: storedType))
        }
        return tensors
    }

    /// Writes `model` as a GGUF file (atomically): `general`/`llama` metadata, then `extraMetadata`
    /// (e.g. the tokenizer's `tokenizer.ggml.*` arrays and `tokenizer.chat_template`), then the tensors.
    public static func saveGGUF(_ model: GPT, to url: URL, type: GGUF.TensorType = .f16, name: String = "tinytune",
                                extraMetadata: [(key: String, value: GGUF.Value)] = []) throws {
        let metadata = llamaMetadata(model.config, name: name, type: type) + extraMetadata
        try GGUF.write(metadata: metadata, tensors: try ggufTensors(of: model, type: type), to: url)
    }
}
