// GEMM+Packed.swift — a fast single-precision GEMM: packed panels, a register tile sized for the CPU, threads.
//
// Teaches: why a textbook triple loop runs at ~1 GFLOP/s and a BLAS at ~100 per core. The work is
// the same 2·M·N·K flops; what changes is memory traffic.
//  1. Blocking: C is computed in blocks so that a KC×NR sliver of B stays close (L1 for the 6 × 16 tile,
//     L2 for the wide tile: see `kc`), an MC×KC block of A in L2 and the C rows it updates in L2 while
//     they are reused.
//  2. Packing: the blocks are copied once into contiguous, tile-ordered buffers (this is also where
//     transposes are absorbed: op(A) and op(B) are read through their strides while packing).
//  3. The micro-kernel: a 6 × (2 vectors) tile of C lives in 12 vector registers; each step of k loads
//     two vectors of B and broadcasts 6 values of A: 12 fused multiply-adds per 8 loads. The vector
//     type is the one generic parameter: `SIMD8<Float>` gives the AVX2 6×16 tile (ymm registers; on
//     arm64 each SIMD8 is a pair of NEON registers), `SIMD16<Float>` the AVX-512 tile, which has 32
//     registers to fill and so is larger: 8 × (3 vectors), in GEMM+WideTile.swift.
//     `GEMMTile` (GEMM.swift) picks one from the SIMD width the build targets.
//  4. Threads: independent C blocks go to different cores; each C element is always summed in the
//     same k order, so results are bitwise identical for any thread count.
// A weight that never changes (inference) can be packed once instead: GEMM+Prepacked.swift.
// Leaves out: assembly, and narrower kernels for most edge tiles (they go through a scratch tile; the
// wide tile's last sliver of whole vectors has its strip kernel, GEMM+WideTile.swift).
import Foundation
import SIMDWidth

/// The blocked driver and its micro-kernel, for register vectors `V` (SIMD8 or SIMD16 of Float).
enum PackedGEMM<V: SIMD> where V.Scalar == Float {
    /// Whether this vector type uses the AVX-512 tile (8 × 48, GEMM+WideTile.swift).
    static var wide: Bool { V.scalarCount >= 16 }
    /// Rows and columns of the register tile: 6 rows × 2 vectors, or the wide tile's 8 × 3 vectors.
    static var mr: Int { wide ? WideTile.rows : 6 }
    static var nr: Int { wide ? WideTile.columns : 2 * V.scalarCount }
    /// Block sizes: KC (depth of a packed block), MC (rows of A per L2 block, a multiple of MR), NC
    /// (columns per B panel, a multiple of NR; 768 keeps a row block's C rows and the slivers it is
    /// multiplying inside a 1 MB L2; at 1536 with KC = 128, 2048³ ran 7% slower on Zen 5). KC is 256 for
    /// the 6 × 16 tile, whose KC×NR sliver of B (16 KB) stays in L1. The wide tile packs KC = 512: its
    /// sliver (96 KB) no longer fits in L1 and streams from L2, which it can afford — each step of k
    /// loads 192 bytes of B for 24 multiply-adds, 12–24 cycles of FMA work, 8–16 bytes a cycle against an
    /// L2 that delivers 32–64 — and a deeper block means 4× fewer depth blocks: C comes from memory 4×
    /// less often, and at 2 threads the pack-then-multiply barrier is crossed 4× less often. Measured on
    /// Zen 4 (2026-12-04, `bench gemm`, KC 128 → 512 with 128-deep summation): 2 threads 1024³ 176–200 →
    /// 208–210 GFLOP/s, 256×768×2048 TN 188 → 188–202; 1 thread 2048³ 100–105 → 105–107.
    static var kc: Int { wide ? 512 : 256 }
    /// The summation block: each C element is summed over `sumDepth` steps of k in registers, and the
    /// partial sums are added to C block after block (the micro-kernel's α·sum + β·C, β once on the first).
    /// This, not the tile shape or MC/NC/KC, is what results depend on; it is 128 for the wide tile,
    /// as when the wide tile packed 128-deep blocks, so the deeper packing changed no result.
    static var sumDepth: Int { 2048 / V.scalarCount }
    static var mc: Int { 72 }
    static var nc: Int { 768 }

