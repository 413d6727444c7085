// GGUF — the vocabulary of llama.cpp's model file format: value types, tensor types, records, errors.
//
// What this file teaches: a GGUF file is one self-describing blob, little-endian throughout,
//
//     "GGUF"  version:u32  tensor_count:u64  kv_count:u64
//     kv_count × { key:string  value_type:u32  value }          ← the metadata (hyperparameters, vocab…)
//     tensor_count × { name:string  n_dims:u32  dims:u64×n_dims  type:u32  offset:u64 }
//     zero padding up to a multiple of `general.alignment` (32 unless the metadata says otherwise)
//     the data section: every tensor's bytes at its `offset` (relative to the section, aligned)
//
// A string is a u64 byte count then UTF-8 bytes (no terminator). An array value is an element type
// (u32), a u64 count and the elements — which may themselves be arrays. Versions 2 and 3 have this
// layout (version 1 used 32-bit counts; version 3 only added big-endian files, which we refuse).
//
// Tensors are described the ggml way: `dims` lists the *innermost* dimension first. A PyTorch weight
// [out, in] is stored with dims [in, out]: rows of `in` contiguous values, exactly row-major memory.
// Each tensor has a type: a plain float (F32, F16, BF16) or a block-quantized format where a fixed
// run of values (32 or 256) shares its scales — see GGUF+Dequantize.swift for every layout we decode.
//
// What it leaves out: big-endian files, memory-mapped lazy tensors beyond `Data`'s own mapping,
// the importance-matrix ("imatrix") quantizers and the IQ*/TQ* types (listed so their sizes validate,
// refused when decoded).

import Foundation

/// Namespace for reading and writing llama.cpp's GGUF format.
public enum GGUF {
    /// The four bytes every GGUF file starts with.
    public static let magic: [UInt8] = Array("GGUF".utf8)
    /// Alignment of the data section and of every tensor offset when `general.alignment` is absent.
    public static let defaultAlignment = 32
    /// The most dimensions a tensor may have (ggml's `GGML_MAX_DIMS`).
    public static let maximumDimensions = 4
    /// How deeply arrays may nest. Nesting costs 12 bytes per level, so without a bound a small
    /// hostile file could recurse deep enough to overflow the stack.
    public static let maximumArrayDepth = 8
    /// The metadata key that sets the alignment (a `uint32`, a power of two).
    public static let alignmentKey = "general.alignment"
}

// MARK: - Metadata values

extension GGUF {
    /// The type tag of a metadata value, as stored (`GGUFValueType` in gguf-py).
    public enum ValueType: UInt32, Sendable, CaseIterable {
        case uint8 = 0, int8 = 1, uint16 = 2, int16 = 3, uint32 = 4, int32 = 5, float32 = 6, bool = 7
        case string = 8, array = 9, uint64 = 10, int64 = 11, float64 = 12
    }

