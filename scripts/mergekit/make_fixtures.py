#!/usr/bin/env python3
"""Regenerate the mergekit fixtures (CI never runs this; the outputs are committed).

Command (from the repository root):

    /work/py/venv/bin/python scripts/mergekit/make_fixtures.py Tests/MergingTests/Fixtures

Needs torch, transformers, safetensors, mergekit (pip install mergekit==0.1.5). Tested with
mergekit 0.1.5, torch 2.15.0, transformers 5.24.0. Seeded, float32, CPU.

Writes:
  models/{gpt2,llama}-{base,A,B,C}/   tiny random checkpoints (config.json + model.safetensors): a base and
                                      three "fine-tunes" = base + seeded noise of different sizes and sparsity
  merges/<name>/config.json           the merge config, in the JSON form `tinytune merge` reads (mergekit's
                                      YAML fields as JSON), with model paths "gpt2-base", "gpt2-A", …
  merges/<name>/model.safetensors     mergekit's output (run_merge, float32, no tokenizer)
  merges/index.json                   the list of merge names
DARE's random drops use torch's RNG, which we do not reproduce: these DARE fixtures use density 1
(they still test DARE's consensus, normalize and weight semantics); make_dare_fixtures.py records
mergekit's masks for density < 1.
"""
import json
import os
import shutil
import sys

import mergekit
import safetensors.torch
import torch
import transformers
from mergekit.config import MergeConfiguration
from mergekit.merge import MergeOptions, run_merge


def tiny(kind):
    if kind == "gpt2":
        config = transformers.GPT2Config(vocab_size=16, n_embd=8, n_layer=3, n_head=2, n_positions=8,
                                         activation_function="gelu_new", tie_word_embeddings=True,
                                         bos_token_id=0, eos_token_id=0, initializer_range=0.3)
        return transformers.GPT2LMHeadModel(config).float()
    config = transformers.LlamaConfig(vocab_size=16, hidden_size=8, intermediate_size=16, num_hidden_layers=3,
                                      num_attention_heads=2, num_key_value_heads=1, max_position_embeddings=8,
                                      rms_norm_eps=1e-5, tie_word_embeddings=False, initializer_range=0.3,
                                      bos_token_id=1, eos_token_id=2)
    return transformers.LlamaForCausalLM(config).float()


def save(model, folder):
    if os.path.exists(folder):
        shutil.rmtree(folder)
    model.save_pretrained(folder, safe_serialization=True)
    path = os.path.join(folder, "generation_config.json")
    if os.path.exists(path):
        os.remove(path)


def make_models(root, kind, seed):
    torch.manual_seed(seed)
    base = tiny(kind)
    with torch.no_grad():
        for p in base.parameters():
            p.add_(torch.randn_like(p) * 0.1)   # biases and norms are not left at 0 / 1
    save(base, os.path.join(root, f"{kind}-base"))
    # Fine-tunes: dense noise of different scales, plus a sparse large component so that the
    # magnitude-based methods (TIES, breadcrumbs) have outliers to find and signs to disagree on.
    for index, (name, scale) in enumerate([("A", 0.05), ("B", 0.08), ("C", 0.03)]):
        tuned = tiny(kind)
        tuned.load_state_dict(base.state_dict())
        with torch.no_grad():
            for p in tuned.parameters():
                sparse = (torch.rand_like(p) < 0.1).float() * torch.randn_like(p) * 0.5
                p.add_(torch.randn_like(p) * scale + sparse)
        save(tuned, os.path.join(root, f"{kind}-{name}"))


