#!/usr/bin/env python3
"""Transformers' greedy answer to a chat prompt — the reference for `tinytune generate --chat`.

Usage: /work/py/venv/bin/python scripts/generation/transformers_greedy_answer.py DIR ["question"] [--max-tokens N]

DIR is a Hugging Face model directory (e.g. models/smollm2-hf for SmolLM2-135M-Instruct; or a GGUF
file with --gguf FILE, loaded by transformers' own GGUF reader). The question (default "What is the
capital of France?") is rendered with the tokenizer's chat template (add_generation_prompt=True),
generated greedily (fp32, CPU) until the end of the turn, and printed: the prompt ids, the answer
ids and the answer text. `tinytune generate --base DIR --chat --prompt "…"` must print the same text.
"""
import argparse
import os

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("model", help="Hugging Face directory, or the directory holding --gguf FILE")
    parser.add_argument("question", nargs="?", default="What is the capital of France?")
    parser.add_argument("--gguf", help="a .gguf file name inside MODEL (transformers dequantizes it to fp32)")
    parser.add_argument("--max-tokens", type=int, default=128)
    args = parser.parse_args()
    extra = {"gguf_file": args.gguf} if args.gguf else {}
    tokenizer = AutoTokenizer.from_pretrained(args.model, **extra)
    model = AutoModelForCausalLM.from_pretrained(args.model, dtype=torch.float32, **extra).eval()
    text = tokenizer.apply_chat_template([{"role": "user", "content": args.question}], tokenize=False,
                                         add_generation_prompt=True)
    ids = tokenizer(text, return_tensors="pt", add_special_tokens=False).input_ids
    with torch.inference_mode():
        out = model.generate(ids, attention_mask=torch.ones_like(ids), max_new_tokens=args.max_tokens, do_sample=False,
                             eos_token_id=[tokenizer.convert_tokens_to_ids("<|im_end|>"), tokenizer.eos_token_id])
    answer = out[0, ids.shape[1]:].tolist()
    print("model:", os.path.join(args.model, args.gguf) if args.gguf else args.model)
    print("prompt ids:", ids[0].tolist())
    print("answer ids:", answer)
    print("answer:", tokenizer.decode(answer, skip_special_tokens=True))


if __name__ == "__main__":
    main()
