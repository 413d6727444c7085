// NF4.swift — 4-bit NormalFloat weights, packed two per byte, with double-quantized block scales.
//
// Teaches: QLoRA's storage format (Dettmers et al. 2023), byte for byte as bitsandbytes lays it out.
// 1. Pretrained weights are roughly normal. NF4's 16 levels are quantiles of N(0, 1) rescaled to
//    [-1, 1] (with an exact 0), so each level is used about equally often — information-theoretically
//    the best 4-bit grid for normal data. Quantizing = divide a block of 64 weights by its absmax and
//    pick the nearest level; the code is the level's index 0…15.
// 2. Two codes share a byte, the first in the high nibble: byte = code[2i] << 4 | code[2i+1].
// 3. One fp32 absmax per 64 weights costs 32/64 = 0.5 bits per weight. Double quantization (DQ)
//    quantizes those constants too: subtract their mean, quantize blockwise (256 per block) to the
//    8-bit dynamic map, keep one fp32 scale per 256 blocks and the mean: 8/64 + 32/(64·256) ≈ 0.127
//    bits per weight, so 4.127 bits in all instead of 4.5.
// `NF4Weight` holds exactly those bytes (measured by the memory meter under `weights`) and decodes row
// panels for the fused GEMM (Kernels/DequantizedGEMM.swift): no fp32 copy of the matrix ever exists.
// Leaves out: FP4 (the other bitsandbytes 4-bit type), GPU kernels, storage in safetensors' layout.
import Foundation
import Kernels
import Autodiff

/// The NormalFloat-4 code: 16 levels and nearest-level rounding.
public enum NF4 {
    /// The 16 levels, in code order (bitsandbytes' table: quantiles of N(0,1), normalised to [-1, 1]).
    public static let levels: [Float] = [
        -1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453,
        -0.28444138169288635, -0.18477343022823334, -0.09105003625154495, 0.0,
        0.07958029955625534, 0.16093020141124725, 0.24611230194568634, 0.33791524171829224,
        0.44070982933044434, 0.5626170039176941, 0.7229568362236023, 1.0,
    ]

    /// Decision thresholds: midpoints between consecutive levels.
    static let midpoints: [Float] = (0..<15).map { (levels[$0] + levels[$0 + 1]) / 2 }

    /// The code of the level nearest to x (x normalised to [-1, 1]; an exact midpoint goes to the lower
    /// level, as the strict comparisons in bitsandbytes' decision tree do).
    @inline(__always)
    public static func code(_ x: Float) -> UInt8 {
        var code: UInt8 = 0
        // Count the thresholds below x: 15 comparisons, no branches on data.
        for t in midpoints where x > t { code &+= 1 }
        return code
    }
}

/// Per-block scales stored with double quantization: 8-bit codes of (absmax − mean), one fp32 scale
/// per 256 blocks, and the mean.
public struct DoubleQuantizedScales: Sendable {
    /// The quantized scales (one code per 64-value block) and their second-level absmax.
    public let quantized: BlockwiseQuantized8
    /// The mean that was subtracted before quantizing.
    public let offset: Float

    /// Quantizes `absmax` (one per block): mean-subtract, then 8-bit dynamic codes in blocks of 256 — as
    /// bitsandbytes' `quantize_4bit(compress_statistics=True)` does, bit for bit: its offset is
    /// `absmax.mean()`, which we add up in PyTorch's order (`PyTorchSum`, AVX2 lanes, one thread; torch
    /// uses its threads only from 32 768 blocks on, i.e. matrices of 2M+ weights).
    public init(_ absmax: [Float]) throws {
        let mean = absmax.isEmpty ? 0 : try PyTorchSum.mean(absmax)
        offset = mean
        quantized = try BlockwiseQuantized8(absmax.map { $0 - mean }, blockSize: 256, map: .signed)
    }

    /// Rebuilds stored scales: one code per block, one absmax₂ per 256 blocks, the mean.
    public init(codes: [UInt8], absmax: [Float], offset: Float) throws {
        guard absmax.count == (codes.count + 255) / 256 else {
            throw QuantizationError("double quantization: \(absmax.count) second-level scales for \(codes.count) codes")
        }
        quantized = BlockwiseQuantized8(codes: codes, absmax: absmax, blockSize: 256, map: .signed)
        self.offset = offset
    }

    /// The scale of block `block`: map[code]·absmax₂ + mean.
    @inline(__always)
    public func scale(_ block: Int) -> Float {
        quantized.map.values[Int(quantized.codes[block])] * quantized.absmax[block / 256] + offset
    }

    /// Stored bytes: a byte per block, four per 256 blocks, four for the mean.
    public var byteCount: Int { quantized.byteCount + 4 }
}

