#!/usr/bin/env python3
"""Regenerate the Checkpoints test fixtures (CI never runs this; the outputs are committed).

Command (from the repository root):

    python3 scripts/checkpoints/make_fixtures.py Tests/CheckpointsTests/Fixtures

See Tests/CheckpointsTests/Fixtures/README.md for what each file holds.

Needs: torch, transformers, safetensors (pip). Tested with torch 2.15.0, transformers 5.24.0,
safetensors 0.8.0. Everything is seeded and computed in float32 on the CPU, so a rerun with the
same library versions reproduces the files.

Writes:
  tiny-gpt2/config.json, tiny-gpt2/model.safetensors, tiny-gpt2/expected.json
  tiny-llama/config.json, tiny-llama/model.safetensors, tiny-llama/expected.json
  mixed-dtypes.safetensors   (one small tensor per dtype, F8 included, written by safetensors.torch.save_file;
                              the Swift writer must reproduce it byte for byte)

expected.json keys:
  model_type        "gpt2" or "llama"
  tokens            the input token ids (one sequence, batch 1)
  logits_shape      [T, V]
  logits            row-major float32 logits of the HF model in eval mode, 7 significant digits
  activation        the MLP activation HF used ("gelu_new" for GPT-2, "silu" for Llama)
  torch, transformers, safetensors   library versions that produced the file
"""
import json
import os
import sys

import safetensors
import safetensors.torch
import torch
import transformers

TOKENS = [1, 17, 42, 5, 63, 0, 8, 29, 33, 12]


def rounded(values):
    # 7 significant digits: float32 carries ~7.2, so this loses at most ~1 ulp-ish.
    return [float(f"{v:.7g}") for v in values]


def write_expected(model, folder, model_type, activation):
    model.eval()
    with torch.no_grad():
        logits = model(torch.tensor([TOKENS])).logits[0]  # [T, V]
    expected = {
        "model_type": model_type,
        "tokens": TOKENS,
        "logits_shape": list(logits.shape),
        "logits": rounded(logits.reshape(-1).tolist()),
        "activation": activation,
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "safetensors": safetensors.__version__,
    }
    with open(os.path.join(folder, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1)
        f.write("\n")


def drop_generation_config(folder):
    # save_pretrained also writes generation_config.json; the Swift side does not read it.
    path = os.path.join(folder, "generation_config.json")
    if os.path.exists(path):
        os.remove(path)


def make_gpt2(root):
    torch.manual_seed(0)
    config = transformers.GPT2Config(
        vocab_size=64, n_embd=32, n_layer=2, n_head=2, n_positions=32,
        activation_function="gelu_new", tie_word_embeddings=True,
        bos_token_id=0, eos_token_id=0, initializer_range=0.3,
    )
    model = transformers.GPT2LMHeadModel(config).float()
    # HF initialises biases and LayerNorm to 0 / 1; randomise them so the tests see every tensor.
    # initializer_range 0.3 (HF default 0.02) makes the model nonlinear enough that a wrong
    # convention in a Swift port moves the logits by whole units.
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("bias") or "ln_" in name:
                p.copy_(torch.randn_like(p) * 0.1 + (1.0 if name.endswith("weight") else 0.0))
    folder = os.path.join(root, "tiny-gpt2")
    model.save_pretrained(folder, safe_serialization=True)
    drop_generation_config(folder)
    assert model.config.activation_function == "gelu_new"
    write_expected(model, folder, "gpt2", model.config.activation_function)


def make_llama(root):
    torch.manual_seed(0)
    config = transformers.LlamaConfig(
        vocab_size=64, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=32,
        rope_theta=10000.0, rms_norm_eps=1e-5, tie_word_embeddings=False,
        hidden_act="silu", attention_bias=False, mlp_bias=False, initializer_range=0.3,
    )
    model = transformers.LlamaForCausalLM(config).float()
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "norm" in name:
                p.copy_(1.0 + 0.1 * torch.randn_like(p))
    folder = os.path.join(root, "tiny-llama")
    model.save_pretrained(folder, safe_serialization=True)
    drop_generation_config(folder)
    write_expected(model, folder, "llama", config.hidden_act)


def make_mixed_dtypes(root):
    # Values follow simple formulas so the Swift test can rebuild them independently.
    n = torch.arange(6)
    tensors = {
        "f64": (n.double() * 0.5 - 1.0).reshape(2, 3),
        "f32": (n.float() * 0.25 - 0.5).reshape(3, 2),
        "f16": (n.half() * 0.5 - 1.0).reshape(6),
        "bf16": (n.bfloat16() * 2.0 - 3.0).reshape(2, 3),
        "i64": (n.long() * 1000000007 - 3).reshape(6),
        "i32": (n.int() * -70000).reshape(2, 3),
        "i16": (n.short() * -300).reshape(3, 2),
        "i8": (n.to(torch.int8) * -20).reshape(6),
        "u8": (n.to(torch.uint8) * 40).reshape(2, 3),
        "bool": (n % 2 == 0).reshape(6),
        "scalar": torch.tensor(7.0, dtype=torch.float32),
        "empty": torch.zeros(0, 4, dtype=torch.float32),
        "f8e4m3": (n.float() * 0.5).to(torch.float8_e4m3fn),
        "f8e5m2": (n.float() * 0.5).to(torch.float8_e5m2),
    }
    safetensors.torch.save_file(tensors, os.path.join(root, "mixed-dtypes.safetensors"),
                                metadata={"format": "pt"})


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else "Tests/CheckpointsTests/Fixtures"
    os.makedirs(root, exist_ok=True)
    torch.set_num_threads(1)
    make_gpt2(root)
    make_llama(root)
    make_mixed_dtypes(root)


if __name__ == "__main__":
    main()
