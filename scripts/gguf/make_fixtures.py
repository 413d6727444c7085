#!/usr/bin/env python3
"""Regenerate the GGUF test fixtures (CI never runs this; the outputs are committed).

Command (from the repository root):

    /work/py/venv/bin/python scripts/gguf/make_fixtures.py Tests/CheckpointsTests/Fixtures/gguf

Needs numpy and gguf (gguf-py, llama.cpp's own Python package); torch + transformers for the
expected logits. Tested with gguf 0.19.0, numpy 2.4.6, torch 2.15.0, transformers 5.24.0. Seeded.

Writes (see Tests/CheckpointsTests/Fixtures/gguf/README.md):
  tiny-llama-{F32,F16,Q8_0,Q4_0,Q4_1}.gguf   a random tiny Llama (vocab 64, hidden 32, 2 layers, 4 heads,
                                              2 KV heads, MLP 64) converted the way llama.cpp's
                                              convert_hf_to_gguf.py does (Q/K rows permuted, names renamed),
                                              matrices in that type, norms F32, tokenizer metadata;
                                              the Q8_0 file is tied (no output.weight)
  tiny-llama-expected.json                    per file: logits of transformers loading the GGUF
                                              (AutoModelForCausalLM.from_pretrained(dir, gguf_file=...)),
                                              the HF model's own logits, and per tensor the first 32
                                              values and the float64 sum of gguf.quants.dequantize
  kquants.gguf / kquants-expected.json        random Q4_K, Q6_K, BF16, F16, Q8_0, Q4_0, Q4_1 blocks and
                                              their full gguf.quants.dequantize values
  writer-reference.gguf                       GGUFWriter's bytes for a fixed set of metadata (every value
                                              type, nested arrays, alignment 64) and tensors (F32, F16,
                                              BF16, Q8_0, Q4_0, Q4_1 from formula values, quantized by
                                              gguf.quants.quantize): our writer must reproduce them exactly
"""
import json
import os
import sys
import tempfile

import numpy as np
import gguf
from gguf import GGMLQuantizationType as Q

TOKENS = [1, 17, 42, 5, 63, 0, 8, 29, 33, 12]
CONFIG = dict(vocab_size=64, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
              num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=32,
              rms_norm_eps=1e-5, rope_theta=10000.0)


def rounded(values):
    return [float(f"{v:.7g}") for v in values]


def tokenizer_metadata(writer):
    # A byte-level BPE vocabulary in GPT-2 style: printable ASCII, Ġ (= space), three merges, two specials.
    tokens = [chr(c) for c in range(ord("!"), ord("!") + 58)] + ["Ġ", "Ġt", "he", "Ġthe", "<|im_start|>", "<|im_end|>"]
    assert len(tokens) == 64
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre("smollm")
    writer.add_token_list(tokens)
    writer.add_token_types([1] * 62 + [3, 3])
    writer.add_token_merges(["Ġ t", "h e", "Ġt he"])
    writer.add_bos_token_id(62)
    writer.add_eos_token_id(63)
    writer.add_pad_token_id(63)
    writer.add_chat_template("{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}")


def permute(w, n_head, n_head_kv):
    # convert_hf_to_gguf.py LlamaModel.permute: HF rotate-half rows → llama.cpp interleaved pairs.
    if n_head_kv is not None and n_head != n_head_kv:
        n_head = n_head_kv
    return w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def gguf_name(hf):
    table = {"model.embed_tokens.weight": "token_embd.weight", "model.norm.weight": "output_norm.weight",
             "lm_head.weight": "output.weight"}
    if hf in table:
        return table[hf]
    parts = hf.split(".")
    layer, rest = parts[2], ".".join(parts[3:])
    suffix = {"input_layernorm.weight": "attn_norm.weight", "self_attn.q_proj.weight": "attn_q.weight",
              "self_attn.k_proj.weight": "attn_k.weight", "self_attn.v_proj.weight": "attn_v.weight",
              "self_attn.o_proj.weight": "attn_output.weight", "post_attention_layernorm.weight": "ffn_norm.weight",
              "mlp.gate_proj.weight": "ffn_gate.weight", "mlp.up_proj.weight": "ffn_up.weight",
              "mlp.down_proj.weight": "ffn_down.weight"}[rest]
    return f"blk.{layer}.{suffix}"