    /// One metadata value. Arrays keep their declared element type (an empty array still has one).
    public indirect enum Value: Sendable, Equatable {
        case uint8(UInt8), int8(Int8), uint16(UInt16), int16(Int16), uint32(UInt32), int32(Int32)
        case uint64(UInt64), int64(Int64), float32(Float), float64(Double), bool(Bool), string(String)
        /// Elements all of `elementType` (checked by the reader and by `Value.array(of:_:)`).
        case array(elementType: ValueType, [Value])

        /// The stored type tag.
        public var type: ValueType {
            switch self {
            case .uint8: return .uint8
            case .int8: return .int8
            case .uint16: return .uint16
            case .int16: return .int16
            case .uint32: return .uint32
            case .int32: return .int32
            case .uint64: return .uint64
            case .int64: return .int64
            case .float32: return .float32
            case .float64: return .float64
            case .bool: return .bool
            case .string: return .string
            case .array: return .array
            }
        }

        /// Any integer type whose value fits in `Int`, else nil (floats, strings… are not integers).
        public var int: Int? {
            switch self {
            case .uint8(let v): return Int(v)
            case .int8(let v): return Int(v)
            case .uint16(let v): return Int(v)
            case .int16(let v): return Int(v)
            case .uint32(let v): return Int(v)
            case .int32(let v): return Int(v)
            case .uint64(let v): return Int(exactly: v)
            case .int64(let v): return Int(v)
            default: return nil
            }
        }

        /// A float32 or float64 value (widened to Double), else nil.
        public var double: Double? {
            switch self {
            case .float32(let v): return Double(v)
            case .float64(let v): return v
            default: return nil
            }
        }

        /// The string, if this is one.
        public var string: String? { if case .string(let s) = self { return s } else { return nil } }
        /// The boolean, if this is one.
        public var bool: Bool? { if case .bool(let b) = self { return b } else { return nil } }
        /// The elements, if this is an array.
        public var array: [Value]? { if case .array(_, let items) = self { return items } else { return nil } }
        /// The elements as strings, if this is an array of strings.
        public var strings: [String]? {
            guard case .array(.string, let items) = self else { return nil }
            return items.compactMap(\.string)
        }
        /// The elements as integers, if this is an array of an integer type whose values all fit `Int`.
        public var ints: [Int]? {
            guard case .array(let type, let items) = self, type != .bool, type.isInteger else { return nil }
            let values = items.compactMap(\.int)
            return values.count == items.count ? values : nil
        }

        /// An array of one element type; throws if an element has another type.
        public static func array(of elementType: ValueType, _ items: [Value]) throws -> Value {
            if let bad = items.firstIndex(where: { $0.type != elementType }) {
                throw GGUF.Error(file: "(writer)", problem: .mixedArray(key: "element \(bad)", expected: elementType))
            }
            return .array(elementType: elementType, items)
        }
    }
}

extension GGUF.ValueType {
    /// Bytes of one element of a fixed-size type (nil for string and array).
    public var fixedSize: Int? {
        switch self {
        case .uint8, .int8, .bool: return 1
        case .uint16, .int16: return 2
        case .uint32, .int32, .float32: return 4
        case .uint64, .int64, .float64: return 8
        case .string, .array: return nil
        }
    }

    /// Whether this is one of the eight integer types.
    public var isInteger: Bool { [.uint8, .int8, .uint16, .int16, .uint32, .int32, .uint64, .int64].contains(self) }
}

// MARK: - Tensor types

extension GGUF {
    /// A tensor's storage type (`GGMLQuantizationType` in gguf-py), with the numbering of ggml.
    public enum TensorType: UInt32, Sendable, CaseIterable {
        case f32 = 0, f16 = 1, q4_0 = 2, q4_1 = 3, q5_0 = 6, q5_1 = 7, q8_0 = 8, q8_1 = 9
        case q2_K = 10, q3_K = 11, q4_K = 12, q5_K = 13, q6_K = 14, q8_K = 15
        case iq2_XXS = 16, iq2_XS = 17, iq3_XXS = 18, iq1_S = 19, iq4_NL = 20, iq3_S = 21, iq2_S = 22, iq4_XS = 23
        case i8 = 24, i16 = 25, i32 = 26, i64 = 27, f64 = 28, iq1_M = 29, bf16 = 30, tq1_0 = 34, tq2_0 = 35
        case mxfp4 = 39

        /// The type's name as llama.cpp prints it ("Q4_K", "BF16", …).
        public var name: String { "\(self)".uppercased() }

