// GEMM+Prepacked.swift — a frozen weight packed once, for inference: x·Wᵀ without packing W every call.
//
// Teaches: what a BLAS's "packed matrix" API buys a model that only runs forward. Every call of the
// packed GEMM copies W into NR-wide slivers (transposing it, for a layer's x·Wᵀ) before multiplying.
// In training W changes every step, so that copy is unavoidable; in generation it never changes, yet a
// 64-token prefill of SmolLM2 spent about a fifth of its time re-packing the same weights (measured:
// skipping the packing made the prefill 14–23% faster). Packing once, when the model is prepared for
// inference, removes that work. The layout is the sliver order the GEMM itself uses,
//   panels [ceil(rows / NR)][columns][NR]   (sliver q: rows q·NR ..< q·NR + NR of W, one NR-wide row per input feature)
// so the same micro-kernel runs on it and every output is bitwise the same as the unpacked product
// (for more than `SkinnyGEMM.maxRows` input rows). A decode step (a few rows) streams the slivers
// front to back with one accumulator set per row — like SkinnyGEMM, bound by reading W once, but with
// its own summation order (results agree to rounding, not bit for bit).
// The packed copy replaces the dense weight (the layer keeps an empty placeholder), so memory does not
// grow; the cost is that the layer is then inference-only: no gradient, no export from it.
// Leaves out: prepacking for the row-split schedule's depth blocks (long prompts use the column
// schedule here too; not measured against the row-split one at long prompts), and the memory meter
// (it does not see these bytes).

/// W [rows, columns] (a layer's [out, in]) in the packed GEMM's Bᵀ sliver order, for y = x·Wᵀ.
public final class PrepackedWeight: @unchecked Sendable {
    /// Output features (rows of W) and input features (columns of W).
    public let rows: Int, columns: Int
    /// Slivers [ceil(rows / NR)][columns][NR], zero-padded past `rows`.
    let panels: UnsafeMutablePointer<Float>
    /// NR: the sliver width of the build's micro-kernel.
    let sliverWidth: Int

    /// Packs the row-major `weight` [rows, columns] (read once; not kept).
    public init(_ weight: UnsafePointer<Float>, rows: Int, columns: Int) {
        require(rows > 0 && columns > 0, "PrepackedWeight: empty weight [\(rows), \(columns)]")
        let nr = GEMMTile.usesSIMD16 ? PackedGEMM<SIMD16<Float>>.nr : PackedGEMM<SIMD8<Float>>.nr
        let slivers = (rows + nr - 1) / nr
        (self.rows, self.columns, sliverWidth) = (rows, columns, nr)
        panels = UnsafeMutablePointer<Float>.allocate(capacity: slivers * columns * nr)
        for q in 0..<slivers {
            let width = min(nr, rows - q * nr)
            if GEMMTile.usesSIMD16 {
                PackedGEMM<SIMD16<Float>>.packB(weight + q * nr * columns, rowStride: 1, colStride: columns, k: columns,
                                                n: width, into: panels + q * columns * nr)
            } else {
                PackedGEMM<SIMD8<Float>>.packB(weight + q * nr * columns, rowStride: 1, colStride: columns, k: columns,
                                               n: width, into: panels + q * columns * nr)
            }
        }
    }

    deinit { panels.deallocate() }

    /// Bytes held (the padded slivers).
    public var byteCount: Int { (rows + sliverWidth - 1) / sliverWidth * sliverWidth * columns * MemoryLayout<Float>.stride }
}

extension GEMM {
    /// C[m, rows] = X[m, columns] · Wᵀ (β = 0: C is not read) with W prepacked; X has row stride `lda`,
    /// C row stride `ldc`. Threads split the slivers; results do not depend on the thread count.
    public static func multiplyPrepacked(x: UnsafePointer<Float>, lda: Int, m: Int, weight: PrepackedWeight,
                                         c: UnsafeMutablePointer<Float>, ldc: Int, threads: Int? = nil) {
        guard m > 0 else { return }
        let budget = threads ?? Parallelism.threads
        if GEMMTile.usesSIMD16 {
            PackedGEMM<SIMD16<Float>>.multiplyPrepacked(x: x, lda: lda, m: m, weight: weight, c: c, ldc: ldc, budget: budget)
        } else {
            PackedGEMM<SIMD8<Float>>.multiplyPrepacked(x: x, lda: lda, m: m, weight: weight, c: c, ldc: ldc, budget: budget)
        }
    }
}

