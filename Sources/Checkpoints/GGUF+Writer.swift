// GGUF+Writer — encoding floats into ggml's block formats, and laying out a GGUF file.
//
// What this file teaches: the writing half of GGUF+Dequantize.swift. Each quantizer is ggml's
// reference `quantize_row_*_ref`, step for step, so our bytes equal llama.cpp's and gguf-py's:
//   Q8_0  d = absmax / 127, q = round-half-away(x / d)                       (id = 1/d, x·id)
//   Q4_0  m = the value of largest magnitude (first one on ties), d = m / −8,
//         q = min(15, trunc(x / d + 8.5))  — so m itself gets code 0 and the grid is lopsided
//   Q4_1  d = (max − min) / 15, q = min(15, trunc((x − min) / d + 0.5)), stored min m
//   F16   round to nearest even;  BF16: round to nearest even on the top 16 bits, NaN kept quiet.
// The scales are stored as fp16, but the codes are computed with the fp32 scale (as ggml does).
// Layout (what gguf-py's GGUFWriter writes): header, key/values in the order given, tensor infos in
// the order given, zero padding to the alignment, then each tensor's bytes followed by zero padding
// to the alignment; tensor offsets are the running sum of the padded sizes. The file is written
// atomically (temporary file + rename).
// What it leaves out: the k-quant quantizers (their reference search for scales is long and is not
// needed to export), importance matrices, and streaming (the whole file is built in memory).

import Foundation

extension GGUF {
    /// One tensor to write: its name, shape (outermost first, PyTorch order), type and encoded bytes.
    public struct TensorToWrite: Sendable {
        public let name: String
        public let shape: [Int]
        public let type: TensorType
        public let bytes: Data

        /// Already-encoded bytes; throws if their count does not fit the shape and type.
        public init(name: String, shape: [Int], type: TensorType, bytes: Data) throws {
            let count = shape.reduce(1, *)
            let (values, blockBytes) = type.blockLayout
            guard shape.allSatisfy({ $0 >= 0 }), shape.count <= GGUF.maximumDimensions,
                  (shape.last ?? 1) % values == 0, bytes.count == count / values * blockBytes else {
                throw GGUF.Error(file: "(writer)", problem: .writer("tensor '\(name)': \(bytes.count) bytes do not fit shape \(shape) as \(type.name)"))
            }
            (self.name, self.shape, self.type, self.bytes) = (name, shape, type, bytes)
        }

        /// Encodes `floats` (row-major in `shape`) as `type` (one of `TensorType.encodable`).
        /// Throws for a count mismatch, a row that is not a whole number of blocks, or non-finite values.
        public init(name: String, shape: [Int], floats: [Float], as type: TensorType) throws {
            guard floats.count == shape.reduce(1, *) else {
                throw GGUF.Error(file: "(writer)", problem: .writer("tensor '\(name)': \(floats.count) values for shape \(shape)"))
            }
            try self.init(name: name, shape: shape, type: type, bytes: try GGUF.quantize(floats, as: type, tensor: name))
        }
    }

    /// `values` encoded as `type`; the count must be a whole number of blocks.
    public static func quantize(_ values: [Float], as type: TensorType, tensor: String = "(values)") throws -> Data {
        func fail(_ reason: String) -> Error { Error(file: "(writer)", problem: .writer("tensor '\(tensor)': \(reason)")) }
        guard TensorType.encodable.contains(type) else { throw fail("cannot encode \(type.name) (encodable: \(TensorType.encodable.map(\.name)))") }
        let blockValues = type.blockLayout.values
        guard values.count % blockValues == 0 else { throw fail("\(values.count) values are not whole \(type.name) blocks of \(blockValues)") }
        if type != .f32 && type != .f16 && type != .bf16, let bad = values.firstIndex(where: { !$0.isFinite }) {
            throw fail("value \(values[bad]) at index \(bad) is not finite")
        }
        var out = [UInt8]()
        out.reserveCapacity(values.count / blockValues * type.blockLayout.bytes)
        func append16(_ v: UInt16) { out.append(UInt8(v & 0xFF)); out.append(UInt8(v >> 8)) }
        func appendHalf(_ x: Float) { append16(Float16(x).bitPattern) }
        for start in stride(from: 0, to: values.count, by: blockValues) {
            let block = values[start..<(start + blockValues)]
            switch type {
            case .f32:
                let bits = block[start].bitPattern
                for shift in stride(from: 0, to: 32, by: 8) { out.append(UInt8((bits >> UInt32(shift)) & 0xFF)) }
            case .f16: appendHalf(block[start])
            case .bf16: append16(bfloat16Bits(block[start]))
            case .q8_0:
                let amax = block.reduce(Float(0)) { Swift.max($0, abs($1)) }
                let d = amax / 127, id: Float = d != 0 ? 1 / d : 0
                appendHalf(d)
                for x in block { out.append(code((x * id).rounded(.toNearestOrAwayFromZero), in: -127...127)) }
            case .q4_0:
                // The signed value of largest magnitude (strict '<': the first one wins ties).
                var amax: Float = 0, max: Float = 0
                for x in block where amax < abs(x) { amax = abs(x); max = x }
                let d = max / -8, id: Float = d != 0 ? 1 / d : 0
                appendHalf(d)
                for j in 0..<16 {
                    let low = code((block[start + j] * id + 8.5).rounded(.towardZero), in: 0...15)
                    let high = code((block[start + 16 + j] * id + 8.5).rounded(.towardZero), in: 0...15)
                    out.append(UInt8(low) | UInt8(high) << 4)
                }
            case .q4_1:
                let min = block.min() ?? 0, max = block.max() ?? 0
                let d = (max - min) / 15, id: Float = d != 0 ? 1 / d : 0
                appendHalf(d)
                appendHalf(min)
                for j in 0..<16 {
                    let low = code(((block[start + j] - min) * id + 0.5).rounded(.towardZero), in: 0...15)
                    let high = code(((block[start + 16 + j] - min) * id + 0.5).rounded(.towardZero), in: 0...15)
                    out.append(UInt8(low) | UInt8(high) << 4)
                }
            default: throw fail("cannot encode \(type.name)")
            }
        }
        return Data(out)
    }

