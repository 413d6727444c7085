// GEMM+Transpose.swift — square register transposes, for packing a transposed B (x·Wᵀ, a layer's forward).
//
// Teaches: how to transpose a block of floats inside the vector registers, with no scalar loads or
// stores. A linear layer computes y = x·Wᵀ with W stored [out, in], so the packed GEMM reads op(B) = Wᵀ:
// a column of op(B) is a row of W, contiguous in memory, while a packed panel wants rows of op(B).
// Gathering one float at a time runs at a third of a plain copy's speed (measured on the AVX-512 Xeon,
// 2026-12-02: packing a cold 576 × 1536 weight took 0.9–1.3 ms one float at a time, 0.4 ms as a copy)
// and, at a prefill's 64 rows, costs more than the multiply-adds that use the panel.
// The trick: treat an S × S block (S = the vector width) as S vectors and apply a *perfect unshuffle*
// to each pair (rows 2i and 2i+1, concatenated: even-indexed lanes go to row i, odd-indexed lanes to row
// i + S/2). Index each float by the 2·log₂S bits (row, column): one round rotates those bits right by
// one place, so log₂S rounds move the row bits to the column's place and back — a transpose.
//   S = 2, rows (a b)(c d): concatenated a b c d → evens a c, odds b d → rows (a c)(b d) = the transpose.
// Each pair costs two two-source shuffles (`vpermt2ps` on AVX-512); a 16 × 16 block takes 4 rounds of
// 16 — 64 shuffles for 256 floats, with 16 loads and 16 stores. Reading the rows of a 16-row stripe
// one block after another (rather than the whole panel width at each depth) keeps 16 memory streams
// open instead of 48, which the hardware prefetcher follows: 0.6 ms for the same cold weight.
// Leaves out: non-square blocks (the depth left over past a multiple of S is copied one float at a time).

/// S × S transposes of floats for S = 8 (SIMD8) and S = 16 (SIMD16).
enum BlockTranspose {
    /// Writes the transpose of the S × S block whose row r starts at `source + r·sourceStride` into
    /// `target`: row q of the result (at `target + q·targetStride`) is (source[r·sourceStride + q] for r < S).
    /// S = `lanes`, 8 or 16; the caller guarantees both blocks are in bounds.
    @inline(__always)
    static func transpose(lanes: Int, _ source: UnsafePointer<Float>, sourceStride: Int,
                          _ target: UnsafeMutablePointer<Float>, targetStride: Int) {
        if lanes == 16 {
            transpose16(source, sourceStride: sourceStride, target, targetStride: targetStride)
        } else {
            transpose8(source, sourceStride: sourceStride, target, targetStride: targetStride)
        }
    }

    /// The 16 × 16 block: 16 zmm loads, 4 unshuffle rounds, 16 stores.
    @inline(__always)
    static func transpose16(_ source: UnsafePointer<Float>, sourceStride s: Int,
                            _ target: UnsafeMutablePointer<Float>, targetStride t: Int) {
        typealias V = SIMD16<Float>
        func load(_ row: Int) -> V { UnsafeRawPointer(source + row &* s).loadUnaligned(as: V.self) }
        var r = (load(0), load(1), load(2), load(3), load(4), load(5), load(6), load(7),
                 load(8), load(9), load(10), load(11), load(12), load(13), load(14), load(15))
        for _ in 0..<4 {
            let (e0, o0) = unshuffle(r.0, r.1), (e1, o1) = unshuffle(r.2, r.3)
            let (e2, o2) = unshuffle(r.4, r.5), (e3, o3) = unshuffle(r.6, r.7)
            let (e4, o4) = unshuffle(r.8, r.9), (e5, o5) = unshuffle(r.10, r.11)
            let (e6, o6) = unshuffle(r.12, r.13), (e7, o7) = unshuffle(r.14, r.15)
            r = (e0, e1, e2, e3, e4, e5, e6, e7, o0, o1, o2, o3, o4, o5, o6, o7)
        }
        func store(_ v: V, _ row: Int) { UnsafeMutableRawPointer(target + row &* t).storeBytes(of: v, as: V.self) }
        store(r.0, 0); store(r.1, 1); store(r.2, 2); store(r.3, 3); store(r.4, 4); store(r.5, 5)
        store(r.6, 6); store(r.7, 7); store(r.8, 8); store(r.9, 9); store(r.10, 10); store(r.11, 11)
        store(r.12, 12); store(r.13, 13); store(r.14, 14); store(r.15, 15)
    }

    /// The 8 × 8 block: 8 ymm (or NEON-pair) loads, 3 unshuffle rounds, 8 stores.
    @inline(__always)
    static func transpose8(_ source: UnsafePointer<Float>, sourceStride s: Int,
                           _ target: UnsafeMutablePointer<Float>, targetStride t: Int) {
        typealias V = SIMD8<Float>
        func load(_ row: Int) -> V { UnsafeRawPointer(source + row &* s).loadUnaligned(as: V.self) }
        var r = (load(0), load(1), load(2), load(3), load(4), load(5), load(6), load(7))
        for _ in 0..<3 {
            let (e0, o0) = unshuffle(r.0, r.1), (e1, o1) = unshuffle(r.2, r.3)
            let (e2, o2) = unshuffle(r.4, r.5), (e3, o3) = unshuffle(r.6, r.7)
            r = (e0, e1, e2, e3, o0, o1, o2, o3)
        }
        func store(_ v: V, _ row: Int) { UnsafeMutableRawPointer(target + row &* t).storeBytes(of: v, as: V.self) }
        store(r.0, 0); store(r.1, 1); store(r.2, 2); store(r.3, 3); store(r.4, 4); store(r.5, 5); store(r.6, 6); store(r.7, 7)
    }

    /// The perfect unshuffle of a pair: (a, b) concatenated, its even-indexed lanes and its odd-indexed lanes.
    @inline(__always)
    static func unshuffle(_ a: SIMD16<Float>, _ b: SIMD16<Float>) -> (SIMD16<Float>, SIMD16<Float>) {
        let joined = SIMD32<Float>(lowHalf: a, highHalf: b)
        return (joined.evenHalf, joined.oddHalf)
    }

    /// The same for 8-lane vectors.
    @inline(__always)
    static func unshuffle(_ a: SIMD8<Float>, _ b: SIMD8<Float>) -> (SIMD8<Float>, SIMD8<Float>) {
        let joined = SIMD16<Float>(lowHalf: a, highHalf: b)
        return (joined.evenHalf, joined.oddHalf)
    }
}
