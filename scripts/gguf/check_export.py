#!/usr/bin/env python3
"""Check models written by `tinytune export` / `tinytune merge-adapter` with the reference readers.

Usage (from the repository root, after `swift build -c release`):

    /work/py/venv/bin/python scripts/gguf/check_export.py --gguf out/smollm2-q8_0.gguf [--gguf …] [--hf out/smollm2-hf] \
        [--tinytune .build/release/tinytune] [--max-tokens 48]

For each GGUF file:
  1. the `gguf` package's GGUFReader reads it: architecture, tensor count and types, the tokenizer
     (`tokenizer.ggml.tokens`, merges) and `tokenizer.chat_template` must be there;
  2. transformers loads it (`AutoModelForCausalLM.from_pretrained(dir, gguf_file=name)` and the same for
     AutoTokenizer: transformers' own GGUF reader, which dequantizes to fp32).
For each Hugging Face directory: transformers loads it (`from_pretrained(dir)`) with its tokenizer.
Then, for every model and each of three chat prompts (the tokenizer's chat template, generation prompt),
transformers' greedy answer is compared with `tinytune generate --base MODEL --chat` on the same file.
Prints one line per prompt and a verdict; exits 1 when an answer differs or a check fails.
Tested with gguf 0.19.0, torch 2.15.0, transformers 5.24.0.
"""
import argparse
import os
import subprocess
import sys

import numpy as np
import gguf
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

PROMPTS = ["What is the capital of France?", "Name three primary colors.", "Write a haiku about the sea."]


def check_gguf_reader(path):
    reader = gguf.GGUFReader(path)
    fields = reader.fields

    def text(key):
        field = fields[key]
        return bytes(field.parts[field.data[0]]).decode("utf-8")

    assert text("general.architecture") == "llama", "general.architecture"
    tokens = fields["tokenizer.ggml.tokens"]
    merges = fields["tokenizer.ggml.merges"]
    template = text("tokenizer.chat_template")
    types = sorted({t.tensor_type.name for t in reader.tensors})
    print(f"  gguf reader: {len(reader.tensors)} tensors ({', '.join(types)}), {len(tokens.data)} tokens, "
          f"{len(merges.data)} merges, chat template {len(template)} chars, tokenizer.ggml.pre = {text('tokenizer.ggml.pre')}")
    for t in reader.tensors:   # every tensor decodes to finite values
        values = gguf.quants.dequantize(t.data, t.tensor_type)
        assert np.isfinite(values).all(), f"{t.name} has non-finite values"


def transformers_answers(directory, gguf_file, max_tokens):
    extra = {"gguf_file": gguf_file} if gguf_file else {}
    tokenizer = AutoTokenizer.from_pretrained(directory, **extra)
    model = AutoModelForCausalLM.from_pretrained(directory, dtype=torch.float32, **extra).eval()
    stops = [i for i in {tokenizer.convert_tokens_to_ids("<|im_end|>"), tokenizer.eos_token_id} if isinstance(i, int)]
    answers = []
    for prompt in PROMPTS:
        text = tokenizer.apply_chat_template([{"role": "user", "content": prompt}], tokenize=False, add_generation_prompt=True)
        ids = tokenizer(text, return_tensors="pt", add_special_tokens=False).input_ids
        with torch.inference_mode():
            out = model.generate(ids, attention_mask=torch.ones_like(ids), max_new_tokens=max_tokens, do_sample=False,
                                 eos_token_id=stops)
        answers.append(tokenizer.decode(out[0, ids.shape[1]:].tolist(), skip_special_tokens=True))
    return answers


def tinytune_answer(tinytune, model, prompt, max_tokens):
    out = subprocess.run([tinytune, "generate", "--base", model, "--chat", "--prompt", prompt,
                          "--max-tokens", str(max_tokens)], capture_output=True, text=True, check=True).stdout
    # Output: "loaded …" / "note: …" lines, the streamed answer, then "\n— prefill …".
    body = out.rsplit("\n— prefill", 1)[0]
    lines = body.split("\n")
    while lines and (lines[0].startswith("loaded ") or lines[0].startswith("note: ")):
        lines.pop(0)
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--gguf", action="append", default=[], help="an exported .gguf file (repeatable)")
    parser.add_argument("--hf", action="append", default=[], help="an exported Hugging Face directory (repeatable)")
    parser.add_argument("--tinytune", default=".build/release/tinytune")
    parser.add_argument("--max-tokens", type=int, default=48)
    args = parser.parse_args()
    failures = 0
    models = [(path, os.path.dirname(os.path.abspath(path)), os.path.basename(path)) for path in args.gguf]
    models += [(path, path, None) for path in args.hf]
    for path, directory, gguf_file in models:
        print(f"{path}:")
        if gguf_file:
            check_gguf_reader(path)
        theirs = transformers_answers(directory, gguf_file, args.max_tokens)
        for prompt, answer in zip(PROMPTS, theirs):
            ours = tinytune_answer(args.tinytune, path, prompt, args.max_tokens)
            same = ours.strip() == answer.strip()
            failures += not same
            print(f"  {'same' if same else 'DIFFERENT'}  {prompt!r}\n    transformers: {answer!r}\n    tinytune:     {ours!r}")
    print("all answers equal" if failures == 0 else f"{failures} answers differ")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
