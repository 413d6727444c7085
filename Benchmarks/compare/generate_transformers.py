#!/usr/bin/env python3
"""The twin of `swift run -c release bench generate --model=DIR`: the same 64 prompt ids, greedy,
128 new tokens, with transformers' generate on PyTorch CPU, at 1 and 2 threads.

Usage: /work/py/venv/bin/python Benchmarks/compare/generate_transformers.py DIR [--repetitions N] [--prefill-only]
       /work/py/venv/bin/python Benchmarks/compare/generate_transformers.py FILE.gguf [--repetitions N] [--prefill-only]

DIR is a Hugging Face model directory (e.g. models/smollm2-hf, SmolLM2-135M-Instruct); a .gguf file is
loaded by transformers' GGUF reader, which dequantizes it to fp32 (PyTorch has no Q4_1 kernels). Prefill is
timed as one forward pass over the prompt with use_cache=True and logits_to_keep=1 — exactly the
prefill generate itself runs (it projects only the last position onto the vocabulary, as ours does);
decode as generate's total time minus that prefill, over the 127 steps after the first new token (the
same split `bench generate` reports). The prefill figure is the median of 3 x N standalone prefills, as in
the Swift bench; `--prefill-only` skips the generations.
Prints a table and one JSON line per thread count (fields as in the Swift bench).
"""
import argparse
import json
import os
import statistics
import time

import torch
from transformers import AutoModelForCausalLM

PROMPT_LENGTH, NEW_TOKENS = 64, 128


def prompt_ids(vocabulary):
    # Must match GenerateBench.prompt(length:vocabulary:) in Benchmarks/GenerateBench.swift.
    return [(i * 7919 + 13) % vocabulary for i in range(PROMPT_LENGTH)]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("model")
    parser.add_argument("--repetitions", type=int, default=3)
    parser.add_argument("--prefill-only", action="store_true", help="time the prefill alone (decode reads 0)")
    args = parser.parse_args()
    if args.model.endswith(".gguf"):
        directory, name = os.path.split(os.path.abspath(args.model))
        model = AutoModelForCausalLM.from_pretrained(directory, gguf_file=name, dtype=torch.float32).eval()
    else:
        model = AutoModelForCausalLM.from_pretrained(args.model, dtype=torch.float32).eval()
    ids = torch.tensor([prompt_ids(model.config.vocab_size)])
    attention = torch.ones_like(ids)
    print(f"transformers generate — greedy, {PROMPT_LENGTH}-token prompt, {NEW_TOKENS} new tokens, fp32 CPU")
    print(f"{'threads':9}{'prefill tok/s':15}{'decode tok/s':14}")
    for threads in (1, 2):
        torch.set_num_threads(threads)
        prefill_rates, decode_rates = [], []
        with torch.inference_mode():
            model.generate(ids[:, :8], attention_mask=attention[:, :8], max_new_tokens=4, do_sample=False)  # warm-up
            for _ in range(0 if args.prefill_only else args.repetitions):
                start = time.perf_counter()
                model(ids, attention_mask=attention, use_cache=True, logits_to_keep=1)
                prefill = time.perf_counter() - start
                start = time.perf_counter()
                out = model.generate(ids, attention_mask=attention, max_new_tokens=NEW_TOKENS, min_new_tokens=NEW_TOKENS,
                                     do_sample=False, eos_token_id=None, pad_token_id=0)
                total = time.perf_counter() - start
                assert out.shape[1] == PROMPT_LENGTH + NEW_TOKENS
                decode_rates.append((NEW_TOKENS - 1) / max(total - prefill, 1e-9))
            # Prefill alone, 3x as often (it is short against a shared host's noise), as the Swift bench does.
            for _ in range(3 * args.repetitions):
                start = time.perf_counter()
                model(ids, attention_mask=attention, use_cache=True, logits_to_keep=1)
                prefill_rates.append(PROMPT_LENGTH / (time.perf_counter() - start))
        prefill_rate = statistics.median(prefill_rates)
        decode_rate = statistics.median(decode_rates) if decode_rates else 0.0
        print(f"{threads:<9}{prefill_rate:<15.1f}{decode_rate:<14.1f}")
        print(json.dumps({"bench": "generate", "library": "transformers", "model": args.model, "threads": threads,
                          "prompt_tokens": PROMPT_LENGTH, "new_tokens": NEW_TOKENS,
                          "prefill_tokens_per_s": round(prefill_rate, 1), "decode_tokens_per_s": round(decode_rate, 1)},
                         sort_keys=True))


if __name__ == "__main__":
    main()