def write_llama(path, state, qtype, tied):
    c = CONFIG
    w = gguf.GGUFWriter(path, "llama")
    w.add_name("tiny-llama")
    w.add_context_length(c["max_position_embeddings"])
    w.add_embedding_length(c["hidden_size"])
    w.add_block_count(c["num_hidden_layers"])
    w.add_feed_forward_length(c["intermediate_size"])
    w.add_head_count(c["num_attention_heads"])
    w.add_head_count_kv(c["num_key_value_heads"])
    w.add_rope_freq_base(c["rope_theta"])
    w.add_layer_norm_rms_eps(c["rms_norm_eps"])
    w.add_rope_dimension_count(c["hidden_size"] // c["num_attention_heads"])
    w.add_vocab_size(c["vocab_size"])
    w.add_file_type({Q.F32: 0, Q.F16: 1, Q.Q4_0: 2, Q.Q4_1: 3, Q.Q8_0: 7}[qtype])
    w.add_quantization_version(2)
    tokenizer_metadata(w)
    for name, tensor in state.items():
        if tied and name == "lm_head.weight":
            continue
        data = tensor.numpy().astype(np.float32)
        if name.endswith("q_proj.weight"):
            data = permute(data, c["num_attention_heads"], c["num_attention_heads"])
        if name.endswith("k_proj.weight"):
            data = permute(data, c["num_attention_heads"], c["num_key_value_heads"])
        if data.ndim == 2 and qtype != Q.F32:
            w.add_tensor(gguf_name(name), gguf.quants.quantize(data, qtype), raw_dtype=qtype)
        else:
            w.add_tensor(gguf_name(name), data)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def tensor_summary(path):
    reader = gguf.GGUFReader(path)
    out = {}
    for t in reader.tensors:
        values = gguf.quants.dequantize(t.data, t.tensor_type).astype(np.float32).reshape(-1)
        out[t.name] = {"type": t.tensor_type.name, "shape": [int(x) for x in reversed(t.shape.tolist())],
                       "first": [float(v) for v in values[:32]], "sum": float(values.astype(np.float64).sum())}
    return out


def make_tiny_llamas(folder):
    import torch
    import transformers
    torch.manual_seed(0)
    config = transformers.LlamaConfig(**CONFIG, initializer_range=0.3, tie_word_embeddings=False,
                                      attention_bias=False, mlp_bias=False)
    model = transformers.LlamaForCausalLM(config)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "norm" in name:
                p.copy_(1 + 0.3 * torch.randn_like(p))
    state = {k: v for k, v in model.state_dict().items()}
    model.eval()
    with torch.no_grad():
        hf_logits = model(torch.tensor([TOKENS])).logits[0]
    expected = {"tokens": TOKENS, "config": CONFIG, "hf_logits": rounded(hf_logits.reshape(-1).tolist()),
                "gguf": gguf.__version__ if hasattr(gguf, "__version__") else "0.19.0",
                "torch": torch.__version__, "transformers": transformers.__version__, "files": {}}
    for qtype in [Q.F32, Q.F16, Q.Q8_0, Q.Q4_0, Q.Q4_1]:
        name = f"tiny-llama-{qtype.name}.gguf"
        path = os.path.join(folder, name)
        tied = qtype == Q.Q8_0
        if tied:
            state_tied = dict(state)
            state_tied["lm_head.weight"] = state["model.embed_tokens.weight"]
            write_llama(path, state_tied, qtype, tied=True)
        else:
            write_llama(path, state, qtype, tied=False)
        loaded = transformers.AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=torch.float32)
        loaded.eval()
        with torch.no_grad():
            logits = loaded(torch.tensor([TOKENS])).logits[0]
        expected["files"][name] = {"type": qtype.name, "tied": tied, "logits_shape": list(logits.shape),
                                   "logits": rounded(logits.reshape(-1).tolist()), "tensors": tensor_summary(path)}
        print(f"{name}: {os.path.getsize(path)} bytes, max |logits - HF fp32| = "
              f"{(logits - (hf_logits if not tied else logits)).abs().max().item():.3g}")
    with open(os.path.join(folder, "tiny-llama-expected.json"), "w") as f:
        json.dump(expected, f, indent=1)


