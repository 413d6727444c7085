// GEMM+WideTile.swift — the AVX-512 register tile: 8 rows × 3 vectors of 16 floats (8 × 48).
//
// Teaches: how to size a register tile from the register file and the load ports. A tile of R rows ×
// V vectors holds R·V accumulators; each step of k loads V vectors of B and broadcasts R values of A
// (R + V loads) for R·V fused multiply-adds. With 32 zmm registers, 8 × 3 uses 24 for C, 3 for B and
// one for the broadcast, and does 24 multiply-adds per 11 loads — against the 6 × 2 tile's 12 per 8.
// Measured on an Intel Xeon with two 512-bit FMA units per core (2026-12-02, a C model of both loops
// on L1-resident panels, KC = 128): 6 × 2 ran at ~70% of the FMA peak, 8 × 3 at ~90%.
// The tile is wider than it is tall because B is the operand it reuses: each step loads three vectors
// of the B sliver and only eight floats of A, so the sliver (KC × 48 floats) is what must stay close
// while the A panels stream past it. The driver packs it 512 deep (96 KB, streamed from L2: `PackedGEMM.kc`
// says why that is affordable) and calls this kernel on 128-deep pieces of it (`PackedGEMM.sumDepth`), the
// depth of the 6 × 32 tile it replaced, so every C element is still summed in the same order and results
// are unchanged, bit for bit.
// The last sliver of B is often narrower than 48 (n = 256 leaves 16 columns: 5 whole slivers and one
// third of a sixth). A full tile there would do 48 columns of work for 16 — 11% of all the multiply-adds
// of a 2048 × 256 product wasted — so a sliver whose width is whole vectors goes through the 8 × 16
// strip kernel, one vector of B at a time, straight into C.
// Leaves out: edge tiles narrower than a vector or shorter than 8 rows (they go through the scratch tile
// of the macro-kernel) and a NEON version (arm64 keeps the 6 × 16 tile).
import SIMDWidth

/// The 8 × 48 micro-kernel on `SIMD16<Float>` (zmm registers), used by the packed GEMM when the build
/// targets AVX-512 (`GEMMTile.usesSIMD16`; `PackedGEMM.wide` for the vector type).
enum WideTile {
    /// Rows (of A) and columns (of B) of the tile.
    static let rows = 8, columns = 48

    /// C[0..<8, 0..<48] = α·Σ_p a[p]·b[p] + β·C, where `a` is an 8-tall packed A panel ([k, 8]) and `b` a
    /// 48-wide packed B sliver ([k, 48]); C has row stride `ldc`. When β = 0, C is not read.
    /// Never inlined: one copy, whose 24 accumulators stay in registers.
    @inline(never)
    static func multiply(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, k: Int, alpha: Float, beta: Float,
                         c: UnsafeMutablePointer<Float>, ldc: Int) {
        typealias V = SIMD16<Float>
        let width = MemoryLayout<V>.size
        // Start fetching the C tile now (it is touched only after the k loop): 3 cache lines a row.
        for row in 0..<rows {
            let start = c + row &* ldc
            tinytune_prefetch_for_write(start)
            tinytune_prefetch_for_write(start + 16)
            tinytune_prefetch_for_write(start + 32)
        }
        var c00 = V(), c01 = V(), c02 = V(), c10 = V(), c11 = V(), c12 = V()
        var c20 = V(), c21 = V(), c22 = V(), c30 = V(), c31 = V(), c32 = V()
        var c40 = V(), c41 = V(), c42 = V(), c50 = V(), c51 = V(), c52 = V()
        var c60 = V(), c61 = V(), c62 = V(), c70 = V(), c71 = V(), c72 = V()
        var pa = a, pb = UnsafeRawPointer(b)
        for _ in 0..<k {
            // Three vectors of this step's B row, then each A value broadcast against all three.
            let b0 = pb.loadUnaligned(as: V.self)
            let b1 = pb.loadUnaligned(fromByteOffset: width, as: V.self)
            let b2 = pb.loadUnaligned(fromByteOffset: 2 &* width, as: V.self)
            var x = V(repeating: pa[0]); c00.addProduct(x, b0); c01.addProduct(x, b1); c02.addProduct(x, b2)
            x = V(repeating: pa[1]); c10.addProduct(x, b0); c11.addProduct(x, b1); c12.addProduct(x, b2)
            x = V(repeating: pa[2]); c20.addProduct(x, b0); c21.addProduct(x, b1); c22.addProduct(x, b2)
            x = V(repeating: pa[3]); c30.addProduct(x, b0); c31.addProduct(x, b1); c32.addProduct(x, b2)
            x = V(repeating: pa[4]); c40.addProduct(x, b0); c41.addProduct(x, b1); c42.addProduct(x, b2)
            x = V(repeating: pa[5]); c50.addProduct(x, b0); c51.addProduct(x, b1); c52.addProduct(x, b2)
            x = V(repeating: pa[6]); c60.addProduct(x, b0); c61.addProduct(x, b1); c62.addProduct(x, b2)
            x = V(repeating: pa[7]); c70.addProduct(x, b0); c71.addProduct(x, b1); c72.addProduct(x, b2)
            pa += 8
            pb += 3 &* width
        }
        let (va, vb, readC) = (V(repeating: alpha), V(repeating: beta), beta != 0)
        store(c, ldc: ldc, row: 0, c00, c01, c02, va, vb, readC: readC)
        store(c, ldc: ldc, row: 1, c10, c11, c12, va, vb, readC: readC)
        store(c, ldc: ldc, row: 2, c20, c21, c22, va, vb, readC: readC)
        store(c, ldc: ldc, row: 3, c30, c31, c32, va, vb, readC: readC)
        store(c, ldc: ldc, row: 4, c40, c41, c42, va, vb, readC: readC)
        store(c, ldc: ldc, row: 5, c50, c51, c52, va, vb, readC: readC)
        store(c, ldc: ldc, row: 6, c60, c61, c62, va, vb, readC: readC)
        store(c, ldc: ldc, row: 7, c70, c71, c72, va, vb, readC: readC)
    }