    /// Pointers made sendable for the worker closures (the caller guarantees disjoint writes).
    struct Shared: @unchecked Sendable {
        let a: UnsafePointer<Float>, b: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>
        let packedB: UnsafeMutablePointer<Float>
    }

    static func multiply(transA: Transpose, transB: Transpose, m: Int, n: Int, k: Int, alpha: Float,
                         a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                         beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int, threads: Int) {
        // op(A)[i, p] = a[i·rsA + p·csA]; op(B)[p, j] = b[p·rsB + j·csB].
        let (rsA, csA) = transA == .none ? (lda, 1) : (1, lda)
        let (rsB, csB) = transB == .none ? (ldb, 1) : (1, ldb)
        // Sized for this product, not the largest block: a small GEMM then needs a small buffer (a
        // 1.5 MB allocation per call is an mmap and page faults every time).
        // Allocated only if the row-split schedule runs (the column schedule packs into its own buffers):
        // every allocation here is one more trip through the allocator's lock for the threads that
        // call small GEMMs side by side (attention heads).
        _ = HeapReuse.isApplied
        var rowSplitBuffer: UnsafeMutablePointer<Float>?
        defer { rowSplitBuffer?.deallocate() }

        let rowBlock = balancedRowBlock(m: m, threads: threads)
        let rowBlocks = (m + rowBlock - 1) / rowBlock
        for jc in stride(from: 0, to: n, by: nc) {
            let ncBlock = min(nc, n - jc)
            let panels = (ncBlock + nr - 1) / nr
            if rowBlocks < 2 * threads && panels >= 2 {
                // Few rows (a prefill's 64 tokens, a small batch): split the columns instead. Each chunk
                // packs its own slivers of B and runs the whole depth over every row block — one job for
                // the panel, no wait between packing and computing, and the packed slivers stay in the
                // cache of the core that uses them (on one thread too: 1.5 MB of packed B would not).
                // (`packedB` is not read by the column schedule unless it is given prepacked slivers.)
                columnChunks(Shared(a: a, b: b, c: c, packedB: c), rsA: rsA, csA: csA, rsB: rsB, csB: csB, m: m, k: k, jc: jc, ncBlock: ncBlock,
                             panels: panels, rowBlock: rowBlock, alpha: alpha, beta: beta, ldc: ldc, threads: threads)
                continue
            }
            let packedB = rowSplitBuffer ?? UnsafeMutablePointer<Float>.allocate(capacity: min(kc, k) * ((min(nc, n) + nr - 1) / nr) * nr)
            rowSplitBuffer = packedB
            let shared = Shared(a: a, b: b, c: c, packedB: packedB)
            for pc in stride(from: 0, to: k, by: kc) {
                let kcBlock = min(kc, k - pc)
                // β applies once, on the first depth block; later blocks accumulate.
                let betaHere: Float = pc == 0 ? beta : 1
                // Pack this B panel, its NR-wide slivers split over the threads.
                let packers = threads > 1 && panels >= 2 * threads ? threads : 1
                let bOffset = pc * rsB + jc * csB
                let pack: @Sendable (Int) -> Void = { part in
                    let first = panels * part / packers, end = panels * (part + 1) / packers
                    packB(shared.b + bOffset + first * nr * csB, rowStride: rsB, colStride: csB, k: kcBlock,
                          n: min(end * nr, ncBlock) - first * nr, into: shared.packedB + first * nr * kcBlock)
                }
                Parallelism.noteSplit(packers)
                if packers > 1 { Parallelism.perform(iterations: packers, pack) } else { pack(0) }
                // Work items: the row blocks of A, each against the whole packed B panel.
                let work: @Sendable (Int) -> Void = { ib in
                    let ic = ib * rowBlock, mcBlock = min(rowBlock, m - ic)
                    let packedA = UnsafeMutablePointer<Float>.allocate(capacity: rowBlock * kcBlock)
                    defer { packedA.deallocate() }
                    packA(shared.a + ic * rsA + pc * csA, rowStride: rsA, colStride: csA, m: mcBlock, k: kcBlock, into: packedA)
                    macroKernel(packedA: packedA, packedB: shared.packedB, m: mcBlock, n: ncBlock, k: kcBlock,
                                alpha: alpha, beta: betaHere, c: shared.c + ic * ldc + jc, ldc: ldc)
                }
                if threads > 1 && rowBlocks > 1 {
                    Parallelism.noteSplit(threads)
                    Parallelism.perform(iterations: rowBlocks, work)
                } else {
                    for ib in 0..<rowBlocks { work(ib) }
                }
            }
        }
    }