def merges():
    g, l = "gpt2", "llama"
    def m(kind, name, weight=None, **params):
        p = dict(params)
        if weight is not None:
            p["weight"] = weight
        entry = {"model": f"{kind}-{name}"}
        if p:
            entry["parameters"] = p
        return entry
    return {
        "linear": {"merge_method": "linear", "models": [m(g, "A", 0.3), m(g, "B", 0.7), m(g, "C", 0.5)]},
        "linear-filters": {"merge_method": "linear", "models": [
            m(g, "A", [{"filter": "attn", "value": 0.5}, {"value": [0.2, 1.0]}]), m(g, "B", 1.0)],
            "parameters": {"normalize": False}},
        "task-arithmetic": {"merge_method": "task_arithmetic", "base_model": "gpt2-base",
                            "models": [m(g, "A", 0.5), m(g, "B", -0.3)], "parameters": {"lambda": 0.8}},
        "ties": {"merge_method": "ties", "base_model": "gpt2-base",
                 "models": [m(g, "A", 1.0, density=0.3), m(g, "B", 0.5, density=0.6), m(g, "C", 0.8, density=0.45)]},
        "ties-flags": {"merge_method": "ties", "base_model": "gpt2-base",
                       "models": [m(g, "base"), m(g, "A", 0.7), m(g, "B", 0.4)],
                       "parameters": {"density": 0.5, "normalize": False, "rescale": True, "int8_mask": True, "lambda": 0.9}},
        "ties-gradient": {"merge_method": "ties", "base_model": "llama-base",
                          "models": [m(l, "A", 1.0, density=[0.2, 0.9]), m(l, "B", [0.3, 1.0], density=0.5)]},
        "breadcrumbs": {"merge_method": "breadcrumbs", "base_model": "gpt2-base",
                        "models": [m(g, "A", 1.0, density=0.5, gamma=0.1), m(g, "B", 0.6, density=0.7, gamma=0.02)]},
        "breadcrumbs-ties": {"merge_method": "breadcrumbs_ties", "base_model": "llama-base",
                             "models": [m(l, "A", 1.0, density=0.4, gamma=0.05), m(l, "B", 0.5, density=0.6, gamma=0.1)]},
        "dare-ties": {"merge_method": "dare_ties", "base_model": "gpt2-base",
                      "models": [m(g, "A", 0.6, density=1.0), m(g, "B", 0.4, density=1.0)]},
        "dare-linear": {"merge_method": "dare_linear", "base_model": "llama-base",
                        "models": [m(l, "A", 0.6, density=1.0), m(l, "B", 0.9, density=1.0)],
                        "parameters": {"normalize": True}},
        "slerp": {"merge_method": "slerp", "base_model": "gpt2-A", "models": [m(g, "A"), m(g, "B")],
                  "parameters": {"t": 0.3}},
        "slerp-gradient": {"merge_method": "slerp", "base_model": "llama-A", "models": [m(l, "A"), m(l, "B")],
                           "parameters": {"t": [{"filter": "self_attn", "value": [0, 0.5, 0.3, 0.7, 1]},
                                                {"filter": "mlp", "value": [1, 0.5, 0.7, 0.3, 0]},
                                                {"value": 0.5}]}},
        "slerp-gpt2-gradient": {"merge_method": "slerp", "base_model": "gpt2-base", "models": [m(g, "C")],
                                "parameters": {"t": [0, 0.5, 1]}},
        "model-stock": {"merge_method": "model_stock", "base_model": "llama-base",
                        "models": [m(l, "A"), m(l, "B"), m(l, "C")]},
        # Field coverage: every parameter and top-level field `tinytune merge` accepts appears in some
        # fixture (MergekitParityTests checks this), including the ones mergekit accepts and ignores.
        "model-stock-fields": {"merge_method": "model_stock", "base_model": "gpt2-base",
                               "models": [m(g, "A"), m(g, "B")], "parameters": {"filter_wise": False},
                               "dtype": "float32", "out_dtype": "float32", "tokenizer_source": None,
                               "tokenizer": None, "chat_template": None, "modules": None},
        "task-arithmetic-flags": {"merge_method": "task_arithmetic", "base_model": "llama-base",
                                  "models": [m(l, "A", 0.5, density=0.5), m(l, "B", [0.2, 0.9])],
                                  "parameters": {"normalize": True, "rescale": True, "int8_mask": True, "lambda": 0.6}},
        "breadcrumbs-flags": {"merge_method": "breadcrumbs", "base_model": "gpt2-base",
                              "models": [m(g, "A", 0.8, density=0.6, gamma=0.05), m(g, "C", 0.5, density=0.8, gamma=0.1)],
                              "parameters": {"normalize": True, "rescale": True, "int8_mask": True, "lambda": 1.2}},
        "breadcrumbs-ties-flags": {"merge_method": "breadcrumbs_ties", "base_model": "gpt2-base",
                                   "models": [m(g, "B", 0.7, density=0.5, gamma=0.02), m(g, "C", 0.9, density=0.7)],
                                   "parameters": {"normalize": True, "rescale": True, "int8_mask": True, "lambda": 0.8}},
        "dare-flags": {"merge_method": "dare_ties", "base_model": "llama-base",
                       "models": [m(l, "A", 0.5), m(l, "C", 0.9, density=1.0)],
                       "parameters": {"normalize": True, "rescale": False, "int8_mask": True, "lambda": 1.3}},
        "linear-with-base": {"merge_method": "linear", "base_model": "gpt2-A", "models": [m(g, "A", 0.3), m(g, "B", 0.7)]},
        "passthrough": {"merge_method": "passthrough", "slices": [
            {"sources": [{"model": "gpt2-A", "layer_range": [0, 1]}]},
            {"sources": [{"model": "gpt2-B", "layer_range": [0, 2]}]},
            {"sources": [{"model": "gpt2-C", "layer_range": [1, 3]}]}]},
        "passthrough-llama": {"merge_method": "passthrough", "slices": [
            {"sources": [{"model": "llama-B", "layer_range": [1, 3]}]},
            {"sources": [{"model": "llama-A", "layer_range": [0, 2]}]}]},
    }


def write_merge(folder, config, models):
    """Writes config.json and mergekit's output (float32) for `config` into `folder`; returns the tensors."""
    if os.path.exists(folder):
        shutil.rmtree(folder)
    os.makedirs(folder)
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(config, f, indent=1)
        f.write("\n")
    # mergekit reads the same fields; paths are resolved against the models folder.
    absolute = json.loads(json.dumps(config).replace('"gpt2-', f'"{models}/gpt2-').replace('"llama-', f'"{models}/llama-'))
    absolute["dtype"] = "float32"
    out = os.path.join(folder, "mergekit-out")
    run_merge(MergeConfiguration.model_validate(absolute), out,
              options=MergeOptions(copy_tokenizer=False, write_model_card=False, quiet=True, random_seed=0))
    tensors = safetensors.torch.load_file(os.path.join(out, "model.safetensors"))
    safetensors.torch.save_file({k: v.float().contiguous() for k, v in tensors.items()},
                                os.path.join(folder, "model.safetensors"), metadata={"format": "pt", "mergekit": mergekit.__version__ if hasattr(mergekit, "__version__") else "0.1.5"})
    shutil.rmtree(out)
    return tensors


def main(root):
    models = os.path.join(root, "models")
    os.makedirs(models, exist_ok=True)
    make_models(models, "gpt2", 1)
    make_models(models, "llama", 2)
    names = []
    for name, config in merges().items():
        tensors = write_merge(os.path.join(root, "merges", name), config, models)
        names.append(name)
        print(name, len(tensors), "tensors")
    with open(os.path.join(root, "merges", "index.json"), "w") as f:
        json.dump(names, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "Tests/MergingTests/Fixtures")