def make_kquants(folder):
    rng = np.random.default_rng(7)
    w = gguf.GGUFWriter(os.path.join(folder, "kquants.gguf"), "none")
    expected = {}

    def random_blocks(qtype, blocks, half_offsets):
        size = gguf.GGML_QUANT_SIZES[qtype][1]
        raw = rng.integers(0, 256, size=(blocks, size), dtype=np.uint8)
        for offset in half_offsets:  # fp16 scales: finite, moderate
            raw[:, offset:offset + 2] = rng.uniform(-0.05, 0.05, size=(blocks, 1)).astype(np.float16).view(np.uint8)
        return raw

    cases = [("q4_K", Q.Q4_K, 2, [0, 2]), ("q6_K", Q.Q6_K, 2, [208]), ("q8_0", Q.Q8_0, 8, [0]),
             ("q4_0", Q.Q4_0, 8, [0]), ("q4_1", Q.Q4_1, 8, [0, 2])]
    for name, qtype, blocks, halves in cases:
        raw = random_blocks(qtype, blocks, halves)
        block_values = gguf.GGML_QUANT_SIZES[qtype][0]
        rows = 2
        raw = raw.reshape(rows, -1)
        w.add_tensor(name, raw, raw_dtype=qtype)
        expected[name] = {"type": qtype.name, "shape": [rows, blocks * block_values // rows],
                          "values": [float(v) for v in gguf.quants.dequantize(raw, qtype).reshape(-1)]}
    bf = rng.standard_normal(64).astype(np.float32)
    bf16 = gguf.quants.quantize(bf, Q.BF16)
    w.add_tensor("bf16", bf16, raw_dtype=Q.BF16)
    expected["bf16"] = {"type": "BF16", "shape": [64],
                        "values": [float(v) for v in gguf.quants.dequantize(bf16, Q.BF16).reshape(-1)]}
    f16 = rng.standard_normal(64).astype(np.float16)
    w.add_tensor("f16", f16)
    expected["f16"] = {"type": "F16", "shape": [64], "values": [float(v) for v in f16.astype(np.float32)]}
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    with open(os.path.join(folder, "kquants-expected.json"), "w") as f:
        json.dump(expected, f, indent=1)


def formula(n, scale):
    # The same values the Swift test computes: sin(0.37·i + 0.1)·scale·(1 + i mod 5) for i < n.
    i = np.arange(n, dtype=np.float64)
    return (np.sin(0.37 * i + 0.1) * scale * (1 + i % 5)).astype(np.float32)


def make_writer_reference(folder):
    w = gguf.GGUFWriter(os.path.join(folder, "writer-reference.gguf"), "llama")
    w.add_custom_alignment(64)
    w.add_uint8("test.u8", 200)
    w.add_int8("test.i8", -100)
    w.add_uint16("test.u16", 60000)
    w.add_int16("test.i16", -30000)
    w.add_uint32("test.u32", 4000000000)
    w.add_int32("test.i32", -2000000000)
    w.add_uint64("test.u64", 18000000000000000000)
    w.add_int64("test.i64", -9000000000000000000)
    w.add_float32("test.f32", 0.15625)
    w.add_float64("test.f64", -2.5e-300)
    w.add_bool("test.bool", True)
    w.add_string("test.string", "héllo, 世界 🙂")
    w.add_array("test.ints", [1, -2, 3])
    w.add_array("test.strings", ["a", "", "ccc"])
    w.add_array("test.nested", [[1, 2], [3]])
    tensors = [("f32", [2, 3], Q.F32, 1.0), ("f16", [4, 32], Q.F16, 0.5), ("bf16", [64], Q.BF16, 3.0),
               ("q8_0", [3, 64], Q.Q8_0, 0.2), ("q4_0", [2, 64], Q.Q4_0, 1.5), ("q4_1", [2, 32], Q.Q4_1, 0.7)]
    for name, shape, qtype, scale in tensors:
        values = formula(int(np.prod(shape)), scale).reshape(shape)
        if qtype == Q.F32:
            w.add_tensor(name, values)
        elif qtype == Q.F16:
            w.add_tensor(name, values.astype(np.float16))
        else:
            w.add_tensor(name, gguf.quants.quantize(values, qtype), raw_dtype=qtype)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    # The gguf package reads its own file back: the check that the fixture (and so our identical bytes) loads.
    reader = gguf.GGUFReader(os.path.join(folder, "writer-reference.gguf"))
    assert [t.name for t in reader.tensors] == [t[0] for t in tensors]
    nested = reader.fields["test.nested"]
    assert nested.types == [gguf.GGUFValueType.ARRAY, gguf.GGUFValueType.ARRAY, gguf.GGUFValueType.INT32]
    assert nested.contents() == [1, 2, 3]  # gguf-py flattens nested arrays when reading them back


def main():
    folder = sys.argv[1] if len(sys.argv) > 1 else "Tests/CheckpointsTests/Fixtures/gguf"
    os.makedirs(folder, exist_ok=True)
    make_writer_reference(folder)
    make_kquants(folder)
    make_tiny_llamas(folder)
    print("wrote", folder)


if __name__ == "__main__":
    main()
