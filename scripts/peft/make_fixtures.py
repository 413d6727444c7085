#!/usr/bin/env python3
"""Regenerate the PEFT adapter fixtures (CI never runs this; the outputs are committed).

Command (from the repository root):

    /work/py/venv/bin/python scripts/peft/make_fixtures.py Tests/PEFTTests/Fixtures

Base models: the tiny random GPT-2 and Llama checkpoints of Tests/CheckpointsTests/Fixtures (made by
scripts/checkpoints/make_fixtures.py). Needs torch, transformers, peft, safetensors. Tested with
torch 2.15.0, transformers 5.24.0, peft 0.21.2. Seeded, float32, CPU: a rerun reproduces the files.

(a) PEFT-written adapters, one folder each, with the ways PEFT picks target layers:
    gpt2-fullpath   target_modules = list of full module paths (what PEFT saves for "all-linear")
    gpt2-suffix     dot-suffixes ("c_attn", "h.1.mlp.c_proj") + rank_pattern + alpha_pattern
    gpt2-regex      target_modules = one string: a regex over full module names
    gpt2-layers     suffix "c_fc" restricted by layers_to_transform = [1]
    llama-fullpath  full paths + use_rslora
    llama-regex     regex over full names, DoRA
    llama-exclude   a suffix list with exclude_modules
    Every adapter's lora_B is random (init_lora_weights=False), so it changes the logits.
(b) ours-gpt2: an adapter in exactly the layout AdapterFiles.save writes (same config fields and
    values, same tensor names), loaded with PeftModel.from_pretrained; the warnings it raised are
    recorded (the Swift test asserts there are none) with the logits.

Each folder: adapter_config.json, adapter_model.safetensors, expected.json
  {"tokens": [...], "logits_shape": [T, V], "logits": [...], "warnings": [...], "peft": "0.21.2", ...}
  ("warnings" leaves out transformers' own "X is deprecated" notices, which are not about the adapter.)
"""
import json
import logging
import os
import shutil
import sys
import warnings

import peft
import safetensors.torch
import torch
import transformers

TOKENS = [1, 17, 42, 5, 63, 0, 8, 29, 33, 12]
HERE = os.path.dirname(os.path.abspath(__file__))
BASES = os.path.join(HERE, "..", "..", "Tests", "CheckpointsTests", "Fixtures")


def rounded(values):
    return [float(f"{v:.7g}") for v in values]


def base(kind):
    return transformers.AutoModelForCausalLM.from_pretrained(os.path.join(BASES, f"tiny-{kind}"), dtype=torch.float32).eval()


def logits_of(model):
    with torch.no_grad():
        return model(torch.tensor([TOKENS])).logits[0]