    /// The column-split schedule for a B panel of `ncBlock` columns at `jc` when the rows are few. A is
    /// small then (at most a few hundred rows), so all of it is packed once, up front, for every depth
    /// block (a copy the size of op(A), padded to whole row blocks). The columns go out in chunks — at
    /// least 2 per thread, and at most 16 NR-wide slivers each — and each chunk packs its slivers of B
    /// one at a time, for the whole depth, into a buffer of its own, and multiplies every row block by
    /// each. Every C tile still sums its depth blocks in order with the same micro-kernel, so the result
    /// equals the row-split schedule's bit for bit, for any thread count. With `prepacked`, `packedB`
    /// already holds B in sliver order for the whole depth (GEMM+Prepacked.swift) and nothing is packed.
    static func columnChunks(_ shared: Shared, rsA: Int, csA: Int, rsB: Int, csB: Int, m: Int, k: Int, jc: Int,
                             ncBlock: Int, panels: Int, rowBlock: Int, alpha: Float, beta: Float, ldc: Int, threads: Int,
                             prepacked: Bool = false) {
        let depth = min(kc, k), depthBlocks = (k + kc - 1) / kc, rowBlocks = (m + rowBlock - 1) / rowBlock
        let chunks = min(panels, max(2 * threads, (panels + 15) / 16))
        // 1. A, packed once: block (depth block d, row block ib) at (d·rowBlocks + ib)·rowBlock·KC. On one
        //    thread the same allocation also holds the one sliver buffer all chunks reuse.
        let aCount = depthBlocks * rowBlocks * rowBlock * depth
        let serialSliver = threads == 1 && !prepacked
        let packedA = UnsafeMutablePointer<Float>.allocate(capacity: aCount + (serialSliver ? k * nr : 0))
        defer { packedA.deallocate() }
        for d in 0..<depthBlocks {
            for ib in 0..<rowBlocks {
                let (pc, ic) = (d * kc, ib * rowBlock)
                packA(shared.a + ic * rsA + pc * csA, rowStride: rsA, colStride: csA, m: min(rowBlock, m - ic),
                      k: min(kc, k - pc), into: packedA + (d * rowBlocks + ib) * rowBlock * depth)
            }
        }
        // `packedB`: the prepacked slivers, or (one thread) the shared sliver buffer.
        let packed = Shared(a: UnsafePointer(packedA), b: shared.b, c: shared.c,
                            packedB: prepacked ? shared.packedB : packedA + aCount)
        // 2. The column chunks. Within a chunk, one NR-wide sliver at a time is packed for the whole
        //    depth ([k, NR], 110 KB at k = 576, held in L2), then every depth block of it multiplies every
        //    row block: the sliver's source — NR rows of W in a layer's x·Wᵀ — is read front to back,
        //    the order the hardware prefetcher follows, and the next sliver's source is fetched into L2
        //    while this one is multiplied, so the memory traffic of packing overlaps the multiply-adds.
        let work: @Sendable (Int) -> Void = { chunk in
            let firstPanel = panels * chunk / chunks, endPanel = panels * (chunk + 1) / chunks
            let owned = prepacked || serialSliver ? nil : UnsafeMutablePointer<Float>.allocate(capacity: k * nr)
            defer { owned?.deallocate() }
            for panel in firstPanel..<endPanel {
                let column = panel * nr, width = min(nr, ncBlock - column)
                let sliver: UnsafePointer<Float>
                if prepacked {
                    // A prepacked weight (GEMM+Prepacked.swift, passed as `packedB`): already in this order.
                    sliver = UnsafePointer(packed.packedB) + ((jc + column) / nr) * k * nr
                } else {
                    let buffer = owned ?? packed.packedB
                    let source = packed.b + (jc + column) * csB
                    packB(source, rowStride: rsB, colStride: csB, k: k, n: width, into: buffer)
                    if panel + 1 < endPanel { prefetchSliver(source + nr * csB, rowStride: rsB, colStride: csB, k: k) }
                    sliver = UnsafePointer(buffer)
                }
                for d in 0..<depthBlocks {
                    let pc = d * kc, kcBlock = min(kc, k - pc)
                    for ib in 0..<rowBlocks {
                        let ic = ib * rowBlock
                        macroKernel(packedA: packed.a + (d * rowBlocks + ib) * rowBlock * depth, packedB: sliver + pc * nr,
                                    m: min(rowBlock, m - ic), n: width, k: kcBlock, alpha: alpha, beta: d == 0 ? beta : 1,
                                    c: packed.c + ic * ldc + jc + column, ldc: ldc)
                    }
                }
            }
        }
        if threads > 1 {
            Parallelism.noteSplit(threads)
            Parallelism.perform(iterations: chunks, work)
        } else {
            for chunk in 0..<chunks { work(chunk) }
        }
    }

