// SafeTensors — the vocabulary of the safetensors file format: dtypes, tensor records, errors.
//
// What this file teaches: a safetensors file is three things laid end to end,
//
//     [ 8 bytes: N, little-endian UInt64 ][ N bytes: UTF-8 JSON header ][ data section ]
//
// The header maps each tensor name to {"dtype", "shape", "data_offsets": [begin, end]}, where the
// offsets are byte positions relative to the start of the data section, and an optional
// "__metadata__" entry holds a flat string → string map. Tensors are stored row-major ("C" order),
// little-endian, with no strides and no compression: reading a tensor is slicing bytes.
//
// The reader (SafeTensors+Reader.swift) validates everything the reference Rust crate validates,
// and a little more (duplicate names, non-integer shapes); the writer (SafeTensors+Writer.swift)
// reproduces the reference writer's bytes exactly. The JSON details live in SafeTensors+JSON.swift.
//
// What it leaves out: memory mapping (we read the file into one `Data`), sharded checkpoints
// (model-00001-of-00002.safetensors + index.json), big-endian hosts, and the sub-byte dtypes
// F4/F6 of recent spec revisions.

import Foundation

/// Namespace for reading and writing the Hugging Face safetensors format.
public enum SafeTensors {
    /// The largest header the reader accepts, in bytes. Same bound as the reference crate
    /// (`MAX_HEADER_SIZE = 100_000_000`): a header is a small JSON table, so anything bigger is
    /// corrupt or hostile, and refusing it early avoids a huge allocation.
    public static let maximumHeaderSize = 100_000_000
}

// MARK: - Element types

extension SafeTensors {
    /// The element type of a stored tensor, spelled as in the file (`"F32"`, `"BF16"`, …).
    ///
    /// The cases are declared in the reference crate's order, which is ascending alignment;
    /// the writer lays tensors out by *descending* `alignmentRank`, so every tensor starts at an
    /// offset that is a multiple of its element size (given an 8-aligned data section).
    public enum DType: String, CaseIterable, Sendable, Hashable {
        /// One byte per element, 0 or 1.
        case bool = "BOOL"
        /// Unsigned 8-bit integer.
        case u8 = "U8"
        /// Signed 8-bit integer.
        case i8 = "I8"
        /// 8-bit float, 5 exponent bits, 2 mantissa bits (`float8_e5m2`).
        case f8E5M2 = "F8_E5M2"
        /// 8-bit float, 4 exponent bits, 3 mantissa bits, finite-only ("fn") variant (`float8_e4m3fn`).
        case f8E4M3 = "F8_E4M3"
        /// Signed 16-bit integer.
        case i16 = "I16"
        /// Unsigned 16-bit integer.
        case u16 = "U16"
        /// IEEE 754 half precision.
        case f16 = "F16"
        /// bfloat16: the top 16 bits of an IEEE float32.
        case bf16 = "BF16"
        /// Signed 32-bit integer.
        case i32 = "I32"
        /// Unsigned 32-bit integer.
        case u32 = "U32"
        /// IEEE 754 single precision.
        case f32 = "F32"
        /// IEEE 754 double precision.
        case f64 = "F64"
        /// Signed 64-bit integer.
        case i64 = "I64"
        /// Unsigned 64-bit integer.
        case u64 = "U64"

        /// Bytes per element.
        public var size: Int {
            switch self {
            case .bool, .u8, .i8, .f8E5M2, .f8E4M3: return 1
            case .i16, .u16, .f16, .bf16: return 2
            case .i32, .u32, .f32: return 4
            case .f64, .i64, .u64: return 8
            }
        }

        /// Position in the reference crate's declaration order (0 = `BOOL`). The writer sorts
        /// tensors by this rank, descending, then by name — the reference serializer's order.
        public var alignmentRank: Int {
            SafeTensors.DType.allCases.firstIndex(of: self)!
        }
    }
}

// MARK: - Tensor records

