#!/usr/bin/env python3
"""transformers' logits for SmolLM2-135M-Instruct loaded from the same Q4_1 GGUF TinyTune loads.

Two jobs (from the repository root, after `sh scripts/fetch-smollm2.sh`):

    /work/py/venv/bin/python scripts/gguf/compare_smollm2.py reference
        writes Tests/CheckpointsTests/Fixtures/gguf/smollm2-q4_1-reference.json: the chat prompt's token ids
        (transformers' tokenizer from the GGUF + apply_chat_template, add_generation_prompt=True), for every
        position the logits at 128 fixed vocabulary ids plus the argmax id and its logit, and transformers'
        greedy continuation (16 tokens). The Swift test SmolLM2GGUFTests compares against it (and skips,
        saying so, when models/ lacks the GGUF).

    /work/py/venv/bin/python scripts/gguf/compare_smollm2.py compare
        reads models/.smollm2-tinytune-logits.f32 (all [T, V] float32 logits, written by that Swift test)
        and prints the max absolute difference to transformers' over every position and vocabulary id.

Tested with transformers 5.24.0, torch 2.15.0, gguf 0.19.0 (CPU, float32).
"""
import json
import os
import sys

import numpy as np
import torch
import transformers

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODELS = os.path.join(ROOT, "models")
NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
FIXTURE = os.path.join(ROOT, "Tests/CheckpointsTests/Fixtures/gguf/smollm2-q4_1-reference.json")
OURS = os.path.join(MODELS, ".smollm2-tinytune-logits.f32")
MESSAGES = [{"role": "user", "content": "What is the capital of France?"}]


def load():
    tokenizer = transformers.AutoTokenizer.from_pretrained(MODELS, gguf_file=NAME)
    model = transformers.AutoModelForCausalLM.from_pretrained(MODELS, gguf_file=NAME, dtype=torch.float32)
    model.eval()
    ids = tokenizer.apply_chat_template(MESSAGES, add_generation_prompt=True, tokenize=True)
    if isinstance(ids, dict) or hasattr(ids, "input_ids"):
        ids = ids["input_ids"]
    with torch.no_grad():
        logits = model(torch.tensor([ids])).logits[0].numpy()
    return tokenizer, model, list(map(int, ids)), logits


def reference():
    tokenizer, model, ids, logits = load()
    vocabulary = logits.shape[1]
    columns = list(range(0, vocabulary, vocabulary // 128))[:128]
    with torch.no_grad():
        generated = model.generate(torch.tensor([ids]), max_new_tokens=16, do_sample=False)[0][len(ids):].tolist()
    out = {
        "file": NAME, "messages": MESSAGES, "tokens": ids, "vocabulary": vocabulary, "columns": columns,
        "logits": [[float(f"{logits[t, c]:.7g}") for c in columns] for t in range(len(ids))],
        "argmax": [int(logits[t].argmax()) for t in range(len(ids))],
        "argmax_logit": [float(f"{logits[t].max():.7g}") for t in range(len(ids))],
        "greedy": generated, "greedy_text": tokenizer.decode(generated),
        "transformers": transformers.__version__, "torch": torch.__version__,
    }
    with open(FIXTURE, "w") as f:
        json.dump(out, f, indent=1)
    print(f"wrote {FIXTURE}: {len(ids)} tokens, max |logit| {np.abs(logits).max():.2f}, greedy {out['greedy_text']!r}")


def compare():
    _, _, ids, logits = load()
    ours = np.fromfile(OURS, dtype=np.float32).reshape(logits.shape)
    diff = np.abs(ours - logits)
    t, v = np.unravel_index(diff.argmax(), diff.shape)
    print(f"{len(ids)} positions × {logits.shape[1]} ids: max |TinyTune − transformers| = {diff.max():.3g} "
          f"(position {t}, id {v}; logits reach {np.abs(logits).max():.2f}), mean {diff.mean():.3g}; "
          f"argmax agrees at {int((ours.argmax(1) == logits.argmax(1)).sum())}/{len(ids)} positions")


if __name__ == "__main__":
    {"reference": reference, "compare": compare}[sys.argv[1] if len(sys.argv) > 1 else "reference"]()
