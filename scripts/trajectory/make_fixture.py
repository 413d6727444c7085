#!/usr/bin/env python3
"""Record a reference training trajectory with PyTorch (llm.c's test, for TinyTune).

Command (from the repository root; CI never runs this, the outputs are committed):

    /work/py/venv/bin/python scripts/trajectory/make_fixture.py Tests/TrainingTests/Fixtures/trajectory

For each flavour (GPT-2: learned positions, LayerNorm, gelu_new, tied embeddings, biases; Llama: RoPE,
RMSNorm, SwiGLU, 4 query heads sharing 2 KV heads, a separate lm_head) it builds a tiny transformers
model, randomises its norms and biases (HF initialises them to 1 and 0, which would leave their gradients
untested), saves it with `save_pretrained`, then trains it for 10 steps of torch.optim.AdamW on one fixed
batch and records:

  <flavour>/config.json, <flavour>/model.safetensors   the initial weights (HF layout)
  <flavour>/grads.safetensors    the gradient of every parameter at step 0 (same names and layout as
                                 the weights: GPT-2's Conv1D gradients are [in, out] too)
  <flavour>/trajectory.json      inputs [B][T], targets [B][T], the optimizer's hyperparameters, and
                                 `losses`: the loss before each of the 10 updates and after the last (11)

The loss is the mean cross-entropy of logits [B·T, V] against the next tokens. AdamW: lr 1e-2, betas
(0.9, 0.999), eps 1e-8, weight decay 0.1 on parameters of rank ≥ 2 and 0 on the others (TinyTune's
AdamW rule), `foreach=False` (the plain per-parameter loop). Float32 on the CPU, one thread, seeded:
a rerun with the same library versions reproduces the files (tested with torch 2.15.0, transformers
5.24.0, safetensors 0.8.0).
"""
import json
import os
import sys

import safetensors
import safetensors.torch
import torch
import torch.nn.functional as F
import transformers

STEPS = 10
LEARNING_RATE = 1e-2
WEIGHT_DECAY = 0.1
BETAS = (0.9, 0.999)
EPS = 1e-8
BATCH, TIME, VOCAB = 2, 8, 32


def gpt2_model():
    config = transformers.GPT2Config(
        vocab_size=VOCAB, n_embd=16, n_layer=2, n_head=2, n_positions=16,
        activation_function="gelu_new", tie_word_embeddings=True, resid_pdrop=0.0, embd_pdrop=0.0,
        attn_pdrop=0.0, bos_token_id=0, eos_token_id=0, initializer_range=0.1,
    )
    model = transformers.GPT2LMHeadModel(config).float()
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("bias") or "ln_" in name:
                p.copy_(torch.randn_like(p) * 0.1 + (1.0 if name.endswith("weight") else 0.0))
    return model


def llama_model():
    config = transformers.LlamaConfig(
        vocab_size=VOCAB, hidden_size=16, intermediate_size=32, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=16,
        rope_theta=10000.0, rms_norm_eps=1e-5, tie_word_embeddings=False, hidden_act="silu",
        attention_bias=False, mlp_bias=False, attention_dropout=0.0, initializer_range=0.1,
        bos_token_id=0, eos_token_id=0,
    )
    model = transformers.LlamaForCausalLM(config).float()
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "norm" in name:
                p.copy_(1.0 + 0.1 * torch.randn_like(p))
    return model


def record(model, folder, flavour):
    os.makedirs(folder, exist_ok=True)
    model.save_pretrained(folder, safe_serialization=True)
    generation = os.path.join(folder, "generation_config.json")
    if os.path.exists(generation):
        os.remove(generation)  # the Swift side does not read it
    tokens = torch.randint(0, VOCAB, (BATCH, TIME + 1), generator=torch.Generator().manual_seed(7))
    inputs, targets = tokens[:, :-1], tokens[:, 1:]
    named = list(model.named_parameters())  # tied weights appear once
    decayed = [p for _, p in named if p.dim() >= 2]
    plain = [p for _, p in named if p.dim() < 2]
    optimizer = torch.optim.AdamW(
        [{"params": decayed, "weight_decay": WEIGHT_DECAY}, {"params": plain, "weight_decay": 0.0}],
        lr=LEARNING_RATE, betas=BETAS, eps=EPS, foreach=False)
    model.train()  # every dropout probability is 0, so train and eval compute the same

    def loss_now():
        logits = model(inputs).logits
        return F.cross_entropy(logits.reshape(-1, VOCAB), targets.reshape(-1))

    losses = []
    for step in range(STEPS):
        optimizer.zero_grad(set_to_none=True)
        loss = loss_now()
        loss.backward()
        losses.append(loss.item())
        if step == 0:
            grads = {name: p.grad.detach().clone().contiguous() for name, p in named}
            safetensors.torch.save_file(grads, os.path.join(folder, "grads.safetensors"), metadata={"format": "pt"})
        optimizer.step()
    with torch.no_grad():
        losses.append(loss_now().item())
    trajectory = {
        "flavour": flavour,
        "inputs": inputs.tolist(),
        "targets": targets.tolist(),
        "learning_rate": LEARNING_RATE,
        "weight_decay": WEIGHT_DECAY,
        "betas": list(BETAS),
        "eps": EPS,
        "losses": losses,
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "safetensors": safetensors.__version__,
    }
    with open(os.path.join(folder, "trajectory.json"), "w") as f:
        json.dump(trajectory, f, indent=1)
        f.write("\n")
    print(f"{flavour}: losses {losses[0]:.6f} → {losses[-1]:.6f}")


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else "Tests/TrainingTests/Fixtures/trajectory"
    torch.set_num_threads(1)
    torch.manual_seed(0)
    record(gpt2_model(), os.path.join(root, "gpt2"), "gpt2")
    torch.manual_seed(1)
    record(llama_model(), os.path.join(root, "llama"), "llama")


if __name__ == "__main__":
    main()
