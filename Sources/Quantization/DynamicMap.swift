// DynamicMap.swift — bitsandbytes' 8-bit "dynamic" code and blockwise 8-bit quantization with it.
//
// Teaches: a lookup-table format. Instead of evenly spaced integers, the 256 codes are chosen values:
// the dynamic map (Dettmers 2015, "8-bit approximations for parallelism") spends a variable number of
// bits on a decimal exponent, so it covers 1e-6…1 with a similar relative precision in every decade
// (64 codes for [0.1, 1], 32 for [0.01, 0.1], …) — right for values spread over many orders of
// magnitude, like Adam's moments or a tensor of block scales.
// Quantizing a block: scale by 1/absmax (so values lie in [-1, 1]), store the index of the nearest
// code; dequantizing: code[index]·absmax. This is what `quantize_blockwise` does, and what QLoRA's
// double quantization and 8-bit Adam use (blocks of 256).
// "Nearest", as bitsandbytes' CPU kernel (csrc/cpu_ops.cpp, `quantize_cpu_impl`, 0.50) computes it, is
// a two-step lookup: the value is first rounded to one of 65 536 evenly spaced points of [-1, 1],
// index = UInt16((v + 1)·0.5·65535 + 0.5), and a precomputed table gives each point's code (the
// number of code midpoints below the point). A value within ~1.5e-5 of a midpoint can so get the
// code on the other side of it — about 2 values in 1000 — and `bitsandbytesIndex` does the same, so
// our codes are the library's byte for byte; `nearestIndex` is the exact nearest (8-bit Adam's).
// Construction (create_dynamic_map, signed, 7 exponent bits, 8 bits): for i in 0..<7 there are 2^i
// (signed) or 2^(i+1) (unsigned) fraction values, the midpoints of linspace(0.1, 1, count+1), scaled
// by 10^(i−6); signed maps add their negatives; then 0 and 1; sorted: exactly 256 values — all in
// float32, the way torch computes them in bitsandbytes (in Double, 72 signed and 100 unsigned values
// would differ by an ulp or two).
// Leaves out: the linear and quantile maps, stochastic rounding.
import Foundation
import Kernels

/// A sorted table of 256 Float values that 8-bit codes index.
public struct DynamicMap: Sendable, Equatable {
    /// The 256 values in increasing order.
    public let values: [Float]
    /// bitsandbytes' lookup table: for each of 65 536 evenly spaced points of [-1, 1], its code.
    let pointCodes: [UInt8]

    /// The signed dynamic map (values in [-1, 1]): for tensors with both signs.
    public static let signed = DynamicMap(signed: true)
    /// The unsigned dynamic map (values in [0, 1]): for non-negative tensors (Adam's second moment).
    public static let unsigned = DynamicMap(signed: false)

    /// Builds bitsandbytes' `create_dynamic_map(signed, max_exponent_bits: 7, total_bits: 8)` with its
    /// float32 arithmetic, so every value is bit-identical to the library's table.
    public init(signed: Bool) {
        var data: [Float] = []
        for i in 0..<7 {
            // Fewer exponent bits → more fraction values; midpoints of an even split of [0.1, 1].
            let count = signed ? 1 << i : 1 << (i + 1)
            let boundaries = DynamicMap.linspace(0.1, 1, count: count + 1)
            // 10^(i−6) is a Python float; torch multiplies a float32 tensor by it in float32.
            let scale = Float(pow(10, Double(i - 6)))
            for j in 0..<count {
                let mean = (boundaries[j] + boundaries[j + 1]) / 2
                data.append(scale * mean)
                if signed { data.append(-scale * mean) }
            }
        }
        data += [0, 1]
        values = data.sorted()
        require(values.count == 256, "DynamicMap: \(values.count) values, expected 256")
        pointCodes = DynamicMap.pointCodes(values)
    }

    /// `build_quantize_lut`: point i is −1 + 2i / 65535 (float32); its code is the number of midpoints
    /// 0.5·(values[j] + values[j+1]) strictly below it.
    static func pointCodes(_ values: [Float]) -> [UInt8] {
        let midpoints = (0..<255).map { 0.5 * (values[$0] + values[$0 + 1]) }
        var table = [UInt8](repeating: 0, count: 65_536)
        var code = 0
        for i in 0..<65_536 {
            let point = -1 + (2 * Float(i)) / 65_535
            while code < 255 && midpoints[code] < point { code += 1 }
            table[i] = UInt8(code)
        }
        return table
    }

