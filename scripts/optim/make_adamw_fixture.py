#!/usr/bin/env python3
"""AdamW fixture where ε, β₁, β₂, weight decay and bias correction all visibly matter.

Command (from the repository root):

    /work/py/venv/bin/python scripts/optim/make_adamw_fixture.py Tests/OptimTests/Fixtures/adamw.json

Needs torch. float32, CPU, torch.manual_seed(0). JSON (not safetensors: OptimTests reads no checkpoint
formats): each float32 is written as the shortest decimal of its exact double value, so it parses back to
the same float32 bits.

torch.optim.AdamW(lr=1e-2, betas=(0.9, 0.999), eps=1e-8) on two parameters — a [6, 7] matrix with
weight_decay 0.1 and a [7] bias with weight_decay 0 (our AdamW decays rank >= 2 only) — for STEPS steps.
The gradients are tiny (each step's drawn at a scale between 1e-9 and 1e-7), so sqrt(v_hat) is of the
order of eps: eps = 1e-7 instead of 1e-8 changes every update by tens of percent, not 5e-6 as in the
trajectory test. The signs and sizes vary from step to step so beta1 and beta2 shape m and v.

Arrays (flat, row-major): weight.initial, bias.initial; step<k>.weight.grad / .bias.grad (the gradient given at step k,
1-based); step<k>.weight / .bias (the parameters after step k); final exp_avg / exp_avg_sq of both.
"""
import os
import sys

import json
import torch

STEPS = 12
SCALES = [1e-8, 3e-9, 1e-7, 2e-8, 1e-9, 5e-8, 1e-8, 7e-9, 3e-8, 1e-8, 2e-9, 6e-8]


def main(out):
    torch.manual_seed(0)
    weight = torch.nn.Parameter(torch.randn(6, 7))
    bias = torch.nn.Parameter(torch.randn(7) * 0.5)
    tensors = {"weight.initial": weight.detach().clone(), "bias.initial": bias.detach().clone()}
    optimizer = torch.optim.AdamW([{"params": [weight], "weight_decay": 0.1}, {"params": [bias], "weight_decay": 0.0}],
                                  lr=1e-2, betas=(0.9, 0.999), eps=1e-8)
    for k in range(1, STEPS + 1):
        scale = SCALES[k - 1]
        weight.grad = torch.randn(6, 7) * scale
        bias.grad = torch.randn(7) * scale
        tensors[f"step{k}.weight.grad"] = weight.grad.clone()
        tensors[f"step{k}.bias.grad"] = bias.grad.clone()
        optimizer.step()
        tensors[f"step{k}.weight"] = weight.detach().clone()
        tensors[f"step{k}.bias"] = bias.detach().clone()
    for name, p in [("weight", weight), ("bias", bias)]:
        state = optimizer.state[p]
        tensors[f"{name}.exp_avg"] = state["exp_avg"].clone()
        tensors[f"{name}.exp_avg_sq"] = state["exp_avg_sq"].clone()
    os.makedirs(os.path.dirname(out), exist_ok=True)
    document = {"torch": torch.__version__, "lr": 1e-2, "betas": [0.9, 0.999], "eps": 1e-8, "weight_decay": 0.1,
                "steps": STEPS, "tensors": {k: [float(x) for x in v.reshape(-1).tolist()] for k, v in tensors.items()}}
    with open(out + ".tmp", "w") as f:
        json.dump(document, f)
        f.write("\n")
    os.replace(out + ".tmp", out)
    print("wrote", out, len(tensors), "tensors")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "Tests/OptimTests/Fixtures/adamw.json")
