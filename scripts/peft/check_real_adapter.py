#!/usr/bin/env python3
"""Load a `tinytune lora` adapter trained on the real base in PEFT and compare its logits with TinyTune's.

Usage (from the repository root, after `swift build -c release`):

    .build/release/tinytune lora --base models/smollm2-hf --data DATA.jsonl --steps 4 --batch 2 --out runs/smollm2-lora
    /work/py/venv/bin/python scripts/peft/check_real_adapter.py runs/smollm2-lora [--base models/smollm2-hf] \
        [--tinytune .build/release/tinytune] [--prompt "What is the capital of France?"]

1. `PeftModel.from_pretrained(base, ADAPTER)` on the Hugging Face base: every tensor of
   adapter_model.safetensors must land in the model (no unexpected keys) and every LoRA weight of the
   model must come from the file (no missing lora_ keys); PEFT's warnings are printed and must be none.
2. The adapter must change the model (B ≠ 0 after a few steps): max |logits(base + adapter) − logits(base)|.
3. `tinytune generate --base BASE --adapter ADAPTER --chat --prompt P --dump-logits F` writes TinyTune's
   logits of the chat-rendered prompt; PEFT's logits on the same token ids are compared: max |Δ| printed,
   and must be ≤ 2e-4 (the base alone agrees to ~1e-4; fp32 on both sides).
Exits 1 when a check fails. Tested with torch 2.15.0, transformers 5.24.0, peft 0.21.2, safetensors.
"""
import argparse
import logging
import os
import subprocess
import sys
import tempfile
import warnings

import torch
import peft
from peft.utils.save_and_load import set_peft_model_state_dict
from safetensors.numpy import load_file
from safetensors.torch import load_file as load_torch
from transformers import AutoModelForCausalLM


class Collect(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("adapter")
    parser.add_argument("--base", default="models/smollm2-hf")
    parser.add_argument("--tinytune", default=".build/release/tinytune")
    parser.add_argument("--prompt", default="What is the capital of France?")
    parser.add_argument("--tolerance", type=float, default=2e-4)
    args = parser.parse_args()
    ok = True

    def base():
        return AutoModelForCausalLM.from_pretrained(args.base, dtype=torch.float32).eval()

    # 1. Keys: load the file's state dict into a fresh PEFT model and read PEFT's own report.
    config = peft.LoraConfig.from_pretrained(args.adapter)
    fresh = peft.get_peft_model(base(), config)
    state = load_torch(os.path.join(args.adapter, "adapter_model.safetensors"))
    result = set_peft_model_state_dict(fresh, state)
    missing = [k for k in result.missing_keys if "lora_" in k]
    print(f"adapter: {len(state)} tensors, r={config.r}, alpha={config.lora_alpha}, targets={sorted(config.target_modules)}")
    print(f"unexpected keys: {list(result.unexpected_keys)}")
    print(f"missing LoRA keys: {missing}")
    ok &= not result.unexpected_keys and not missing

    handler = Collect()
    for name in ["peft", "transformers"]:
        logging.getLogger(name).addHandler(handler)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = peft.PeftModel.from_pretrained(base(), args.adapter).eval()
    messages = [str(w.message) for w in caught if "deprecated" not in str(w.message)] + handler.messages
    print(f"PeftModel.from_pretrained warnings: {messages}")
    ok &= not messages

    # 3. TinyTune's logits for the chat-rendered prompt, then PEFT's on the same ids.
    with tempfile.TemporaryDirectory() as tmp:
        dump = os.path.join(tmp, "logits.safetensors")
        subprocess.run([args.tinytune, "generate", "--base", args.base, "--adapter", args.adapter, "--chat",
                        "--prompt", args.prompt, "--max-tokens", "1", "--dump-logits", dump],
                       check=True, capture_output=True, text=True)
        ours = load_file(dump)
    ids = torch.tensor(ours["tokens"].astype("int64"))[None, :]
    with torch.inference_mode():
        theirs = model(ids).logits[0].float().numpy()
        with model.disable_adapter():
            plain = model(ids).logits[0].float().numpy()
    effect = float(abs(theirs - plain).max())
    difference = float(abs(theirs - ours["logits"]).max())
    print(f"prompt: {args.prompt!r} ({ids.shape[1]} tokens, chat template)")
    print(f"adapter effect on the logits (PEFT, with vs without): max |Δ| = {effect:.4g}")
    print(f"TinyTune vs PEFT logits, all {theirs.size} values: max |Δ| = {difference:.3g}  "
          f"(logit range {theirs.min():.2f}…{theirs.max():.2f}); same argmax at "
          f"{int((theirs.argmax(-1) == ours['logits'].argmax(-1)).sum())}/{theirs.shape[0]} positions")
    ok &= effect > 0 and difference <= args.tolerance
    print("OK" if ok else "FAILED")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