    /// Starts fetching (into L2) the source of the NR-wide B sliver at `b`, depth `k`: for Bᵀ as stored,
    /// NR columns of `k` contiguous floats; for B as stored, `k` rows of NR contiguous floats.
    static func prefetchSliver(_ b: UnsafePointer<Float>, rowStride: Int, colStride: Int, k: Int) {
        let line = 16   // floats per 64-byte cache line
        if rowStride == 1 {
            for j in 0..<nr {
                let column = b + j &* colStride
                for p in stride(from: 0, to: k, by: line) { tinytune_prefetch_for_read(column + p) }
            }
        } else if colStride == 1 {
            for p in 0..<k {
                let row = b + p &* rowStride
                for j in stride(from: 0, to: nr, by: line) { tinytune_prefetch_for_read(row + j) }
            }
        }
    }

    /// Rows of A per work item: at most MC, a multiple of MR, and — when the rows split into only a few
    /// blocks — sized so the block count is a multiple of the thread count with nearly equal blocks
    /// (m = 256 on 2 threads: 4 blocks of 66, 66, 66, 58 rows instead of 72, 72, 72, 40, where one thread
    /// would do 144 rows and the other 112). Results do not depend on it: a block's rows are computed
    /// the same way whichever block they are in.
    static func balancedRowBlock(m: Int, threads: Int) -> Int {
        let blocks = (m + mc - 1) / mc
        guard threads > 1, blocks < 8 * threads else { return mc }
        let evenBlocks = (blocks + threads - 1) / threads * threads
        let panels = (m + mr - 1) / mr
        return max(mr, (panels + evenBlocks - 1) / evenBlocks * mr)
    }

    /// Packs op(B)[0..<k, 0..<n] into NR-wide panels: panel q holds, for each p, the NR values
    /// op(B)[p, q·NR ..< q·NR+NR] (zero-padded past n).   packed: [ceil(n/NR), k, NR]
    static func packB(_ b: UnsafePointer<Float>, rowStride: Int, colStride: Int, k: Int, n: Int,
                      into packed: UnsafeMutablePointer<Float>) {
        let width = MemoryLayout<V>.size
        var out = packed
        for j0 in stride(from: 0, to: n, by: nr) {
            let columns = min(nr, n - j0)
            let first = b + j0 &* colStride
            if colStride == 1 && columns == nr {
                // B as stored: each panel row is NR contiguous floats, two or three vector copies.
                let vectors = nr / V.scalarCount
                for p in 0..<k {
                    let row = UnsafeRawPointer(first + p &* rowStride)
                    let to = UnsafeMutableRawPointer(out)
                    for v in 0..<vectors {
                        to.storeBytes(of: row.loadUnaligned(fromByteOffset: v &* width, as: V.self),
                                      toByteOffset: v &* width, as: V.self)
                    }
                    out += nr
                }
            } else if rowStride == 1 && columns == nr {
                // Bᵀ as stored (a layer's x·Wᵀ): column j of the panel is contiguous in memory. Each
                // stripe of S = lanes columns is transposed S × S block by block down the depth, in
                // registers (GEMM+Transpose.swift); a depth left over past a multiple of S goes one
                // float at a time.
                let lanes = V.scalarCount, whole = k - k % lanes
                for j0 in stride(from: 0, to: nr, by: lanes) {
                    let stripe = first + j0 &* colStride
                    var p = 0
                    while p < whole {
                        BlockTranspose.transpose(lanes: lanes, stripe + p, sourceStride: colStride,
                                                 out + (p &* nr &+ j0), targetStride: nr)
                        p &+= lanes
                    }
                }
                for p in whole..<k {
                    for j in 0..<nr { out[p &* nr &+ j] = first[j &* colStride &+ p] }
                }
                out += k &* nr
            } else if rowStride == 1 {
                // The last, partial panel of Bᵀ: scatter each column with stride NR, zeros past n.
                for j in 0..<nr {
                    if j < columns {
                        let column = first + j &* colStride
                        for p in 0..<k { out[p &* nr &+ j] = column[p] }
                    } else {
                        for p in 0..<k { out[p &* nr &+ j] = 0 }
                    }
                }
                out += k &* nr
            } else {
                for p in 0..<k {
                    let row = first + p &* rowStride
                    for j in 0..<columns { out[j] = row[j &* colStride] }
                    for j in columns..<nr { out[j] = 0 }
                    out += nr
                }
            }
        }
    }

