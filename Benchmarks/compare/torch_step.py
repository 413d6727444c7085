"""PyTorch CPU twin of the project's `bench step`: GPT-2 flavour, vocab 256, 4 layers, 4 heads, width 256,
context 128, batch 16, AdamW; setups full / last block only / LoRA r=8 on every linear layer.
Prints one JSON line per (setup, threads): {"setup", "threads", "median_ms"}.  Usage: python torch_step.py [reps] [setups, comma-separated] [threads, comma-separated]"""
import json, math, sys, time
import torch, torch.nn as nn, torch.nn.functional as F

V, L, H, C, T, B = 256, 4, 4, 256, 128, 16
reps = int(sys.argv[1]) if len(sys.argv) > 1 else 7
setups = sys.argv[2].split(",") if len(sys.argv) > 2 else ["full", "frozen base", "lora"]
thread_counts = [int(t) for t in sys.argv[3].split(",")] if len(sys.argv) > 3 else [1, 2]

class LoRALinear(nn.Module):
    def __init__(self, base, r=8, alpha=16):
        super().__init__(); self.base = base; self.s = alpha / r
        self.A = nn.Parameter(torch.randn(r, base.in_features) / math.sqrt(base.in_features))
        self.B = nn.Parameter(torch.zeros(base.out_features, r))
    def forward(self, x): return self.base(x) + (x @ self.A.t() @ self.B.t()) * self.s

class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.ln1, self.ln2 = nn.LayerNorm(C), nn.LayerNorm(C)
        self.qkv, self.proj = nn.Linear(C, 3 * C), nn.Linear(C, C)
        self.fc, self.out = nn.Linear(C, 4 * C), nn.Linear(4 * C, C)
    def forward(self, x):
        q, k, v = self.qkv(self.ln1(x)).split(C, dim=2)
        q, k, v = (t.view(B, T, H, C // H).transpose(1, 2) for t in (q, k, v))
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True).transpose(1, 2).reshape(B, T, C)
        x = x + self.proj(y)
        return x + self.out(F.gelu(self.fc(self.ln2(x)), approximate="tanh"))

class GPT(nn.Module):
    def __init__(self):
        super().__init__()
        self.wte, self.wpe = nn.Embedding(V, C), nn.Embedding(T, C)
        self.h = nn.ModuleList(Block() for _ in range(L)); self.lnf = nn.LayerNorm(C)
    def forward(self, idx):
        x = self.wte(idx) + self.wpe(torch.arange(T))
        for b in self.h: x = b(x)
        return self.lnf(x) @ self.wte.weight.t()   # tied head

def run(setup, threads):
    torch.set_num_threads(threads); torch.manual_seed(2)
    m = GPT()
    if setup == "frozen base":
        for n, p in m.named_parameters(): p.requires_grad = n.startswith("h.3.")
    if setup == "lora":
        for p in m.parameters(): p.requires_grad = False
        for b in m.h:
            for name in ("qkv", "proj", "fc", "out"): setattr(b, name, LoRALinear(getattr(b, name)))
    params = [p for p in m.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=1e-4, foreach=True)
    g = torch.Generator().manual_seed(1)
    idx, tgt = torch.randint(0, V, (B, T), generator=g), torch.randint(0, V, (B, T), generator=g)
    def step():
        opt.zero_grad(set_to_none=True)
        F.cross_entropy(m(idx).view(-1, V), tgt.view(-1)).backward(); opt.step()
    step(); times = []
    for _ in range(reps):
        t0 = time.perf_counter(); step(); times.append((time.perf_counter() - t0) * 1000)
    times.sort(); return times[len(times) // 2]

for setup in setups:
    for threads in thread_counts:
        print(json.dumps({"setup": setup, "threads": threads, "median_ms": round(run(setup, threads), 1)}), flush=True)