        /// (values per block, bytes per block) — `GGML_QUANT_SIZES`. Plain types are blocks of one.
        public var blockLayout: (values: Int, bytes: Int) {
            let k = 256  // QK_K, the super-block of the k-quants
            switch self {
            case .f32: return (1, 4)
            case .f16, .bf16: return (1, 2)
            case .q4_0: return (32, 2 + 16)
            case .q4_1: return (32, 2 + 2 + 16)
            case .q5_0: return (32, 2 + 4 + 16)
            case .q5_1: return (32, 2 + 2 + 4 + 16)
            case .q8_0: return (32, 2 + 32)
            case .q8_1: return (32, 4 + 4 + 32)
            case .q2_K: return (k, 2 + 2 + k / 16 + k / 4)
            case .q3_K: return (k, 2 + k / 4 + k / 8 + 12)
            case .q4_K: return (k, 2 + 2 + k / 2 + 12)
            case .q5_K: return (k, 2 + 2 + k / 2 + k / 8 + 12)
            case .q6_K: return (k, 2 + k / 2 + k / 4 + k / 16)
            case .q8_K: return (k, 4 + k + k / 8)
            case .iq2_XXS: return (k, 2 + k / 4)
            case .iq2_XS: return (k, 2 + k / 4 + k / 32)
            case .iq3_XXS: return (k, 2 + k / 4 + k / 8)
            case .iq1_S: return (k, 2 + k / 8 + k / 16)
            case .iq4_NL: return (32, 2 + 16)
            case .iq3_S: return (k, 2 + k / 4 + k / 8 + k / 32 + 4)
            case .iq2_S: return (k, 2 + k / 4 + k / 16)
            case .iq4_XS: return (k, 2 + 2 + k / 2 + k / 64)
            case .i8: return (1, 1)
            case .i16: return (1, 2)
            case .i32: return (1, 4)
            case .i64, .f64: return (1, 8)
            case .iq1_M: return (k, k / 8 + k / 16 + k / 32)
            case .tq1_0: return (k, 2 + 4 * 13)
            case .tq2_0: return (k, 2 + 64)
            case .mxfp4: return (32, 1 + 16)
            }
        }

        /// The types this library decodes to Float (see GGUF+Dequantize.swift).
        public static let decodable: [TensorType] = [.f32, .f16, .bf16, .q8_0, .q4_0, .q4_1, .q4_K, .q6_K]
        /// The types the writer encodes from Float (see GGUF+Quantize.swift).
        public static let encodable: [TensorType] = [.f32, .f16, .bf16, .q8_0, .q4_0, .q4_1]
    }

    /// One entry of the tensor table.
    public struct TensorInfo: Sendable, Equatable {
        /// The tensor's name ("blk.0.attn_q.weight").
        public var name: String
        /// Dimensions as stored: innermost (contiguous) first, ggml's `ne`.
        public var dimensions: [Int]
        /// Storage type.
        public var type: TensorType
        /// Byte offset of the first byte within the data section (a multiple of the alignment).
        public var offset: Int
        /// Bytes the tensor occupies: (elements / values per block) × bytes per block.
        public var byteCount: Int

        /// The shape outermost first (PyTorch order): `dimensions` reversed. [] for a scalar.
        public var shape: [Int] { dimensions.reversed() }
        /// Number of values.
        public var elementCount: Int { dimensions.reduce(1, *) }
    }
}

// MARK: - Errors

extension GGUF {
    /// A problem with a GGUF file, naming the file and the key, tensor or field involved.
    public struct Error: Swift.Error, Equatable, CustomStringConvertible {
        /// Path (or label) of the file.
        public var file: String
        /// What is wrong.
        public var problem: Problem

        /// Creates an error.
        public init(file: String, problem: Problem) {
            self.file = file
            self.problem = problem
        }

        /// "<file>: gguf: <problem>".
        public var description: String { "\(file): gguf: \(problem)" }
    }

