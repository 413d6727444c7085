// GEMMBench.swift — GFLOP/s of the packed GEMM at 1 and 2 threads, square and transformer shapes.
import Foundation
import Kernels

enum GEMMBench {
    /// Square sizes, then the three GEMMs of a Linear layer (forward NT, backward-data NN, backward-weight TN)
    /// at transformer shapes [2048, 256]×[256, 768] and [2048, 768]×[768, 256].
    static func shapes(quick: Bool) -> [(m: Int, n: Int, k: Int, ta: Transpose, tb: Transpose)] {
        let squares = (quick ? [128, 512, 1024] : [64, 128, 256, 512, 1024, 2048]).map { ($0, $0, $0, Transpose.none, Transpose.none) }
        let transformer: [(Int, Int, Int, Transpose, Transpose)] = [
            (2048, 768, 256, .none, .none), (2048, 768, 256, .none, .transposed), (2048, 256, 768, .none, .none),
            (2048, 256, 768, .none, .transposed), (256, 768, 2048, .transposed, .none), (768, 256, 2048, .transposed, .none),
        ]
        return squares + transformer
    }

    /// The shapes named by `--shape=MxNxK[:OP][,MxNxK[:OP]…]` (OP is NN, NT, TN or TT), for studying a
    /// few cases; nil when the option is absent. Bad text is reported and the process exits with status 2.
    static func requestedShapes(_ arguments: [String]) -> [(m: Int, n: Int, k: Int, ta: Transpose, tb: Transpose)]? {
        guard let option = arguments.first(where: { $0.hasPrefix("--shape=") }) else { return nil }
        let transpose = { (c: Character) in c == "T" ? Transpose.transposed : Transpose.none }
        return option.dropFirst("--shape=".count).split(separator: ",").map { text in
            let parts = text.split(separator: ":")
            let sizes = parts.first.map { $0.split(separator: "x").compactMap { Int($0) } } ?? []
            let op = Array(parts.count > 1 ? String(parts[1]) : "NN")
            guard sizes.count == 3, sizes.allSatisfy({ $0 > 0 }), op.count == 2, op.allSatisfy({ $0 == "N" || $0 == "T" }) else {
                FileHandle.standardError.write(Data("bench gemm: --shape wants MxNxK[:NN|NT|TN|TT], got '\(text)'\n".utf8))
                exit(2)
            }
            return (sizes[0], sizes[1], sizes[2], transpose(op[0]), transpose(op[1]))
        }
    }

    static func run(quick: Bool, arguments: [String] = []) {
        print("GEMM — C[M,N] = op(A)·op(B), Float32, median of several runs")
        print(Measure.pad("M×N×K", 18) + Measure.pad("op", 5) + Measure.pad("1 thread", 14) + Measure.pad("2 threads", 14) + "speed-up")
        let chosen = requestedShapes(arguments) ?? shapes(quick: quick)
        for (m, n, k, ta, tb) in chosen {
            let a = [Float](repeating: 0.5, count: m * k), b = [Float](repeating: 0.25, count: k * n)
            var c = [Float](repeating: 0, count: m * n)
            let (lda, ldb) = (ta == .none ? k : m, tb == .none ? n : k)
            let flops = 2.0 * Double(m) * Double(n) * Double(k)
            let repetitions = max(3, min(50, Int(2e10 / flops)))
            var rates: [Double] = []
            let op = (ta == .none ? "N" : "T") + (tb == .none ? "N" : "T")
            for threads in [1, 2] {
                let ms = Measure.medianMilliseconds(repetitions: repetitions) {
                    GEMM.multiply(transA: ta, transB: tb, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb,
                                  c: &c, ldc: n, threads: threads)
                }
                let gflops = flops / ms / 1e6
                rates.append(gflops)
                Measure.emitJSON(["bench": "gemm", "m": m, "n": n, "k": k, "trans": op, "threads": threads,
                                  "gflops": (gflops * 10).rounded() / 10, "median_ms": (ms * 1000).rounded() / 1000])
            }
            print(Measure.pad("\(m)×\(n)×\(k)", 18) + Measure.pad(op, 5) + Measure.pad(String(format: "%.1f GFLOP/s", rates[0]), 14)
                  + Measure.pad(String(format: "%.1f GFLOP/s", rates[1]), 14) + String(format: "%.2fx", rates[1] / rates[0]))
        }
    }
}
