"""Side by side: TinyTune's `bench` against numpy/OpenBLAS (GEMM) and PyTorch CPU (training step),
interleaved (ours, theirs, ours, theirs, …) so machine drift hits both, and the ratios of the medians.

    swift build -c release --product bench
    python3 Benchmarks/compare/compare.py [--rounds 3] [--quick] [--only gemm|step]
    python3 Benchmarks/compare/compare.py --only generate --model models/smollm2-hf [--rounds 3] [--prefill-only]

`--only generate` (with `--model DIR`, a Hugging Face directory of a real model) compares `bench
generate` with transformers' generate (generate_transformers.py): prefill and decode tokens/s.

Needs numpy, threadpoolctl and torch in the Python that runs it. numpy runs with OPENBLAS_CORETYPE and
OPENBLAS_L2_SIZE removed from its environment (they pin an old, slow kernel on some machines); nothing
else is changed. Benchmarks only: `swift test` and CI never need Python."""
import json, os, statistics, subprocess, sys

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.dirname(os.path.dirname(here))
bench = os.path.join(root, ".build", "release", "bench")
args = sys.argv[1:]
rounds = int(args[args.index("--rounds") + 1]) if "--rounds" in args else 3
quick = "--quick" in args
only = args[args.index("--only") + 1] if "--only" in args else None
model = args[args.index("--model") + 1] if "--model" in args else None
prefill_only = ["--prefill-only"] if "--prefill-only" in args else []
if only == "generate" and model is None:
    sys.exit("compare.py: --only generate needs --model DIR (e.g. models/smollm2-hf)")

def run(command, env=None):
    """Runs a command, echoes its non-JSON lines to stderr, returns its JSON lines as dicts."""
    print("$ " + " ".join(command), file=sys.stderr, flush=True)
    out = subprocess.run(command, env=env, capture_output=True, text=True, check=True).stdout
    rows = []
    for line in out.splitlines():
        if line.startswith("{"):
            rows.append(json.loads(line))
    return rows

numpy_env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}
ours_gemm, theirs_gemm, ours_step, theirs_step, ours_gen, theirs_gen = {}, {}, {}, {}, {}, {}
for r in range(rounds):
    print(f"round {r + 1} of {rounds}", file=sys.stderr, flush=True)
    if only in (None, "gemm"):
        for row in run([bench, "gemm"] + (["--quick"] if quick else [])):
            if row.get("bench") == "gemm":
                ours_gemm.setdefault((row["m"], row["n"], row["k"], row["trans"], row["threads"]), []).append(row["gflops"])
        for row in run([sys.executable, os.path.join(here, "numpy_gemm.py")] + (["--quick"] if quick else []), env=numpy_env):
            if "blas" in row:
                print("numpy BLAS:", row["blas"], file=sys.stderr)
                continue
            theirs_gemm.setdefault((row["m"], row["n"], row["k"], row["trans"], row["threads"]), []).append(row["gflops"])
    if only in (None, "step"):
        reps = "3" if quick else "5"
        for row in run([bench, "step", "--no-profile"] + (["--quick"] if quick else [])):
            if row.get("bench") == "step":
                ours_step.setdefault((row["setup"], row["threads"]), []).append(row["median_ms"])
        for row in run([sys.executable, os.path.join(here, "torch_step.py"), reps]):
            setup = {"lora": "lora-r8-all-linear"}.get(row["setup"], row["setup"])
            theirs_step.setdefault((setup, row["threads"]), []).append(row["median_ms"])
    if only == "generate":
        for row in run([bench, "generate", f"--model={model}"] + prefill_only):
            if row.get("bench") == "generate" and row["model"] != "built-in (random weights)":
                for phase in ("prefill", "decode"):
                    ours_gen.setdefault((phase, row["threads"]), []).append(row[f"{phase}_tokens_per_s"])
        for row in run([sys.executable, os.path.join(here, "generate_transformers.py"), model] + prefill_only):
            for phase in ("prefill", "decode"):
                theirs_gen.setdefault((phase, row["threads"]), []).append(row[f"{phase}_tokens_per_s"])

med = lambda xs: statistics.median(xs) if xs else float("nan")
if ours_gemm:
    print("\nGEMM GFLOP/s, median over rounds: TinyTune vs numpy/OpenBLAS (ratio ≥ 1 means TinyTune is faster)")
    print(f"{'M×N×K':<16}{'op':<4}{'thr':<5}{'ours':>9}{'numpy':>9}{'ratio':>8}   ours min–max")
    for key in sorted(ours_gemm, key=lambda k: (k[0] * k[1] * k[2], k[3], k[4])):
        o, t = med(ours_gemm[key]), med(theirs_gemm.get(key, []))
        m, n, k, op, th = key
        print(f"{f'{m}×{n}×{k}':<16}{op:<4}{th:<5}{o:>9.1f}{t:>9.1f}{o / t:>8.2f}   {min(ours_gemm[key]):.1f}–{max(ours_gemm[key]):.1f}")
if ours_step:
    print("\nTraining step ms, median over rounds: TinyTune vs PyTorch CPU (ratio ≤ 1 means TinyTune is faster)")
    print(f"{'setup':<22}{'thr':<5}{'ours':>9}{'torch':>9}{'ratio':>8}")
    for key in sorted(ours_step, key=lambda k: (["full", "frozen base", "lora-r8-all-linear"].index(k[0]), k[1])):
        o, t = med(ours_step[key]), med(theirs_step.get(key, []))
        print(f"{key[0]:<22}{key[1]:<5}{o:>9.1f}{t:>9.1f}{o / t:>8.2f}")
    for setup in ["full", "frozen base", "lora-r8-all-linear"]:
        if (setup, 1) in ours_step and (setup, 2) in ours_step:
            print(f"two-thread speed-up, {setup}: ours {med(ours_step[(setup, 1)]) / med(ours_step[(setup, 2)]):.2f}x,"
                  f" torch {med(theirs_step.get((setup, 1), [])) / med(theirs_step.get((setup, 2), [float('nan')])):.2f}x")
if ours_gen:
    print("\nGeneration tokens/s, median over rounds: TinyTune vs transformers (ratio ≥ 1 means TinyTune is faster)")
    print(f"{'phase':<10}{'thr':<5}{'ours':>9}{'torch':>9}{'ratio':>8}   ours min–max   torch min–max")
    for key in sorted(ours_gen):
        if not prefill_only or key[0] == "prefill":
            o, t = med(ours_gen[key]), med(theirs_gen.get(key, []))
            print(f"{key[0]:<10}{key[1]:<5}{o:>9.1f}{t:>9.1f}{o / t:>8.2f}   {min(ours_gen[key]):.1f}–{max(ours_gen[key]):.1f}"
                  f"   {min(theirs_gen[key]):.1f}–{max(theirs_gen[key]):.1f}")