extension SafeTensors {
    /// One entry of the header: where a tensor lives and how to interpret its bytes.
    public struct TensorInfo: Sendable, Hashable {
        /// Element type.
        public var dtype: DType
        /// Dimensions, outermost first. `[]` is a scalar (one element); a 0 anywhere means no bytes.
        public var shape: [Int]
        /// Byte range within the data section (not within the file).
        public var dataOffsets: Range<Int>

        /// Creates a record; no validation (the reader validates what it parses).
        public init(dtype: DType, shape: [Int], dataOffsets: Range<Int>) {
            self.dtype = dtype
            self.shape = shape
            self.dataOffsets = dataOffsets
        }

        /// Number of elements: the product of `shape` (1 for a scalar).
        public var elementCount: Int { shape.reduce(1, *) }
    }
}

// MARK: - Errors

extension SafeTensors {
    /// Everything that can be wrong with a safetensors file (or with a request to write one).
    /// Each case names the tensor or field involved so the message points at the problem.
    public enum Error: Swift.Error, Equatable, CustomStringConvertible {
        /// The buffer cannot even hold the 8-byte header length.
        case fileTooShort(byteCount: Int)
        /// The declared header length exceeds `maximumHeaderSize`.
        case headerTooLarge(declared: UInt64)
        /// The declared header length runs past the end of the file.
        case headerLengthExceedsFile(declared: UInt64, fileSize: Int)
        /// The header bytes are not valid UTF-8.
        case headerNotUTF8
        /// The header's first byte is not `{` (the spec requires the JSON object to start at once).
        case headerDoesNotStartWithBrace
        /// The header is not valid JSON; `reason` says where parsing stopped.
        case invalidJSON(reason: String)
        /// A key occurs twice at the same level (`tensor` is the tensor name, or the parent key).
        case duplicateKey(String, inObject: String)
        /// `__metadata__` is not an object of strings.
        case invalidMetadata(key: String)
        /// A tensor entry is not an object, or lacks one of dtype/shape/data_offsets.
        case missingField(tensor: String, field: String)
        /// A tensor entry has a field the format does not define.
        case unexpectedField(tensor: String, field: String)
        /// A field has the wrong JSON type, e.g. `"shape": "2x3"`.
        case invalidField(tensor: String, field: String, reason: String)
        /// The dtype string is not one of the known dtypes.
        case unknownDType(tensor: String, dtype: String)
        /// A shape entry is negative, fractional or too large.
        case invalidShape(tensor: String, shape: String)
        /// Shape product × element size overflows `Int`.
        case sizeOverflow(tensor: String)
        /// `end - begin` differs from shape product × element size.
        case byteCountMismatch(tensor: String, expected: Int, actual: Int)
        /// `begin > end`, or the range leaves the data section.
        case offsetsOutOfBounds(tensor: String, begin: Int, end: Int, dataSize: Int)
        /// Two tensors share bytes.
        case overlappingTensors(String, String)
        /// Bytes of the data section that no tensor covers, starting at `offset`.
        case gapInData(offset: Int, before: String)
        /// The last tensor ends before the data section does.
        case trailingBytes(dataEnd: Int, dataSize: Int)
        /// Asked for a tensor name the file does not contain.
        case tensorNotFound(String)
        /// `floats(of:)` cannot convert this dtype (booleans).
        case unsupportedConversion(tensor: String, dtype: DType)
        /// A tensor handed to the writer has a byte count that does not match its shape and dtype.
        case writerByteCountMismatch(tensor: String, expected: Int, actual: Int)
        /// The writer was handed two tensors with the same name.
        case writerDuplicateName(String)
        /// The writer was handed a `[Float]` for a dtype it does not encode from floats.
        case writerUnsupportedDType(tensor: String, dtype: DType)

