#!/usr/bin/env python3
"""Hold transformers to chapter 15's exported fine-tune: same greedy answers as TinyTune's in-memory model.

Usage (from the repository root, after `swift run -c release chapter15` wrote runs/chapter15/):

    /work/py/venv/bin/python scripts/export/check_chapter15.py [runs/chapter15] [--tokenizer models/smollm2-hf]

The chapter merges its LoRA fine-tune of SmolLM2-135M-Instruct and writes, in the export directory:
  chapter15-lora-merged.F32.gguf, chapter15-lora-merged.F16.gguf  (tokenizer + chat template inside)
  chapter15-lora-merged-hf/  (config.json, model.safetensors F32, tokenizer.json)
  answers.json  (the three chat-rendered test prompts, their token ids, the in-memory model's greedy
                 answer ids and text, and what TinyTune's own loaders got back from each export)
For each export this script loads it with transformers (`AutoModelForCausalLM.from_pretrained`, the GGUF
files through `gguf_file=`, which dequantizes to fp32), checks that transformers tokenizes each prompt to
the ids TinyTune used (the HF directory is read with the base's tokenizer, --tokenizer), decodes greedily
(`do_sample=False`) from those ids for at most the chapter's token limit, cuts at the first stop token
(`<|im_end|>`, `<|endoftext|>`, a newline — TinyTune's `TaskEvaluator.stopIDs`), and compares the ids with
the in-memory answers. Prints "same greedy answers k/3" per export; exits 1 unless every export gives 3/3.
Tested with torch 2.15.0, transformers 5.24.0, gguf (venv at /work/py/venv).
"""
import argparse
import json
import os
import sys

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer


def stop_ids(tokenizer):
    """TinyTune's stops: end of text, the first token of a newline, and the single-token end-of-turn marker."""
    ids = set()
    for token in ["<|endoftext|>", "<|im_end|>"]:
        token_id = tokenizer.convert_tokens_to_ids(token)
        if token_id is not None and token_id != tokenizer.unk_token_id:
            ids.add(token_id)
    newline = tokenizer.encode("\n", add_special_tokens=False)
    if newline:
        ids.add(newline[0])
    return ids


def greedy_answers(model, tokenizer, record):
    stops = stop_ids(tokenizer)
    answers, tokenization_ok = [], True
    for prompt, prompt_ids, limit in zip(record["prompts"], record["promptIDs"], record["maxNewTokens"]):
        ours = tokenizer.encode(prompt, add_special_tokens=False)
        if ours != prompt_ids:
            tokenization_ok = False
            print(f"    tokenization differs: transformers {len(ours)} ids, TinyTune {len(prompt_ids)}")
        with torch.no_grad():
            output = model.generate(torch.tensor([prompt_ids]), attention_mask=torch.ones(1, len(prompt_ids), dtype=torch.long),
                                    max_new_tokens=limit, do_sample=False, eos_token_id=None, pad_token_id=0)
        new = output[0, len(prompt_ids):].tolist()
        cut = next((i for i, token in enumerate(new) if token in stops), len(new))
        answers.append(new[:cut])
    return answers, tokenization_ok


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("directory", nargs="?", default="runs/chapter15")
    parser.add_argument("--tokenizer", default="models/smollm2-hf", help="tokenizer for the HF export (the base's)")
    args = parser.parse_args()
    with open(os.path.join(args.directory, "answers.json")) as f:
        record = json.load(f)
    reference = record["referenceAnswers"]
    torch.manual_seed(0)
    failed = False
    for export in record["exports"]:
        path = export["path"]
        if not os.path.isabs(path) and not os.path.exists(path):
            path = os.path.join(args.directory, os.path.basename(path))
        if path.endswith(".gguf"):
            folder, name = os.path.dirname(path) or ".", os.path.basename(path)
            tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
            model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=torch.float32)
        else:
            tokenizer = AutoTokenizer.from_pretrained(args.tokenizer)
            model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32)
        model.eval()
        answers, tokenization_ok = greedy_answers(model, tokenizer, record)
        same = sum(a == r for a, r in zip(answers, reference))
        print(f"{export['format']:<19} transformers: same greedy answers {same}/{len(reference)} as TinyTune's in-memory "
              f"fine-tune (TinyTune's reload: {export['same']}/{len(reference)}){'' if tokenization_ok else ', tokenization differs'}")
        for answer, expected in zip(answers, reference):
            if answer != expected:
                print(f"    transformers: {tokenizer.decode(answer)!r}\n    TinyTune:     {tokenizer.decode(expected)!r}")
        failed = failed or same != len(reference) or not tokenization_ok
        del model
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
