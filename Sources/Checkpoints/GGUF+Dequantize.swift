// GGUF+Dequantize — turning ggml's storage types back into floats, block by block.
//
// What this file teaches: how llama.cpp fits a weight into 4–8 bits. Values are cut into blocks along
// the row; each block stores small integer codes plus one or two fp16 numbers that map codes back to
// values. All multi-byte fields are little-endian; "fp16" is IEEE half precision.
//
//   F32, F16, BF16  one value per element. BF16 is the top half of an fp32: value = bits << 16.
//
//   Q8_0  (32 values, 34 bytes)   d:fp16 | q[32]:int8                       x[i] = d · q[i]
//         e.g. d = 0.5, q = [4, -3, …]  →  x = [2.0, -1.5, …]
//
//   Q4_0  (32 values, 18 bytes)   d:fp16 | qs[16]                           x[i] = d · (nibble − 8)
//         byte j holds value j in its LOW nibble and value j+16 in its HIGH nibble (not 2j, 2j+1).
//         e.g. d = 0.25, qs[0] = 0xA3  →  x[0] = 0.25·(3−8) = −1.25,  x[16] = 0.25·(10−8) = 0.5
//
//   Q4_1  (32 values, 20 bytes)   d:fp16 | m:fp16 | qs[16]                  x[i] = d · nibble + m
//         same nibble order as Q4_0; the offset m (the block minimum) replaces the fixed −8.
//         e.g. d = 0.1, m = −0.8, qs[0] = 0x0F  →  x[0] = 0.1·15 − 0.8 = 0.7,  x[16] = −0.8
//
//   Q4_K  (256 values, 144 bytes) d:fp16 | dmin:fp16 | scales[12] | qs[128]
//         a super-block of 8 sub-blocks of 32. Each sub-block s has a 6-bit scale sc[s] and a 6-bit
//         min m[s], packed into the 12 bytes:  for s < 4: sc = b[s] & 63, m = b[s+4] & 63;
//         for s ≥ 4: sc = (b[s+4] & 15) | (b[s−4] >> 6) << 4,  m = (b[s+4] >> 4) | (b[s] >> 6) << 4.
//         x = (d·sc[s]) · nibble − (dmin·m[s]). The 128 bytes come in 4 chunks of 32: chunk c holds
//         sub-block 2c in the low nibbles and sub-block 2c+1 in the high nibbles.
//         e.g. d = 0.01, sc[0] = 10, dmin = 0.02, m[0] = 5, low nibble 7  →  0.1·7 − 0.1 = 0.6
//
//   Q6_K  (256 values, 210 bytes) ql[128] | qh[64] | scales[16]:int8 | d:fp16
//         16 sub-blocks of 16, each with an 8-bit signed scale. A 6-bit code is 4 low bits from ql
//         and 2 high bits from qh, minus 32:  x = d · scale · (code − 32). Per half (128 values,
//         ql 64 bytes, qh 32 bytes), for l < 32:
//           x[l]    = ql[l] & 15     | (qh[l] >> 0 & 3) << 4      x[l+32] = ql[l+32] & 15 | (qh[l] >> 2 & 3) << 4
//           x[l+64] = ql[l] >> 4     | (qh[l] >> 4 & 3) << 4      x[l+96] = ql[l+32] >> 4 | (qh[l] >> 6 & 3) << 4
//         and value v of the half uses scale[v / 16] (of that half's 8 scales).
//         e.g. d = 0.5, scale = 3, ql[0] & 15 = 1, qh[0] & 3 = 2  →  code 33  →  0.5·3·(33−32) = 1.5
//
// The arithmetic is written in the same order as ggml's reference `dequantize_row_*` (and gguf-py's
// numpy version), so results agree bit for bit: e.g. Q4_K is (d·sc)·q − (dmin·m), not d·(sc·q) − ….
// What it leaves out: Q5_0/Q5_1, Q2_K/Q3_K/Q5_K/Q8_K and the IQ types (the reader validates their
// sizes; decoding them throws `unsupportedTensorType`), and SIMD decoding (these loops are scalar).

import Foundation

extension GGUF {
    /// Decodes `count` values of `type` from `raw` into `destination`. Throws for undecodable types or
    /// a byte count that does not match; `tensor` and `file` name the source in errors.
    public static func dequantize(_ type: TensorType, _ raw: UnsafeRawBufferPointer, count: Int,
                                  into destination: UnsafeMutablePointer<Float>, tensor: String, file: String) throws {
        guard TensorType.decodable.contains(type) else {
            throw Error(file: file, problem: .unsupportedTensorType(tensor: tensor, type: type.name))
        }
        let (values, bytes) = type.blockLayout
        guard count % values == 0, raw.count == count / values * bytes else {
            throw Error(file: file, problem: .tensorMismatch("tensor '\(tensor)': \(raw.count) bytes do not hold \(count) \(type.name) values"))
        }
        guard count > 0, let base = raw.baseAddress else { return }
        decodeBlocks(type, base, blocks: count / values, into: destination)
    }

    /// The block decoder behind `dequantize`, for callers that validated type and size already
    /// (the packed weights decode row ranges with it). `type` must be in `TensorType.decodable`.
    public static func decodeBlocks(_ type: TensorType, _ source: UnsafeRawPointer, blocks: Int,
                                    into destination: UnsafeMutablePointer<Float>) {
        let size = type.blockLayout.bytes
        for block in 0..<blocks {
            let b = source + block * size
            switch type {
            case .f32: destination[block] = Float(bitPattern: u32(b, 0))
            case .f16: destination[block] = half(b, 0)
            case .bf16: destination[block] = Float(bitPattern: UInt32(u16(b, 0)) << 16)
            case .q8_0: q8_0(b, destination + block * 32)
            case .q4_0: q4_0(b, destination + block * 32)
            case .q4_1: q4_1(b, destination + block * 32)
            case .q4_K: q4_K(b, destination + block * 256)
            case .q6_K: q6_K(b, destination + block * 256)
            default: return  // not decodable: callers check `decodable` first
            }
        }
    }