    /// Packs op(A)[0..<m, 0..<k] into MR-tall panels (MR = 6, or 8 for the wide tile): panel r holds, for
    /// each p, the MR values op(A)[r·MR ..< r·MR+MR, p] (zero-padded past m).   packed: [ceil(m/MR), k, MR]
    static func packA(_ a: UnsafePointer<Float>, rowStride: Int, colStride: Int, m: Int, k: Int,
                      into packed: UnsafeMutablePointer<Float>) {
        var out = packed
        var first = 0
        if rowStride == 1 && mr == 8 && m >= mr {
            // Aᵀ as stored (a weight gradient's xᵀ·dy): for each p the block's m values are contiguous. Walk
            // p once, copying the 8 floats of every full panel out of that row — each row of the source is
            // read once, front to back, instead of once per panel at a stride of a whole row.
            let panels = m / mr
            for p in 0..<k {
                let row = UnsafeRawPointer(a + p &* colStride)
                for r in 0..<panels {
                    UnsafeMutableRawPointer(packed + (r &* k &+ p) &* mr)
                        .storeBytes(of: row.loadUnaligned(fromByteOffset: r &* mr &* MemoryLayout<Float>.size, as: SIMD8<Float>.self), as: SIMD8<Float>.self)
                }
            }
            first = panels * mr
            out += panels &* k &* mr
        }
        for i0 in stride(from: first, to: m, by: mr) {
            let height = min(mr, m - i0)
            let top = a + i0 &* rowStride
            if height == mr && mr == 8 {
                // A full panel of the wide tile: eight fixed row pointers, one value of each per step of p.
                let r0 = top, r1 = top + rowStride, r2 = top + 2 &* rowStride, r3 = top + 3 &* rowStride
                let r4 = top + 4 &* rowStride, r5 = top + 5 &* rowStride
                let r6 = top + 6 &* rowStride, r7 = top + 7 &* rowStride
                var offset = 0
                for _ in 0..<k {
                    out[0] = r0[offset]; out[1] = r1[offset]; out[2] = r2[offset]; out[3] = r3[offset]
                    out[4] = r4[offset]; out[5] = r5[offset]; out[6] = r6[offset]; out[7] = r7[offset]
                    offset &+= colStride
                    out += mr
                }
            } else if height == mr {
                // A full panel: six fixed row pointers, one value of each per step of p (the loop the
                // compiler unrolls; a variable-height inner loop here cost ~15% of the GEMM).
                let r0 = top, r1 = top + rowStride, r2 = top + 2 &* rowStride
                let r3 = top + 3 &* rowStride, r4 = top + 4 &* rowStride, r5 = top + 5 &* rowStride
                var offset = 0
                for _ in 0..<k {
                    out[0] = r0[offset]; out[1] = r1[offset]; out[2] = r2[offset]
                    out[3] = r3[offset]; out[4] = r4[offset]; out[5] = r5[offset]
                    offset &+= colStride
                    out += mr
                }
            } else {
                for p in 0..<k {
                    let column = top + p &* colStride
                    for i in 0..<height { out[i] = column[i &* rowStride] }
                    for i in height..<mr { out[i] = 0 }
                    out += mr
                }
            }
        }
    }

