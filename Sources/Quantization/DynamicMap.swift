// DynamicMap.swift — bitsandbytes' 8-bit "dynamic" code and blockwise 8-bit quantization with it.
//
// Teaches: a lookup-table format. Instead of evenly spaced integers, the 256 codes are chosen values:
// the dynamic map (Dettmers 2015, "8-bit approximations for parallelism") spends a variable number of
// bits on a decimal exponent, so it covers 1e-6…1 with a similar relative precision in every decade
// (64 codes for [0.1, 1], 32 for [0.01, 0.1], …) — right for values spread over many orders of
// magnitude, like Adam's moments or a tensor of block scales.
// Quantizing a block: divide by the block's absmax (so values lie in [-1, 1]), store the index of the
// nearest code; dequantizing: code[index]·absmax. This is what `quantize_blockwise` does, and what
// QLoRA's double quantization and 8-bit Adam use (blocks of 256).
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

    /// Quantizes `values` in blocks of `blockSize` with `map` (normalise by the block's absmax, nearest code).
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
            // Divide (not multiply by 1/absmax): bitsandbytes' kernel divides, and the two round differently.
            for i in range { codes[i] = map.nearestIndex(scale > 0 ? values[i] / scale : 0) }
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
