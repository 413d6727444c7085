#!/usr/bin/env python3
"""Regenerate the bitsandbytes fixtures (CI never runs this; the outputs are committed).

Command (from the repository root):

    /work/py/venv/bin/python scripts/bitsandbytes/make_fixtures.py Tests/QuantizationTests/Fixtures

Needs torch, bitsandbytes (pip install bitsandbytes; 0.50.2 runs these functions on the CPU), numpy,
safetensors. float32, CPU. Records torch.backends.cpu.get_cpu_capability() (the SIMD width torch's sum
kernel used: "AVX2" = 8 lanes) and torch.get_num_threads() in the metadata.

Inputs are not random draws but a hash of the index (`hashed_uniform` below; the Swift tests compute the
same bits), so large tensors need no stored input: each value is ((u1 + u2) + u3 - 1.5) * 0.04 in
float32, u_k = (hash_k(i) >> 8) * 2^-24, and every 487th value is multiplied by 20 (outliers, so block
scales vary). The first 256 inputs of each size are stored to check the generator.

bitsandbytes.safetensors, for n in SIZES (flat tensors; 4096 = 64x64, 7000 = 1000x7, ...):
  map.signed, map.unsigned           F32 [256]  create_dynamic_map(signed=True/False)
  n<N>.input_head                    F32 [<=256] the first inputs
  n<N>.packed                        U8         quantize_4bit(input, blocksize=64, quant_type="nf4",
                                                compress_statistics=True): the packed nibbles, high nibble first
  n<N>.absmax_codes                  U8 [blocks]     the double-quantized block scales (8-bit dynamic-map codes)
  n<N>.absmax2                       F32 [ceil(blocks/256)]  second-level scales
  n<N>.offset                        F32 [1]    absmax.mean(), subtracted before quantizing the block scales
  n<N>.absmax                        F32 [blocks]    the first-level block scales (compress_statistics=False)
  n<N>.blockwise8_codes / _absmax    quantize_blockwise(input, blocksize=256) with the signed dynamic map
  n<N>.blockwise8_dequantized        F32 [N]    dequantize_blockwise of those (n in DEQUANTIZED only)
  n<N>.nf4_dequantized               F32 [N]    dequantize_4bit of the double-quantized NF4 (DEQUANTIZED only)
bitsandbytes-large.safetensors:
  n<N>.packed / absmax_codes / absmax2 / offset   for n in LARGE_NF4 (packed only below 200 000 values)
  sum.<n>.t<threads>                 F32 [1]    torch.sum(hashed_uniform(n, 7)) with torch.set_num_threads(t)
"""
import os
import sys

import bitsandbytes
import bitsandbytes.functional as F
import numpy as np
import safetensors.torch
import torch

SIZES = [33, 64, 1000, 4096, 4097, 7000, 64 * 300 + 7]
DEQUANTIZED = [1000, 4097]
LARGE_NF4 = [256 * 384, 1024 * 1024]
SUM_SIZES = [1, 2, 3, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 128, 129, 255, 256, 257, 511, 513,
             1000, 1023, 1025, 4095, 4097, 8191, 8193, 32767, 32768, 65537, 100_000, 1_000_003, 17_000_003]
SUM_THREADS = [1, 2, 3]


def hashed_uniform(n, salt):
    """u_i in [0, 1): a 32-bit hash of (i + 1, salt), its top 24 bits times 2^-24 (exact in float32)."""
    i = np.arange(n, dtype=np.uint64)
    h = ((i + np.uint64(1)) * np.uint64(2654435761) + np.uint64(salt)) & np.uint64(0xFFFFFFFF)
    h ^= h >> np.uint64(13)
    h = (h * np.uint64(0x5BD1E995)) & np.uint64(0xFFFFFFFF)
    h ^= h >> np.uint64(15)
    return (h >> np.uint64(8)).astype(np.float32) * np.float32(2.0 ** -24)


def fixture_input(n):
    u1, u2, u3 = hashed_uniform(n, 1), hashed_uniform(n, 2), hashed_uniform(n, 3)
    x = ((u1 + u2) + u3 - np.float32(1.5)) * np.float32(0.04)
    x[::487] *= np.float32(20)
    return torch.from_numpy(x.astype(np.float32))


def nf4_tensors(tensors, n, x):
    packed, state = F.quantize_4bit(x, blocksize=64, compress_statistics=True, quant_type="nf4")
    if n < 200_000:
        tensors[f"n{n}.packed"] = packed.reshape(-1).contiguous()
    tensors[f"n{n}.absmax_codes"] = state.absmax.reshape(-1).contiguous()
    tensors[f"n{n}.absmax2"] = state.state2.absmax.reshape(-1).float().contiguous()
    tensors[f"n{n}.offset"] = state.offset.reshape(1).float()
    return packed, state


def main(directory):
    capability, threads = torch.backends.cpu.get_cpu_capability(), torch.get_num_threads()
    metadata = {"bitsandbytes": bitsandbytes.__version__, "torch": torch.__version__,
                "cpu_capability": capability, "torch_threads": str(threads)}
    tensors = {
        "map.signed": F.create_dynamic_map(signed=True).float(),
        "map.unsigned": F.create_dynamic_map(signed=False).float(),
    }
    for n in SIZES:
        x = fixture_input(n)
        packed, state = nf4_tensors(tensors, n, x)
        _, plain = F.quantize_4bit(x, blocksize=64, compress_statistics=False, quant_type="nf4")
        codes8, state8 = F.quantize_blockwise(x, blocksize=256)
        tensors[f"n{n}.input_head"] = x[:256].clone()
        tensors[f"n{n}.absmax"] = plain.absmax.reshape(-1).float().contiguous()
        tensors[f"n{n}.blockwise8_codes"] = codes8.reshape(-1).contiguous()
        tensors[f"n{n}.blockwise8_absmax"] = state8.absmax.reshape(-1).float().contiguous()
        if n in DEQUANTIZED:
            tensors[f"n{n}.blockwise8_dequantized"] = F.dequantize_blockwise(codes8, state8).reshape(-1).contiguous()
            tensors[f"n{n}.nf4_dequantized"] = F.dequantize_4bit(packed, state).reshape(-1).contiguous()
    out = os.path.join(directory, "bitsandbytes.safetensors")
    safetensors.torch.save_file(tensors, out + ".tmp", metadata=metadata)
    os.replace(out + ".tmp", out)
    print("wrote", out, len(tensors), "tensors")

    large = {}
    for n in LARGE_NF4:
        nf4_tensors(large, n, fixture_input(n))
    for n in SUM_SIZES:
        u = torch.from_numpy(hashed_uniform(n, 7))
        for t in SUM_THREADS if n >= 32768 else [1]:
            torch.set_num_threads(t)
            large[f"sum.{n}.t{t}"] = u.sum().reshape(1)
    torch.set_num_threads(threads)
    out = os.path.join(directory, "bitsandbytes-large.safetensors")
    safetensors.torch.save_file(large, out + ".tmp", metadata=metadata)
    os.replace(out + ".tmp", out)
    print("wrote", out, len(large), "tensors;", "cpu capability", capability, "threads", threads)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "Tests/QuantizationTests/Fixtures")