/// A matrix [rows, columns] stored as packed NF4 codes plus block scales — QLoRA's frozen base weight.
public final class NF4Weight: DequantizingWeight, @unchecked Sendable {
    public let rows: Int
    public let columns: Int
    /// Values per block (64 in QLoRA).
    public let blockSize: Int
    /// ⌈rows·columns / 2⌉ bytes, first code of each pair in the high nibble (counted as `weights`).
    let packed: MeteredAllocation<UInt8>
    /// fp32 absmax per block, when not double-quantized (counted as `weights`).
    let floatScales: MeteredAllocation<Float>?
    /// Double-quantized scales, when used.
    public let doubleQuantized: DoubleQuantizedScales?
    /// Holds the DQ bytes in the memory meter (the codes live in Swift arrays inside the struct).
    let doubleQuantizedBytes: MeteredAllocation<UInt8>?

    /// Quantizes `values` (row-major [rows, columns]). Throws for a shape mismatch, a bad block size or a
    /// non-finite value (naming its row and column).
    public init(_ values: [Float], rows: Int, columns: Int, blockSize: Int = 64, doubleQuantize: Bool = true) throws {
        guard rows > 0, columns > 0, values.count == rows * columns else {
            throw QuantizationError("NF4: \(values.count) values do not fill a [\(rows), \(columns)] matrix")
        }
        guard blockSize > 0, blockSize % 2 == 0 else { throw QuantizationError("NF4: block size \(blockSize) must be positive and even") }
        if let bad = values.firstIndex(where: { !$0.isFinite }) {
            throw QuantizationError("NF4: value \(values[bad]) at row \(bad / columns), column \(bad % columns) is not finite")
        }
        (self.rows, self.columns, self.blockSize) = (rows, columns, blockSize)
        let count = values.count, blocks = (count + blockSize - 1) / blockSize
        packed = MeteredAllocation(count: (count + 1) / 2, zero: 0, role: .weights)
        // 1. One absmax per block; codes of value/absmax, two per byte.
        var absmax = [Float](repeating: 0, count: blocks)
        for block in 0..<blocks {
            let range = block * blockSize ..< min(count, (block + 1) * blockSize)
            if let substitute = NF4Arithmetic.current.quantizeBlock {
                // A caller's block quantizer (the workbook's task 12.1; see NF4Arithmetic.swift). Blocks have an
                // even size, so every block starts on a byte boundary.
                let (bytes, scale) = try substitute(Array(values[range]))
                guard bytes.count == (range.count + 1) / 2 else {
                    throw QuantizationError("NF4Arithmetic.quantizeBlock returned \(bytes.count) bytes for a block of \(range.count) values")
                }
                for (j, byte) in bytes.enumerated() { packed.pointer[range.lowerBound / 2 + j] = byte }
                absmax[block] = scale
                continue
            }
            let scale = values[range].reduce(Float(0)) { Swift.max($0, abs($1)) }
            absmax[block] = scale
            let inverse: Float = scale > 0 ? 1 / scale : 0
            for i in range {
                let code = NF4.code(values[i] * inverse)
                packed.pointer[i >> 1] |= i & 1 == 0 ? code << 4 : code
            }
        }
        // An odd count leaves the last byte's low nibble spare: bitsandbytes fills it with the code of 0.0 (7).
        if count & 1 == 1 { packed.pointer[count >> 1] |= 7 }
        // 2. The scales: fp32, or double-quantized.
        if doubleQuantize {
            let dq = try DoubleQuantizedScales(absmax)
            doubleQuantized = dq
            doubleQuantizedBytes = MeteredAllocation(count: dq.byteCount, zero: 0, role: .weights)
            floatScales = nil
        } else {
            let scales = MeteredAllocation(count: blocks, zero: Float(0), role: .weights)
            absmax.withUnsafeBufferPointer { scales.pointer.update(from: $0.baseAddress!, count: blocks) }
            floatScales = scales
            doubleQuantized = nil
            doubleQuantizedBytes = nil
        }
    }

