"""numpy/OpenBLAS twin of the project's `bench gemm` shapes. Prints one JSON line per (m,n,k,trans,threads).
Run with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset (see the machine notes)."""
import json, time, sys
import numpy as np
from threadpoolctl import threadpool_limits, threadpool_info
quick = "--quick" in sys.argv
sq = [128, 512, 1024] if quick else [64, 128, 256, 512, 1024, 2048]
shapes = [(s, s, s, "NN") for s in sq] + [(2048, 768, 256, "NN"), (2048, 768, 256, "NT"), (2048, 256, 768, "NN"),
          (2048, 256, 768, "NT"), (256, 768, 2048, "TN"), (768, 256, 2048, "TN")]
np.ones((64, 64), np.float32) @ np.ones((64, 64), np.float32)
print(json.dumps({"blas": [(i.get("internal_api"), i.get("architecture"), i.get("version")) for i in threadpool_info()]}), flush=True)
for m, n, k, op in shapes:
    a = np.full((k, m) if op[0] == "T" else (m, k), 0.5, np.float32)
    b = np.full((n, k) if op[1] == "T" else (k, n), 0.25, np.float32)
    A = a.T if op[0] == "T" else a; Bm = b.T if op[1] == "T" else b
    flops = 2.0 * m * n * k; reps = max(3, min(50, int(2e10 / flops)))
    for th in (1, 2):
        with threadpool_limits(th):
            A @ Bm; ts = []
            for _ in range(reps):
                t0 = time.perf_counter(); A @ Bm; ts.append(time.perf_counter() - t0)
            ts.sort(); ms = ts[len(ts) // 2] * 1000
        print(json.dumps({"m": m, "n": n, "k": k, "trans": op, "threads": th, "gflops": round(flops / ms / 1e6, 1)}), flush=True)
