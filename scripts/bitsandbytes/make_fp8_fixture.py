#!/usr/bin/env python3
"""PyTorch's fp8 conversions (float8_e4m3fn, float8_e5m2), the reference for FloatFormat.e4m3 / .e5m2.

Command (from the repository root):

    /work/py/venv/bin/python scripts/bitsandbytes/make_fp8_fixture.py Tests/QuantizationTests/Fixtures/fp8.safetensors

Needs torch, numpy, safetensors. CPU. (Kept beside the bitsandbytes fixtures: both are the references of
the Quantization module's number formats.)

Tensors:
  <format>.decoded   F32 [256]  torch.arange(256, dtype=uint8).view(<format>).float(): every bit pattern
  inputs             F32 [N]    every fp8 value of both formats, the midpoints between neighbours and
                                the float32 just below/above each, values beyond the largest finite
                                (448, 57344) up to 3e38, ±0, ±inf, the float32 subnormals' edge, and
                                20 000 log-uniform values of both signs from 1e-9 to 1e6 (seed 0)
  <format>.codes     U8 [N]     inputs.to(<format>).view(uint8): torch's rounding (ties to even; e4m3fn
                                saturates to ±448 and has no inf, e5m2 overflows to ±inf)
NaN inputs are left out (torch's NaN payload is not part of the format's contract); the Swift test checks
NaN separately.
"""
import os
import sys

import numpy as np
import safetensors.torch
import torch

FORMATS = {"e4m3fn": torch.float8_e4m3fn, "e5m2": torch.float8_e5m2}


def main(out):
    tensors = {}
    pieces = []
    for name, dtype in FORMATS.items():
        decoded = torch.arange(256, dtype=torch.uint8).view(dtype).float()
        tensors[f"{name}.decoded"] = decoded
        finite = np.unique(decoded[torch.isfinite(decoded)].numpy())
        middle = ((finite[:-1].astype(np.float64) + finite[1:]) / 2).astype(np.float32)
        for v in [finite, middle]:
            pieces += [v, np.nextafter(v, np.float32(np.inf)), np.nextafter(v, np.float32(-np.inf))]
    rng = np.random.default_rng(0)
    magnitudes = np.exp(rng.uniform(np.log(1e-9), np.log(1e6), 20_000)).astype(np.float32)
    signs = np.where(rng.uniform(size=20_000) < 0.5, -1, 1).astype(np.float32)
    big = np.array([448, 449, 464, 465, 479, 480, 481, 500, 1000, 57344, 57345, 61439, 61440, 61441, 65504, 65536,
                    1e6, 1e20, 3e38], dtype=np.float32)
    pieces += [magnitudes * signs, big, -big,
               np.array([0.0, -0.0, np.inf, -np.inf, 1e-45, -1e-45, 1.1754942e-38, 2 ** -10, 2 ** -17, 2 ** -9 * 1.5], dtype=np.float32)]
    inputs = np.unique(np.concatenate(pieces).astype(np.float32))
    inputs = np.concatenate([inputs, np.array([-0.0], dtype=np.float32)])   # unique() merged -0 into 0
    inputs = inputs[~np.isnan(inputs)]
    x = torch.from_numpy(inputs)
    tensors["inputs"] = x
    for name, dtype in FORMATS.items():
        tensors[f"{name}.codes"] = x.to(dtype).view(torch.uint8).contiguous()
    safetensors.torch.save_file(tensors, out + ".tmp", metadata={"torch": torch.__version__})
    os.replace(out + ".tmp", out)
    print("wrote", out, len(inputs), "inputs")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "Tests/QuantizationTests/Fixtures/fp8.safetensors")
