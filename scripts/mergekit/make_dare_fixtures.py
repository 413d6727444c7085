#!/usr/bin/env python3
"""DARE fixtures with density < 1: mergekit's own dare_linear / dare_ties, its random masks recorded.

Command (from the repository root; run make_fixtures.py first, this reuses its tiny models):

    /work/py/venv/bin/python scripts/mergekit/make_dare_fixtures.py Tests/MergingTests/Fixtures

Needs torch, safetensors, mergekit 0.1.5. float32, CPU, torch.manual_seed(0).

DARE keeps each task-vector entry with probability `density`, drawing the mask with torch.bernoulli,
whose stream we do not reproduce. So this script runs mergekit's run_merge unchanged except that
torch.bernoulli is wrapped to record every mask it returns, keyed by the tensor being merged and the
model whose task vector it masks (mergekit's GeneralizedTaskArithmeticMerge.merge_group and its
`sparsify` call are wrapped only to know that tensor and model). The Swift test feeds these masks to
ModelMerge (its `dareMasks` provider) and compares every tensor with mergekit's output.

Writes, per merge in MERGES:
  dare/<name>/config.json          the config in the JSON form `tinytune merge` reads
  dare/<name>/model.safetensors    mergekit's merged tensors (float32)
  dare/<name>/masks.safetensors    U8 masks (1 = kept), named "<tensor>|<model>", in the tensor's
                                   transformers layout (GPT-2 Conv1D weights [in, out])
  dare/index.json                  the merge names
"""
import json
import os
import sys
import threading

import mergekit.merge_methods.generalized_task_arithmetic as gta
import safetensors.torch
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_fixtures import write_merge  # noqa: E402  (the same config.json / model.safetensors writer)


def m(model, weight, density):
    return {"model": model, "parameters": {"weight": weight, "density": density}}


MERGES = {
    # dare_linear: rescale defaults to true, normalize to false.
    "dare-linear-rescale": {"merge_method": "dare_linear", "base_model": "gpt2-base",
                            "models": [m("gpt2-A", 0.6, 0.3), m("gpt2-B", 0.9, 0.7)]},
    "dare-linear-no-rescale": {"merge_method": "dare_linear", "base_model": "llama-base",
                               "models": [m("llama-A", 0.5, 0.7), m("llama-B", 0.8, 0.3)],
                               "parameters": {"rescale": False, "normalize": True, "lambda": 1.1, "int8_mask": True}},
    "dare-ties-rescale": {"merge_method": "dare_ties", "base_model": "gpt2-base",
                          "models": [m("gpt2-A", 1.0, 0.3), m("gpt2-B", 0.5, 0.7), m("gpt2-C", 0.8, 0.5)],
                          "parameters": {"int8_mask": True}},
    "dare-ties-no-rescale": {"merge_method": "dare_ties", "base_model": "llama-base",
                             "models": [m("llama-A", 0.7, 0.7), m("llama-B", 0.4, 0.3)],
                             "parameters": {"rescale": False, "normalize": True, "lambda": 0.9}},
}

state = threading.local()
recorded = {}


def install_recorders():
    merge_group, sparsify, bernoulli = gta.GeneralizedTaskArithmeticMerge.merge_group, gta.sparsify, torch.bernoulli

    def recording_merge_group(self, group, /, **parameters):
        state.tensor, state.models, state.next = group.metadata.name, [e.id for e in group.non_base], 0
        return merge_group(self, group, **parameters)

    def recording_sparsify(tensor, **kwargs):
        state.model = state.models[state.next]     # merge_group sparsifies the non-base entries in order
        state.next += 1
        return sparsify(tensor, **kwargs)

    def recording_bernoulli(*args, **kwargs):
        mask = bernoulli(*args, **kwargs)
        key = f"{state.tensor}|{os.path.basename(str(state.model.model.path) if hasattr(state.model, 'model') else str(state.model))}"
        if key in recorded:
            raise RuntimeError(f"two masks for {key}")
        recorded[key] = mask.to(torch.uint8).contiguous()
        return mask

    gta.GeneralizedTaskArithmeticMerge.merge_group = recording_merge_group
    gta.sparsify = recording_sparsify
    torch.bernoulli = recording_bernoulli


def main(root):
    models = os.path.join(root, "models")
    install_recorders()
    torch.manual_seed(0)
    names = []
    for name, config in MERGES.items():
        folder = os.path.join(root, "dare", name)
        recorded.clear()
        tensors = write_merge(folder, config, models)
        safetensors.torch.save_file(dict(recorded), os.path.join(folder, "masks.safetensors"),
                                    metadata={"format": "pt", "torch": torch.__version__})
        names.append(name)
        kept = sum(int(v.sum()) for v in recorded.values()) / max(1, sum(v.numel() for v in recorded.values()))
        print(name, len(tensors), "tensors,", len(recorded), "masks, kept fraction", round(kept, 3))
    with open(os.path.join(root, "dare", "index.json"), "w") as f:
        json.dump(names, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "Tests/MergingTests/Fixtures")
