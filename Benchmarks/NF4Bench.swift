// NF4Bench.swift — the fused NF4 GEMM next to the fp32 GEMM: GFLOP/s and the bytes of W each one reads.
//
// Y = X·Wᵀ (a linear layer's forward) and dX = G·W (its backward), W [N, K] either fp32 or NF4 with
// double-quantized scales, decoded panel by panel inside the product. For many rows (training) the
// product is compute-bound and decoding is overhead; for a few rows (token-by-token generation) it is
// bound by reading W, where 4-bit storage moves ~7.75x fewer bytes.
import Foundation
import Kernels
import Autodiff
import Quantization

enum NF4Bench {
    static func run(quick: Bool) {
        let shapes: [(m: Int, n: Int, k: Int)] = quick ? [(2048, 768, 256), (8, 1024, 1024)]
            : [(2048, 768, 256), (2048, 256, 768), (2048, 1024, 256), (2048, 256, 1024), (256, 1024, 1024), (8, 1024, 1024), (1, 4096, 4096)]
        print("\nNF4 GEMM — Y = X·Wᵀ and dX = G·W with W [N, K] in fp32 vs NF4 (+DQ, blocks of 64), median of several runs, 2 threads")
        print(Measure.pad("M×N×K", 18) + Measure.pad("product", 9) + Measure.pad("fp32", 14) + Measure.pad("NF4 fused", 14)
              + Measure.pad("NF4/fp32", 10) + "W bytes read fp32 → NF4")
        for (m, n, k) in shapes {
            var rng = RNG(seed: 1)
            let w = (0..<n * k).map { _ in rng.normal() * 0.02 }
            let x = (0..<m * k).map { _ in rng.normal() }, g = (0..<m * n).map { _ in rng.normal() }
            guard let nf4 = try? NF4Weight(w, rows: n, columns: k) else { continue }
            var y = [Float](repeating: 0, count: m * n), dx = [Float](repeating: 0, count: m * k)
            let flops = 2.0 * Double(m) * Double(n) * Double(k)
            let repetitions = max(5, min(50, Int(1e10 / flops)))
            let products: [(String, () -> Void, () -> Void)] = [
                ("X·Wᵀ", { GEMM.multiply(transA: .none, transB: .transposed, m: m, n: n, k: k, a: x, lda: k, b: w, ldb: k, c: &y, ldc: n) },
                 { DequantizedGEMM.multiplyTransposed(x: x, m: m, weight: nf4, y: &y, ldy: n) }),
                ("G·W", { GEMM.multiply(transA: .none, transB: .none, m: m, n: k, k: n, a: g, lda: n, b: w, ldb: k, beta: 1, c: &dx, ldc: k) },
                 { DequantizedGEMM.accumulateProduct(g: g, ldg: n, m: m, weight: nf4, dx: &dx) }),
            ]
            for (label, dense, fused) in products {
                let denseMs = Measure.medianMilliseconds(repetitions: repetitions, dense)
                let fusedMs = Measure.medianMilliseconds(repetitions: repetitions, fused)
                let (denseRate, fusedRate) = (flops / denseMs / 1e6, flops / fusedMs / 1e6)
                Measure.emitJSON(["bench": "nf4", "m": m, "n": n, "k": k, "product": label,
                                  "fp32_gflops": (denseRate * 10).rounded() / 10, "nf4_gflops": (fusedRate * 10).rounded() / 10,
                                  "fp32_weight_bytes": n * k * 4, "nf4_weight_bytes": nf4.byteCount])
                print(Measure.pad("\(m)×\(n)×\(k)", 18) + Measure.pad(label, 9) + Measure.pad(String(format: "%.1f GFLOP/s", denseRate), 14)
                      + Measure.pad(String(format: "%.1f GFLOP/s", fusedRate), 14) + Measure.pad(String(format: "%.2fx", fusedRate / denseRate), 10)
                      + String(format: "%.0f KB → %.0f KB (%.2fx fewer)", Double(n * k * 4) / 1e3, Double(nf4.byteCount) / 1e3,
                               Double(n * k * 4) / Double(nf4.byteCount)))
            }
        }
    }
}