    /// An already-rounded code clamped to `range`. In range this is ggml's integer cast; outside it
    /// (only reachable when a block's scale underflows and 1/d is infinite) ggml's C cast is undefined,
    /// so we clamp, and NaN becomes the middle code.
    static func code(_ rounded: Float, in range: ClosedRange<Int>) -> UInt8 {
        guard !rounded.isNaN else { return UInt8(truncatingIfNeeded: (range.lowerBound + range.upperBound + 1) / 2) }
        let clamped = Swift.max(Float(range.lowerBound), Swift.min(Float(range.upperBound), rounded))
        return UInt8(truncatingIfNeeded: Int(clamped))  // a negative code becomes its two's complement byte
    }

    /// fp32 → bf16 bits, rounding to nearest even; NaNs stay NaN (quiet bit set), as ggml does.
    static func bfloat16Bits(_ x: Float) -> UInt16 {
        let n = x.bitPattern
        if n & 0x7FFF_FFFF > 0x7F80_0000 { return UInt16((n & 0xFFFF_0000 | 64 << 16) >> 16) }
        return UInt16((UInt64(n) + UInt64(0x7FFF + ((n >> 16) & 1))) >> 16)
    }

    /// The complete file: version 3, `metadata` in order, `tensors` in order, padded to `alignment`.
    /// If `alignment` is not 32, `general.alignment` must be in `metadata` with that value (or is added).
    public static func encode(metadata: [(key: String, value: Value)], tensors: [TensorToWrite],
                              alignment: Int = GGUF.defaultAlignment) throws -> Data {
        func fail(_ reason: String) -> Error { Error(file: "(writer)", problem: .writer(reason)) }
        guard alignment > 0, alignment & (alignment - 1) == 0, alignment <= Int(UInt32.max) else {
            throw fail("alignment \(alignment) is not a power of two")
        }
        var entries = metadata
        if let given = metadata.first(where: { $0.key == GGUF.alignmentKey }) {
            guard given.value == .uint32(UInt32(alignment)) else { throw fail("\(GGUF.alignmentKey) \(given.value) differs from alignment \(alignment)") }
        } else if alignment != GGUF.defaultAlignment {
            entries.append((GGUF.alignmentKey, .uint32(UInt32(alignment))))
        }
        var keys = Set<String>(), names = Set<String>()
        for entry in entries where !keys.insert(entry.key).inserted { throw fail("metadata key '\(entry.key)' given twice") }
        for tensor in tensors where !names.insert(tensor.name).inserted { throw fail("tensor name '\(tensor.name)' given twice") }

        var out = Data()
        func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) } }
        func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) } }
        func string(_ s: String) { u64(UInt64(s.utf8.count)); out.append(contentsOf: Array(s.utf8)) }
        func pad() { out.append(contentsOf: [UInt8](repeating: 0, count: (alignment - out.count % alignment) % alignment)) }
        func value(_ v: Value, key: String) throws {
            switch v {
            case .uint8(let x): out.append(x)
            case .int8(let x): out.append(UInt8(bitPattern: x))
            case .uint16(let x): withUnsafeBytes(of: x.littleEndian) { out.append(contentsOf: $0) }
            case .int16(let x): withUnsafeBytes(of: x.littleEndian) { out.append(contentsOf: $0) }
            case .uint32(let x): u32(x)
            case .int32(let x): u32(UInt32(bitPattern: x))
            case .uint64(let x): u64(x)
            case .int64(let x): u64(UInt64(bitPattern: x))
            case .float32(let x): u32(x.bitPattern)
            case .float64(let x): u64(x.bitPattern)
            case .bool(let x): out.append(x ? 1 : 0)
            case .string(let s): string(s)
            case .array(let type, let items):
                u32(type.rawValue)
                u64(UInt64(items.count))
                for item in items {
                    guard item.type == type else { throw Error(file: "(writer)", problem: .mixedArray(key: key, expected: type)) }
                    try value(item, key: key)
                }
            }
        }

        // Header, metadata, tensor infos (dims innermost first, offsets of the padded running sum).
        out.append(contentsOf: GGUF.magic)
        u32(3)
        u64(UInt64(tensors.count))
        u64(UInt64(entries.count))
        for (key, v) in entries {
            string(key)
            u32(v.type.rawValue)
            try value(v, key: key)
        }
        var offset = 0
        for tensor in tensors {
            string(tensor.name)
            u32(UInt32(tensor.shape.count))
            for dimension in tensor.shape.reversed() { u64(UInt64(dimension)) }
            u32(tensor.type.rawValue)
            u64(UInt64(offset))
            offset += (tensor.bytes.count + alignment - 1) / alignment * alignment
        }
        // The data section, each tensor padded.
        pad()
        for tensor in tensors {
            out.append(tensor.bytes)
            pad()
        }
        return out
    }

    /// Encodes and writes atomically to `url`.
    public static func write(metadata: [(key: String, value: Value)], tensors: [TensorToWrite],
                             alignment: Int = GGUF.defaultAlignment, to url: URL) throws {
        try AtomicFile.write(try encode(metadata: metadata, tensors: tensors, alignment: alignment), to: url)
    }
}