    /// The code bitsandbytes' CPU kernel gives `x` (already scaled to [-1, 1]; clamped there): `x` is
    /// rounded to the nearest of 65 536 points, whose code is looked up (see the header). NaN → code 0,
    /// as the x86 conversion of NaN gives point 0.
    @inline(__always)
    public func bitsandbytesIndex(_ x: Float) -> UInt8 {
        guard !x.isNaN else { return pointCodes[0] }
        let v = Swift.min(Swift.max(x, -1), 1)
        // ((v + 1)·0.5)·65535 + 0.5, each step rounded to float32 (whether the compiler fuses the last
        // multiply-add does not change the truncated result: see BitsAndBytesParityTests), then truncated.
        let point = ((v + 1) * 0.5) * 65_535 + 0.5
        return pointCodes[Int(UInt16(point))]
    }

    /// `torch.linspace(start, end, count, dtype=float32)` as PyTorch's CPU kernel computes it: the step
    /// in float32, the first half as start + step·i and the second as end − step·(count − 1 − i), each
    /// one fused multiply-add (so the table matches bitsandbytes to the last bit).
    static func linspace(_ start: Float, _ end: Float, count: Int) -> [Float] {
        let step = (end - start) / Float(count - 1)
        return (0..<count).map { i in
            i < count / 2 ? start.addingProduct(step, Float(i)) : end.addingProduct(-step, Float(count - 1 - i))
        }
    }

    /// The index of the value nearest to `x` (x is expected in the map's range; ties go to the lower).
    @inline(__always)
    public func nearestIndex(_ x: Float) -> UInt8 {
        // Binary search for the first value ≥ x, then compare with its left neighbour.
        var low = 0, high = 255
        while low < high {
            let middle = (low + high) >> 1
            if values[middle] < x { low = middle + 1 } else { high = middle }
        }
        if low > 0 && x - values[low - 1] <= values[low] - x { return UInt8(low - 1) }
        return UInt8(low)
    }
}

/// A Float array quantized to 8-bit dynamic-map codes with one absmax per block.
public struct BlockwiseQuantized8: Sendable, Equatable {
    /// One code per value.
    public var codes: [UInt8]
    /// absmax of each block (the scale its codes multiply).
    public var absmax: [Float]
    /// Values per block.
    public let blockSize: Int
    /// The code table.
    public let map: DynamicMap

    /// Stored codes and block scales, as they are.
    public init(codes: [UInt8], absmax: [Float], blockSize: Int, map: DynamicMap) {
        (self.codes, self.absmax, self.blockSize, self.map) = (codes, absmax, blockSize, map)
    }

    /// Quantizes `values` in blocks of `blockSize` with `map` as bitsandbytes' `quantize_blockwise` does on
    /// the CPU: multiply by 1/absmax of the block, `DynamicMap.bitsandbytesIndex`; an all-zero block gets
    /// code 0 everywhere. Codes and absmax are the library's byte for byte.
    public init(_ values: [Float], blockSize: Int = 256, map: DynamicMap = .signed) throws {
        guard blockSize > 0 else { throw QuantizationError("blockwise 8-bit: block size \(blockSize) must be positive") }
        self.blockSize = blockSize
        self.map = map
        let blocks = (values.count + blockSize - 1) / blockSize
        codes = [UInt8](repeating: 0, count: values.count)
        absmax = [Float](repeating: 0, count: blocks)
        for block in 0..<blocks {
            let range = block * blockSize ..< min(values.count, (block + 1) * blockSize)
            let scale = values[range].reduce(Float(0)) { Swift.max($0, abs($1)) }
            absmax[block] = scale
            // The kernel skips an all-zero block (its codes stay 0) and otherwise multiplies by the
            // float32 inverse — which rounds differently from dividing by the absmax.
            guard scale > 0 else { continue }
            let inverse = 1 / scale
            for i in range { codes[i] = map.bitsandbytesIndex(values[i] * inverse) }
        }
    }

    /// The values the codes stand for: map[code]·absmax[block].
    public func dequantized() -> [Float] {
        var result = [Float](repeating: 0, count: codes.count)
        for i in 0..<codes.count { result[i] = map.values[Int(codes[i])] * absmax[i / blockSize] }
        return result
    }

    /// Stored bytes: one per code plus four per block scale.
    public var byteCount: Int { codes.count + 4 * absmax.count }
}
