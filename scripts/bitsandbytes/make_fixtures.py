#!/usr/bin/env python3
"""Regenerate the bitsandbytes fixtures (CI never runs this; the output is committed).

Command (from the repository root):

    /work/py/venv/bin/python scripts/bitsandbytes/make_fixtures.py Tests/QuantizationTests/Fixtures/bitsandbytes.safetensors

Needs torch, bitsandbytes (pip install bitsandbytes; 0.50.2 runs these functions on the CPU), safetensors.
Seeded, float32, CPU.

Tensors written:
  map.signed, map.unsigned           F32 [256]  create_dynamic_map(signed=True/False)
  n<N>.input                         F32 [N]    seeded normal values (std 0.02, a few outliers), N in SIZES
  n<N>.packed                        U8         quantize_4bit(input, blocksize=64, quant_type="nf4",
                                                compress_statistics=True): the packed nibbles, high nibble first
                                                (odd N: the spare low nibble of the last byte)
  n<N>.absmax_codes                  U8 [blocks]     the double-quantized block scales (8-bit dynamic-map codes)
  n<N>.absmax2                       F32 [ceil(blocks/256)]  second-level scales
  n<N>.offset                        F32 [1]    the mean subtracted from the block scales before quantizing them
  n<N>.absmax                        F32 [blocks]    the first-level block scales (compress_statistics=False)
  n<N>.blockwise8_codes / _absmax    quantize_blockwise(input, blocksize=256) with the signed dynamic map
"""
import sys

import bitsandbytes
import bitsandbytes.functional as F
import safetensors.torch
import torch

SIZES = [33, 64, 1000, 4097, 64 * 300 + 7]


def main(out):
    torch.manual_seed(0)
    tensors = {
        "map.signed": F.create_dynamic_map(signed=True).float(),
        "map.unsigned": F.create_dynamic_map(signed=False).float(),
    }
    for n in SIZES:
        x = torch.randn(n) * 0.02
        x[torch.randint(0, n, (max(1, n // 500),))] *= 20       # outliers, so block scales vary
        packed, state = F.quantize_4bit(x, blocksize=64, compress_statistics=True, quant_type="nf4")
        _, plain = F.quantize_4bit(x, blocksize=64, compress_statistics=False, quant_type="nf4")
        codes8, state8 = F.quantize_blockwise(x, blocksize=256)
        tensors[f"n{n}.input"] = x
        tensors[f"n{n}.packed"] = packed.reshape(-1).contiguous()
        tensors[f"n{n}.absmax_codes"] = state.absmax.reshape(-1).contiguous()
        tensors[f"n{n}.absmax2"] = state.state2.absmax.reshape(-1).float().contiguous()
        tensors[f"n{n}.offset"] = state.offset.reshape(1).float()
        tensors[f"n{n}.absmax"] = plain.absmax.reshape(-1).float().contiguous()
        tensors[f"n{n}.blockwise8_codes"] = codes8.reshape(-1).contiguous()
        tensors[f"n{n}.blockwise8_absmax"] = state8.absmax.reshape(-1).float().contiguous()
    safetensors.torch.save_file(tensors, out, metadata={"bitsandbytes": bitsandbytes.__version__, "torch": torch.__version__})
    print("wrote", out, len(tensors), "tensors")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "Tests/QuantizationTests/Fixtures/bitsandbytes.safetensors")