        /// A one-line message naming the tensor or field.
        public var description: String {
            switch self {
            case .fileTooShort(let n):
                return "safetensors: file has \(n) bytes, fewer than the 8-byte header length"
            case .headerTooLarge(let n):
                return "safetensors: header length \(n) exceeds the \(SafeTensors.maximumHeaderSize)-byte limit"
            case .headerLengthExceedsFile(let n, let size):
                return "safetensors: header length \(n) runs past the end of a \(size)-byte file"
            case .headerNotUTF8: return "safetensors: header is not valid UTF-8"
            case .headerDoesNotStartWithBrace: return "safetensors: header does not start with '{'"
            case .invalidJSON(let reason): return "safetensors: header is not valid JSON: \(reason)"
            case .duplicateKey(let key, let parent): return "safetensors: duplicate key '\(key)' in \(parent)"
            case .invalidMetadata(let key): return "safetensors: __metadata__ value for '\(key)' is not a string"
            case .missingField(let t, let f): return "safetensors: tensor '\(t)' lacks field '\(f)'"
            case .unexpectedField(let t, let f): return "safetensors: tensor '\(t)' has unexpected field '\(f)'"
            case .invalidField(let t, let f, let r): return "safetensors: tensor '\(t)' field '\(f)': \(r)"
            case .unknownDType(let t, let d): return "safetensors: tensor '\(t)' has unknown dtype '\(d)'"
            case .invalidShape(let t, let s): return "safetensors: tensor '\(t)' has invalid shape \(s)"
            case .sizeOverflow(let t): return "safetensors: tensor '\(t)' size overflows"
            case .byteCountMismatch(let t, let e, let a):
                return "safetensors: tensor '\(t)' needs \(e) bytes for its shape and dtype but spans \(a)"
            case .offsetsOutOfBounds(let t, let b, let e, let size):
                return "safetensors: tensor '\(t)' offsets [\(b), \(e)] outside data section of \(size) bytes"
            case .overlappingTensors(let a, let b): return "safetensors: tensors '\(a)' and '\(b)' overlap"
            case .gapInData(let offset, let name):
                return "safetensors: data bytes from \(offset) up to tensor '\(name)' belong to no tensor"
            case .trailingBytes(let end, let size):
                return "safetensors: tensors end at byte \(end) but the data section has \(size) bytes"
            case .tensorNotFound(let t): return "safetensors: no tensor named '\(t)'"
            case .unsupportedConversion(let t, let d):
                return "safetensors: tensor '\(t)' of dtype \(d.rawValue) cannot be converted to Float"
            case .writerByteCountMismatch(let t, let e, let a):
                return "safetensors: tensor '\(t)' given \(a) bytes, its shape and dtype need \(e)"
            case .writerDuplicateName(let t): return "safetensors: tensor name '\(t)' given twice"
            case .writerUnsupportedDType(let t, let d):
                return "safetensors: cannot encode floats of tensor '\(t)' as \(d.rawValue)"
            }
        }
    }
}

// MARK: - Errors located in a file

extension SafeTensors {
    /// An error reading a safetensors file from disk, with the file's path: a `SafeTensors.Error`
    /// (the format is wrong) or the file system's error (it cannot be read). Every `File` read with
    /// `init(contentsOf:)` throws this, from parsing and from later `floats(of:)`/`info(_:)` calls,
    /// so whichever loader passes it up, the user sees which file is at fault.
    public struct FileError: Swift.Error, CustomStringConvertible {
        /// The file's path.
        public let path: String
        /// What is wrong (a `SafeTensors.Error`, or the file system's error).
        public let underlying: any Swift.Error
        /// "<path>: safetensors: …".
        public var description: String { "\(path): \(underlying)" }

        /// Wraps `underlying` with `path` (an error that already names a path is kept as is).
        public init(path: String, underlying: any Swift.Error) {
            self.path = path
            self.underlying = (underlying as? FileError)?.underlying ?? underlying
        }
    }
}

// MARK: - Checked size arithmetic

extension SafeTensors {
    /// Byte count of a tensor with this shape and dtype, or nil on overflow or negative entries.
    /// Shared by reader and writer so both agree on what "the right size" is.
    static func byteCount(shape: [Int], dtype: DType) -> Int? {
        var elements = 1
        for dimension in shape {
            guard dimension >= 0 else { return nil }
            let (product, overflow) = elements.multipliedReportingOverflow(by: dimension)
            if overflow { return nil }
            elements = product
        }
        let (bytes, overflow) = elements.multipliedReportingOverflow(by: dtype.size)
        return overflow ? nil : bytes
    }
}