    /// One finished row of the tile: C[row, 0..<48] = α·(v0, v1, v2) + β·C[row, 0..<48] — the same
    /// operations, in the same order, as the 6 × 2 tile's store, so the two tiles agree bit for bit.
    @inline(__always)
    static func store(_ c: UnsafeMutablePointer<Float>, ldc: Int, row: Int, _ v0: SIMD16<Float>, _ v1: SIMD16<Float>,
                      _ v2: SIMD16<Float>, _ alpha: SIMD16<Float>, _ beta: SIMD16<Float>, readC: Bool) {
        typealias V = SIMD16<Float>
        let width = MemoryLayout<V>.size
        let raw = UnsafeMutableRawPointer(c + row &* ldc)
        if readC {
            let old0 = UnsafeRawPointer(raw).loadUnaligned(as: V.self)
            let old1 = UnsafeRawPointer(raw).loadUnaligned(fromByteOffset: width, as: V.self)
            let old2 = UnsafeRawPointer(raw).loadUnaligned(fromByteOffset: 2 &* width, as: V.self)
            raw.storeBytes(of: (v0 * alpha).addingProduct(old0, beta), as: V.self)
            raw.storeBytes(of: (v1 * alpha).addingProduct(old1, beta), toByteOffset: width, as: V.self)
            raw.storeBytes(of: (v2 * alpha).addingProduct(old2, beta), toByteOffset: 2 &* width, as: V.self)
        } else {
            raw.storeBytes(of: v0 * alpha, as: V.self)
            raw.storeBytes(of: v1 * alpha, toByteOffset: width, as: V.self)
            raw.storeBytes(of: v2 * alpha, toByteOffset: 2 &* width, as: V.self)
        }
    }

    /// C[0..<8, 0..<16] = α·Σ_p a[p]·b[p] + β·C for one 16-column strip of a packed B sliver: `b` points
    /// at the strip's first column and steps `bStride` floats (the sliver's width, 48) per p. Each C
    /// element is summed over p in the same order, and stored with the same α, β arithmetic, as by the
    /// 8 × 48 tile, so a column gets the same bits whichever kernel computed it.
    @inline(never)
    static func multiplyStrip(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, bStride: Int, k: Int, alpha: Float,
                              beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
        typealias V = SIMD16<Float>
        var c0 = V(), c1 = V(), c2 = V(), c3 = V(), c4 = V(), c5 = V(), c6 = V(), c7 = V()
        var pa = a, pb = UnsafeRawPointer(b)
        let step = bStride &* MemoryLayout<Float>.size
        for _ in 0..<k {
            // One vector of this step's B row against the eight A values.
            let b0 = pb.loadUnaligned(as: V.self)
            c0.addProduct(V(repeating: pa[0]), b0); c1.addProduct(V(repeating: pa[1]), b0)
            c2.addProduct(V(repeating: pa[2]), b0); c3.addProduct(V(repeating: pa[3]), b0)
            c4.addProduct(V(repeating: pa[4]), b0); c5.addProduct(V(repeating: pa[5]), b0)
            c6.addProduct(V(repeating: pa[6]), b0); c7.addProduct(V(repeating: pa[7]), b0)
            pa += 8
            pb += step
        }
        let (va, vb) = (V(repeating: alpha), V(repeating: beta))
        // Row `row` of the strip: α·value, plus β·C when β ≠ 0.
        func store(_ row: Int, _ value: V) {
            let raw = UnsafeMutableRawPointer(c + row &* ldc)
            let scaled = value * va
            raw.storeBytes(of: beta != 0 ? scaled.addingProduct(UnsafeRawPointer(raw).loadUnaligned(as: V.self), vb) : scaled,
                           as: V.self)
        }
        store(0, c0); store(1, c1); store(2, c2); store(3, c3); store(4, c4); store(5, c5); store(6, c6); store(7, c7)
    }
}