    /// Everything the reader, the dequantizers, the Llama loader and the writer can refuse.
    public enum Problem: Equatable, Sendable, CustomStringConvertible {
        case truncated(field: String, at: Int, needed: Int, fileSize: Int)
        case badMagic([UInt8])
        case unsupportedVersion(UInt32)
        case invalidUTF8(field: String)
        case unknownValueType(key: String, raw: UInt32)
        case invalidBool(key: String, byte: UInt8)
        case arrayTooDeep(key: String)
        case mixedArray(key: String, expected: ValueType)
        case duplicateKey(String)
        case invalidAlignment(String)
        case duplicateTensor(String)
        case tooManyDimensions(tensor: String, count: Int)
        case invalidDimension(tensor: String, value: UInt64)
        case sizeOverflow(tensor: String)
        case unknownTensorType(tensor: String, raw: UInt32)
        case rowNotMultipleOfBlock(tensor: String, row: Int, blockValues: Int, type: String)
        case misalignedOffset(tensor: String, offset: UInt64, alignment: Int)
        case tensorOutOfBounds(tensor: String, offset: Int, byteCount: Int, dataSize: Int)
        case overlappingTensors(String, String)
        case tensorNotFound(String)
        case unsupportedTensorType(tensor: String, type: String)
        case nonFiniteScale(tensor: String, block: Int)
        case missingKey(String)
        case wrongValueType(key: String, expected: String)
        case invalidValue(key: String, reason: String)
        case unsupportedArchitecture(String)
        case tensorMismatch(String)
        case writer(String)

        /// One line naming the key, tensor or field.
        public var description: String {
            switch self {
            case .truncated(let field, let at, let needed, let size):
                return "\(field) needs \(needed) bytes at offset \(at) but the file has \(size)"
            case .badMagic(let bytes): return "magic is \(bytes), not \"GGUF\" \(GGUF.magic)"
            case .unsupportedVersion(let v): return "version \(v) is not supported (2 and 3 are)"
            case .invalidUTF8(let field): return "\(field) is not valid UTF-8"
            case .unknownValueType(let key, let raw): return "metadata '\(key)' has unknown value type \(raw)"
            case .invalidBool(let key, let byte): return "metadata '\(key)' has bool byte \(byte) (0 or 1 expected)"
            case .arrayTooDeep(let key): return "metadata '\(key)' nests arrays deeper than \(GGUF.maximumArrayDepth)"
            case .mixedArray(let key, let type): return "array '\(key)' mixes element types (declared \(type))"
            case .duplicateKey(let key): return "metadata key '\(key)' appears twice"
            case .invalidAlignment(let reason): return "\(GGUF.alignmentKey) \(reason)"
            case .duplicateTensor(let name): return "tensor '\(name)' appears twice"
            case .tooManyDimensions(let t, let n): return "tensor '\(t)' has \(n) dimensions (at most \(GGUF.maximumDimensions))"
            case .invalidDimension(let t, let v): return "tensor '\(t)' has dimension \(v), too large"
            case .sizeOverflow(let t): return "tensor '\(t)': element count overflows"
            case .unknownTensorType(let t, let raw): return "tensor '\(t)' has unknown type \(raw)"
            case .rowNotMultipleOfBlock(let t, let row, let block, let type):
                return "tensor '\(t)': row of \(row) values is not a multiple of the \(type) block of \(block)"
            case .misalignedOffset(let t, let offset, let alignment):
                return "tensor '\(t)' offset \(offset) is not a multiple of the alignment \(alignment)"
            case .tensorOutOfBounds(let t, let offset, let count, let size):
                return "tensor '\(t)' bytes \(offset)..<\(offset + count) leave the \(size)-byte data section"
            case .overlappingTensors(let a, let b): return "tensors '\(a)' and '\(b)' overlap"
            case .tensorNotFound(let t): return "no tensor named '\(t)'"
            case .unsupportedTensorType(let t, let type):
                return "tensor '\(t)' has type \(type); supported: \(GGUF.TensorType.decodable.map(\.name).joined(separator: ", "))"
            case .nonFiniteScale(let t, let block): return "tensor '\(t)' block \(block) has a non-finite scale"
            case .missingKey(let key): return "metadata key '\(key)' is missing"
            case .wrongValueType(let key, let expected): return "metadata '\(key)' is not \(expected)"
            case .invalidValue(let key, let reason): return "metadata '\(key)': \(reason)"
            case .unsupportedArchitecture(let name):
                return "architecture '\(name)' is not supported (only 'llama' loads into our GPT)"
            case .tensorMismatch(let reason): return reason
            case .writer(let reason): return reason
            }
        }
    }
}