    /// C[0..<m, 0..<n] = α·Ã·B̃ + β·C over packed blocks, tile by tile.
    static func macroKernel(packedA: UnsafePointer<Float>, packedB: UnsafePointer<Float>, m: Int, n: Int, k: Int,
                            alpha: Float, beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
        // The edge tiles' scratch lives on the stack: this runs once per sliver and block, on every
        // thread at once, and a heap allocation here made the threads queue on the allocator's lock
        // (the process uses one heap arena, HeapReuse.swift).
        withUnsafeTemporaryAllocation(of: Float.self, capacity: mr * nr) { buffer in
            guard let scratch = buffer.baseAddress else { return }
            macroKernel(packedA: packedA, packedB: packedB, m: m, n: n, k: k, alpha: alpha, beta: beta, c: c, ldc: ldc,
                        scratch: scratch)
        }
    }

    /// `macroKernel` with its edge-tile scratch (MR × NR floats) given. The depth runs in summation blocks
    /// of `sumDepth` (the last one shorter), tile by tile: the first applies β, each later one adds its
    /// partial sums to the C tile, which is still in L1 from the block before.
    static func macroKernel(packedA: UnsafePointer<Float>, packedB: UnsafePointer<Float>, m: Int, n: Int, k: Int,
                            alpha: Float, beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int,
                            scratch: UnsafeMutablePointer<Float>) {
        for j0 in stride(from: 0, to: n, by: nr) {
            let bPanel = packedB + (j0 / nr) &* k &* nr
            for i0 in stride(from: 0, to: m, by: mr) {
                let aPanel = packedA + (i0 / mr) &* k &* mr
                let (height, width) = (min(mr, m - i0), min(nr, n - j0))
                let cTile = c + i0 &* ldc + j0
                // Packed panels are depth-major ([k, MR] and [k, NR]), so depth p0 of a panel starts p0·MR
                // (or p0·NR) floats in. (Running one summation block of the sliver against every A panel
                // instead, so that the block stays in L1, measured no faster.)
                for p0 in stride(from: 0, to: k, by: sumDepth) {
                    let (a, b, depth) = (aPanel + p0 &* mr, bPanel + p0 &* nr, min(sumDepth, k - p0))
                    let betaHere: Float = p0 == 0 ? beta : 1
                    if height == mr && width == nr {
                        tile(a, b, k: depth, alpha: alpha, beta: betaHere, c: cTile, ldc: ldc)
                    } else if wide && height == mr && width % V.scalarCount == 0 {
                        // A narrow last sliver of whole vectors: only its own columns, one strip at a time.
                        for s in stride(from: 0, to: width, by: V.scalarCount) {
                            WideTile.multiplyStrip(a, b + s, bStride: nr, k: depth, alpha: alpha, beta: betaHere,
                                                   c: cTile + s, ldc: ldc)
                        }
                    } else {
                        // Edge tile: compute a full tile into scratch (β = 0), then merge the valid part.
                        tile(a, b, k: depth, alpha: alpha, beta: 0, c: scratch, ldc: nr)
                        for i in 0..<height {
                            let row = cTile + i &* ldc
                            for j in 0..<width {
                                row[j] = betaHere == 0 ? scratch[i &* nr &+ j] : scratch[i &* nr &+ j] + betaHere * row[j]
                            }
                        }
                    }
                }
            }
        }
    }

    /// One MR × NR tile of C: the wide tile's kernel for SIMD16, the 6 × 2V kernel below otherwise (the
    /// branch is on the vector type, so each specialisation keeps only its own call).
    @inline(__always)
    static func tile(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, k: Int, alpha: Float, beta: Float,
                     c: UnsafeMutablePointer<Float>, ldc: Int) {
        if wide {
            WideTile.multiply(a, b, k: k, alpha: alpha, beta: beta, c: c, ldc: ldc)
        } else {
            microKernel(a, b, k: k, alpha: alpha, beta: beta, c: c, ldc: ldc)
        }
    }