    // MARK: Field readers (unaligned, little-endian)

    @inline(__always) static func u16(_ p: UnsafeRawPointer, _ offset: Int) -> UInt16 {
        UInt16(littleEndian: p.loadUnaligned(fromByteOffset: offset, as: UInt16.self))
    }
    @inline(__always) static func u32(_ p: UnsafeRawPointer, _ offset: Int) -> UInt32 {
        UInt32(littleEndian: p.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }
    @inline(__always) static func half(_ p: UnsafeRawPointer, _ offset: Int) -> Float {
        Float(Float16(bitPattern: u16(p, offset)))
    }
    @inline(__always) static func byte(_ p: UnsafeRawPointer, _ offset: Int) -> UInt8 {
        p.load(fromByteOffset: offset, as: UInt8.self)
    }

    // MARK: The 32-value blocks

    /// d:fp16 | q[32]:int8 → d·q.
    @inline(__always) static func q8_0(_ b: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
        let d = half(b, 0)
        for i in 0..<32 { y[i] = Float(Int8(bitPattern: byte(b, 2 + i))) * d }
    }

    /// d:fp16 | qs[16] → d·(nibble − 8); low nibbles are values 0…15, high nibbles 16…31.
    @inline(__always) static func q4_0(_ b: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
        let d = half(b, 0)
        for j in 0..<16 {
            let q = byte(b, 2 + j)
            y[j] = Float(Int(q & 0x0F) - 8) * d
            y[j + 16] = Float(Int(q >> 4) - 8) * d
        }
    }

    /// d:fp16 | m:fp16 | qs[16] → d·nibble + m, nibbles ordered as in Q4_0.
    @inline(__always) static func q4_1(_ b: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
        let d = half(b, 0), m = half(b, 2)
        for j in 0..<16 {
            let q = byte(b, 4 + j)
            y[j] = Float(q & 0x0F) * d + m
            y[j + 16] = Float(q >> 4) * d + m
        }
    }

    // MARK: The 256-value k-quant super-blocks

    /// The 6-bit scale and min of sub-block `s` (0…7) from Q4_K's 12 packed bytes at `scales`.
    @inline(__always) static func scaleMinK4(_ s: Int, _ scales: UnsafeRawPointer) -> (scale: UInt8, min: UInt8) {
        if s < 4 { return (byte(scales, s) & 63, byte(scales, s + 4) & 63) }
        let scale = (byte(scales, s + 4) & 0x0F) | ((byte(scales, s - 4) >> 6) << 4)
        let min = (byte(scales, s + 4) >> 4) | ((byte(scales, s) >> 6) << 4)
        return (scale, min)
    }

    /// d:fp16 | dmin:fp16 | scales[12] | qs[128] → (d·sc)·nibble − dmin·m per 32-value sub-block.
    static func q4_K(_ b: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
        let d = half(b, 0), dmin = half(b, 2)
        let scales = b + 4, qs = b + 16
        for chunk in 0..<4 {
            // Sub-blocks 2·chunk (low nibbles) and 2·chunk + 1 (high nibbles) share 32 bytes.
            let (sc1, m1) = scaleMinK4(2 * chunk, scales)
            let (sc2, m2) = scaleMinK4(2 * chunk + 1, scales)
            let d1 = d * Float(sc1), min1 = dmin * Float(m1)
            let d2 = d * Float(sc2), min2 = dmin * Float(m2)
            let out = y + 64 * chunk
            for l in 0..<32 {
                let q = byte(qs, 32 * chunk + l)
                out[l] = d1 * Float(q & 0x0F) - min1
                out[l + 32] = d2 * Float(q >> 4) - min2
            }
        }
    }

    /// ql[128] | qh[64] | scales[16]:int8 | d:fp16 → d·scale·(6-bit code − 32) per 16-value sub-block.
    static func q6_K(_ b: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
        let d = half(b, 208)
        for halfBlock in 0..<2 {
            let ql = b + 64 * halfBlock, qh = b + 128 + 32 * halfBlock, sc = b + 192 + 8 * halfBlock
            let out = y + 128 * halfBlock
            for l in 0..<32 {
                let low = byte(ql, l), lowNext = byte(ql, l + 32), high = byte(qh, l)
                let q1 = Int((low & 0x0F) | ((high >> 0) & 3) << 4) - 32
                let q2 = Int((lowNext & 0x0F) | ((high >> 2) & 3) << 4) - 32
                let q3 = Int((low >> 4) | ((high >> 4) & 3) << 4) - 32
                let q4 = Int((lowNext >> 4) | ((high >> 6) & 3) << 4) - 32
                let s = l / 16
                out[l] = d * Float(Int8(bitPattern: byte(sc, s))) * Float(q1)
                out[l + 32] = d * Float(Int8(bitPattern: byte(sc, s + 2))) * Float(q2)
                out[l + 64] = d * Float(Int8(bitPattern: byte(sc, s + 4))) * Float(q3)
                out[l + 96] = d * Float(Int8(bitPattern: byte(sc, s + 6))) * Float(q4)
            }
        }
    }
}