    /// Rebuilds a quantized matrix from stored parts (a file written by `QuantizedCheckpoint`): packed
    /// codes, and either fp32 block scales or double-quantized ones. Throws when the sizes disagree.
    public init(packed bytes: [UInt8], rows: Int, columns: Int, blockSize: Int,
                floatScales: [Float]?, doubleQuantized: DoubleQuantizedScales?) throws {
        // Validate before any arithmetic: a zero block size or an overflowing rows × columns must be an
        // error, not a trap.
        let (count, overflow) = rows.multipliedReportingOverflow(by: columns)
        guard rows > 0, columns > 0, !overflow, blockSize > 0, blockSize % 2 == 0, bytes.count == (count + 1) / 2 else {
            throw QuantizationError("NF4: \(bytes.count) packed bytes do not fit [\(rows), \(columns)] in blocks of \(blockSize)")
        }
        let blocks = (count + blockSize - 1) / blockSize
        guard (floatScales?.count ?? doubleQuantized?.quantized.codes.count) == blocks else {
            throw QuantizationError("NF4: need \(blocks) block scales for [\(rows), \(columns)]")
        }
        (self.rows, self.columns, self.blockSize) = (rows, columns, blockSize)
        let codes = MeteredAllocation(count: bytes.count, zero: UInt8(0), role: .weights)
        bytes.withUnsafeBufferPointer { codes.pointer.update(from: $0.baseAddress!, count: bytes.count) }
        packed = codes
        if let floatScales {
            let scales = MeteredAllocation(count: blocks, zero: Float(0), role: .weights)
            floatScales.withUnsafeBufferPointer { scales.pointer.update(from: $0.baseAddress!, count: blocks) }
            (self.floatScales, self.doubleQuantized, self.doubleQuantizedBytes) = (scales, nil, nil)
        } else {
            let dq = doubleQuantized!
            (self.floatScales, self.doubleQuantized) = (nil, dq)
            doubleQuantizedBytes = MeteredAllocation(count: dq.byteCount, zero: 0, role: .weights)
        }
    }

    /// The fp32 block scales, when not double-quantized.
    public var blockScales: [Float]? { floatScales.map { Array(UnsafeBufferPointer(start: $0.pointer, count: $0.count)) } }

    /// Quantizes a [rows, columns] tensor.
    public convenience init(_ tensor: Tensor, blockSize: Int = 64, doubleQuantize: Bool = true) throws {
        guard tensor.rank == 2 else { throw QuantizationError("NF4: tensor of shape \(tensor.shape) is not a matrix") }
        try self.init(tensor.values, rows: tensor.shape[0], columns: tensor.shape[1], blockSize: blockSize,
                      doubleQuantize: doubleQuantize)
    }

    /// The scale of block `block`.
    @inline(__always)
    func scale(_ block: Int) -> Float {
        if let floatScales { return floatScales.pointer[block] }
        return doubleQuantized!.scale(block)
    }

    public func dequantizeRows(_ start: Int, count: Int, into destination: UnsafeMutablePointer<Float>) {
        require(start >= 0 && count >= 0 && start + count <= rows, "NF4Weight: rows \(start)..<\(start + count) of \(rows)")
        let low = start * columns, high = (start + count) * columns
        let codes = packed.pointer, output = destination - low
        withUnsafeTemporaryAllocation(of: Float.self, capacity: 16) { table in
            var i = low
            // Walk block by block: scale the 16 levels once per block, then each value is one table lookup.
            while i < high {
                let block = i / blockSize
                let end = Swift.min(high, (block + 1) * blockSize)
                let s = scale(block)
                for level in 0..<16 { table[level] = NF4.levels[level] * s }
                // An odd start takes the low nibble alone; then whole bytes, two values each.
                if i & 1 == 1 { output[i] = table[Int(codes[i >> 1] & 0x0F)]; i += 1 }
                while i + 1 < end {
                    let byte = codes[i >> 1]
                    output[i] = table[Int(byte >> 4)]
                    output[i + 1] = table[Int(byte & 0x0F)]
                    i += 2
                }
                if i < end { output[i] = table[Int(codes[i >> 1] >> 4)]; i += 1 }
            }
        }
    }

    /// The whole matrix decoded (for tests and error measurements; the GEMM never calls this).
    public func dequantized() -> [Float] {
        var result = [Float](repeating: 0, count: rows * columns)
        result.withUnsafeMutableBufferPointer { dequantizeRows(0, count: rows, into: $0.baseAddress!) }
        return result
    }

    /// The 4-bit code of value `index` (row-major), read from its nibble.
    public func code(at index: Int) -> UInt8 {
        let byte = packed.pointer[index >> 1]
        return index & 1 == 0 ? byte >> 4 : byte & 0x0F
    }

    /// The packed bytes, in order (what a file would store).
    public var packedBytes: [UInt8] { Array(UnsafeBufferPointer(start: packed.pointer, count: packed.count)) }

    /// Bytes stored: packed codes plus scales (fp32, or the DQ codes, second-level scales and mean).
    public var byteCount: Int { packed.byteCount + (floatScales?.byteCount ?? doubleQuantized?.byteCount ?? 0) }

    /// Stored bits per matrix value: 4.5 with fp32 scales, ≈4.127 with double quantization (blocks of 64).
    public var bitsPerParameter: Double { Double(byteCount * 8) / Double(rows * columns) }
}