def write_expected(folder, logits, caught):
    expected = {
        "tokens": TOKENS,
        "logits_shape": list(logits.shape),
        "logits": rounded(logits.reshape(-1).tolist()),
        "warnings": caught,
        "torch": torch.__version__, "transformers": transformers.__version__, "peft": peft.__version__,
    }
    with open(os.path.join(folder, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1)
        f.write("\n")


class Capture(logging.Handler):
    """Collects warnings logged by transformers / peft (they use `logging`, not only `warnings`)."""
    def __init__(self):
        super().__init__(level=logging.WARNING)
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


def make_peft_adapter(root, name, kind, seed, **lora):
    torch.manual_seed(seed)
    model = peft.get_peft_model(base(kind), peft.LoraConfig(init_lora_weights=False, lora_dropout=0.0, **lora))
    model.eval()
    folder = os.path.join(root, name)
    if os.path.exists(folder):
        shutil.rmtree(folder)
    model.save_pretrained(folder)
    os.remove(os.path.join(folder, "README.md"))  # the model card PEFT writes
    config_path = os.path.join(folder, "adapter_config.json")
    with open(config_path) as f:
        config = json.load(f)
    config["base_model_name_or_path"] = f"tiny-{kind}"  # not this machine's absolute path
    with open(config_path, "w") as f:
        json.dump(config, f, indent=2, sort_keys=True)
    # Reload from the files: the logits are those of the saved adapter, as a user would get them.
    loaded = peft.PeftModel.from_pretrained(base(kind), folder).eval()
    write_expected(folder, logits_of(loaded), [])
    print(name, sorted(k for k in loaded.state_dict() if "lora_" in k)[:2], "...")


def make_ours(root):
    # The layout AdapterFiles.save writes, field for field (see Sources/PEFT/AdapterFiles.swift).
    kind, folder = "gpt2", os.path.join(root, "ours-gpt2")
    if os.path.exists(folder):
        shutil.rmtree(folder)
    os.makedirs(folder)
    torch.manual_seed(7)
    r, alpha, tensors = 4, 8.0, {}
    for layer in range(2):
        for module, (fan_in, fan_out) in {"attn.c_attn": (32, 96), "mlp.c_fc": (32, 128)}.items():
            prefix = f"base_model.model.transformer.h.{layer}.{module}."
            tensors[prefix + "lora_A.weight"] = torch.randn(r, fan_in) * 0.2
            tensors[prefix + "lora_B.weight"] = torch.randn(fan_out, r) * 0.2
    safetensors.torch.save_file(tensors, os.path.join(folder, "adapter_model.safetensors"), metadata={"format": "pt"})
    config = {
        "base_model_name_or_path": "tiny-gpt2", "bias": "none", "fan_in_fan_out": True, "inference_mode": True,
        "init_lora_weights": True, "lora_alpha": alpha, "lora_dropout": 0.0, "modules_to_save": None,
        "peft_type": "LORA", "r": r, "target_modules": ["c_attn", "c_fc"], "task_type": "CAUSAL_LM",
        "use_dora": False, "use_rslora": False,
    }
    with open(os.path.join(folder, "adapter_config.json"), "w") as f:
        json.dump(config, f, indent=2, sort_keys=True)
    capture = Capture()
    logging.getLogger().addHandler(capture)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = peft.PeftModel.from_pretrained(base(kind), folder).eval()
        logits = logits_of(model)
    logging.getLogger().removeHandler(capture)
    # transformers' own deprecation notices say nothing about the adapter; everything else is kept.
    messages = [str(w.message) for w in caught if not issubclass(w.category, (DeprecationWarning, FutureWarning))
                and "is deprecated" not in str(w.message)]
    messages += [m for m in capture.messages if "is deprecated" not in m]
    # PEFT reports keys it could not place as "missing"/"unexpected"; none may be left over.
    loaded = {k for k in model.state_dict() if "lora_" in k}
    if len(loaded) != len(tensors):
        messages.append(f"PEFT holds {len(loaded)} LoRA tensors, the file {len(tensors)}")
    write_expected(folder, logits, messages)
    print("ours-gpt2 warnings:", messages)


def main(root):
    os.makedirs(root, exist_ok=True)
    make_peft_adapter(root, "gpt2-fullpath", "gpt2", 1, r=4, lora_alpha=8,
                      target_modules=["transformer.h.1.mlp.c_fc", "transformer.h.0.attn.c_attn"])
    make_peft_adapter(root, "gpt2-suffix", "gpt2", 2, r=4, lora_alpha=8, target_modules=["c_attn", "h.1.mlp.c_proj"],
                      rank_pattern={"h.0.attn.c_attn": 2}, alpha_pattern={"c_proj": 3})
    make_peft_adapter(root, "gpt2-regex", "gpt2", 3, r=3, lora_alpha=6, target_modules=r".*\.h\.\d\.(attn|mlp)\.c_proj")
    make_peft_adapter(root, "gpt2-layers", "gpt2", 4, r=2, lora_alpha=4, target_modules=["c_fc"], layers_to_transform=[1])
    make_peft_adapter(root, "llama-fullpath", "llama", 5, r=4, lora_alpha=4, use_rslora=True,
                      target_modules=["model.layers.0.self_attn.q_proj", "model.layers.1.mlp.down_proj"])
    make_peft_adapter(root, "llama-regex", "llama", 6, r=2, lora_alpha=4, use_dora=True,
                      target_modules=r"model\.layers\.1\.(self_attn\.v_proj|mlp\.(gate|up)_proj)")
    make_peft_adapter(root, "llama-exclude", "llama", 8, r=2, lora_alpha=2, target_modules=["k_proj", "o_proj"],
                      exclude_modules=["model.layers.0.self_attn.o_proj"])
    make_ours(root)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "Tests/PEFTTests/Fixtures")