    /// The 6 × 2V register tile: C = α·Σ_p a[p]·b[p] + β·C with 12 vector accumulators.
    /// Never inlined: one copy, whose 12 accumulators the register allocator keeps in registers (inlined
    /// into both the full-tile and the edge-tile path it spilled them, halving the speed).
    @inline(never)
    static func microKernel(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, k: Int, alpha: Float, beta: Float,
                            c: UnsafeMutablePointer<Float>, ldc: Int) {
        let width = MemoryLayout<V>.size    // bytes of one vector: 32 (SIMD8) or 64 (SIMD16)
        // Start fetching the C tile now: it is read (β ≠ 0) or written only after the k loop, and a
        // cache miss there would stall the whole tile (C is large and was last touched long ago).
        let lastColumn: Int = nr &- 1
        for row in 0..<mr {
            let start: UnsafeMutablePointer<Float> = c + row &* ldc
            tinytune_prefetch_for_write(start)
            tinytune_prefetch_for_write(start + lastColumn)
        }
        var c00 = V(), c01 = V(), c10 = V(), c11 = V(), c20 = V(), c21 = V()
        var c30 = V(), c31 = V(), c40 = V(), c41 = V(), c50 = V(), c51 = V()
        var pa = a, pb = UnsafeRawPointer(b)
        for _ in 0..<k {
            let b0 = pb.loadUnaligned(as: V.self), b1 = pb.loadUnaligned(fromByteOffset: width, as: V.self)
            var x = V(repeating: pa[0]); c00.addProduct(x, b0); c01.addProduct(x, b1)
            x = V(repeating: pa[1]); c10.addProduct(x, b0); c11.addProduct(x, b1)
            x = V(repeating: pa[2]); c20.addProduct(x, b0); c21.addProduct(x, b1)
            x = V(repeating: pa[3]); c30.addProduct(x, b0); c31.addProduct(x, b1)
            x = V(repeating: pa[4]); c40.addProduct(x, b0); c41.addProduct(x, b1)
            x = V(repeating: pa[5]); c50.addProduct(x, b0); c51.addProduct(x, b1)
            pa += 6
            pb += 2 &* width
        }
        @inline(__always) func store(_ row: Int, _ lo: V, _ hi: V) {
            let raw = UnsafeMutableRawPointer(c + row &* ldc)
            // Vector-times-vector: `vector * scalar` compiled to one scalar multiply per lane here.
            let (a, b) = (V(repeating: alpha), V(repeating: beta))
            if beta == 0 {
                raw.storeBytes(of: lo * a, as: V.self)
                raw.storeBytes(of: hi * a, toByteOffset: width, as: V.self)
            } else {
                let oldLo = UnsafeRawPointer(raw).loadUnaligned(as: V.self)
                let oldHi = UnsafeRawPointer(raw).loadUnaligned(fromByteOffset: width, as: V.self)
                raw.storeBytes(of: (lo * a).addingProduct(oldLo, b), as: V.self)
                raw.storeBytes(of: (hi * a).addingProduct(oldHi, b), toByteOffset: width, as: V.self)
            }
        }
        store(0, c00, c01); store(1, c10, c11); store(2, c20, c21)
        store(3, c30, c31); store(4, c40, c41); store(5, c50, c51)
    }
}

extension GEMM {
    /// The packed GEMM with the tile `GEMMTile` chooses for the build target. (It sits in this file so
    /// that the generic driver is specialised for both vector types even in builds that compile file
    /// by file: a generic called from another file would run unspecialised, ~1000x slower.)
    static func packedMultiply(transA: Transpose, transB: Transpose, m: Int, n: Int, k: Int, alpha: Float,
                               a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                               beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int, threads: Int) {
        if GEMMTile.usesSIMD16 {
            PackedGEMM<SIMD16<Float>>.multiply(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
                                               a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc, threads: threads)
        } else {
            PackedGEMM<SIMD8<Float>>.multiply(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
                                              a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc, threads: threads)
        }
    }
}