extension PackedGEMM {
    /// The prepacked product for this vector type (see `GEMM.multiplyPrepacked`).
    static func multiplyPrepacked(x: UnsafePointer<Float>, lda: Int, m: Int, weight: PrepackedWeight,
                                  c: UnsafeMutablePointer<Float>, ldc: Int, budget: Int) {
        let (n, k) = (weight.rows, weight.columns)
        if m <= SkinnyGEMM.maxRows {
            // Decode: stream W once; a thread pays off per 512 KB of W (as in SkinnyGEMM).
            streamPrepacked(x: x, lda: lda, m: m, weight: weight, c: c, ldc: ldc,
                            threads: max(1, min(budget, n * k / 131_072)))
            return
        }
        // Otherwise the column schedule over every row, its slivers read from the prepacked panels.
        let threads = max(1, min(budget, m * n * k / 2_000_000))
        let shared = Shared(a: x, b: UnsafePointer(weight.panels), c: c, packedB: weight.panels)
        let rowBlock = balancedRowBlock(m: m, threads: threads)
        for jc in stride(from: 0, to: n, by: nc) {
            let ncBlock = min(nc, n - jc)
            columnChunks(shared, rsA: lda, csA: 1, rsB: 0, csB: 0, m: m, k: k, jc: jc, ncBlock: ncBlock,
                         panels: (ncBlock + nr - 1) / nr, rowBlock: rowBlock, alpha: 1, beta: 0, ldc: ldc,
                         threads: threads, prepacked: true)
        }
    }

    /// C[i, :] = X[i, :] · Wᵀ for m ≤ `SkinnyGEMM.maxRows` rows: each sliver is read front to back, every
    /// input feature p adding x[i, p] times its NR-wide row to NR/lanes vector accumulators per row.
    static func streamPrepacked(x: UnsafePointer<Float>, lda: Int, m: Int, weight: PrepackedWeight,
                                c: UnsafeMutablePointer<Float>, ldc: Int, threads: Int) {
        let (n, k) = (weight.rows, weight.columns)
        let slivers = (n + nr - 1) / nr, lanes = V.scalarCount
        let shared = Shared(a: x, b: UnsafePointer(weight.panels), c: c, packedB: weight.panels)
        let work: @Sendable (Int) -> Void = { part in
            let three = nr / lanes == 3   // the wide tile's slivers are 3 vectors wide, the others 2
            var result = [Float](repeating: 0, count: nr)
            for q in (slivers * part / threads)..<(slivers * (part + 1) / threads) {
                let sliver = shared.b + q * k * nr, width = min(nr, n - q * nr)
                for i in 0..<m {
                    let row = shared.a + i * lda
                    var (s0, s1, s2) = (V(), V(), V())
                    var pb = UnsafeRawPointer(sliver)
                    for p in 0..<k {
                        let value = V(repeating: row[p])
                        s0.addProduct(value, pb.loadUnaligned(as: V.self))
                        s1.addProduct(value, pb.loadUnaligned(fromByteOffset: lanes * 4, as: V.self))
                        if three { s2.addProduct(value, pb.loadUnaligned(fromByteOffset: 2 * lanes * 4, as: V.self)) }
                        pb += nr * 4
                    }
                    // The sliver's outputs; a partial last sliver keeps only its real columns.
                    for j in 0..<lanes { result[j] = s0[j]; result[lanes + j] = s1[j] }
                    if three { for j in 0..<lanes { result[2 * lanes + j] = s2[j] } }
                    let out = shared.c + i * ldc + q * nr
                    for j in 0..<width { out[j] = result[j] }
                }
            }
        }
        if threads > 1 {
            Parallelism.noteSplit(threads)
            Parallelism.perform(iterations: threads, work)
        } else {
            work(0)
        }
    }
}
