// SafeTensors+Writer — lay tensors out in a safetensors file, byte-compatible with the reference.
//
// What this file teaches: a deterministic binary layout. The reference serializer sorts tensors by
// dtype alignment (largest element first) and then by name, assigns back-to-back byte ranges in
// that order, writes the header as compact JSON with "__metadata__" first and the tensors in that
// same order, and pads the header with spaces to a multiple of 8 bytes. Because 8 + header is then
// a multiple of 8 and larger elements come first, every tensor starts at a multiple of its element
// size — a reader can cast the bytes in place. We follow the same rules, so for the same tensors
// (and at most one metadata key) our bytes equal Python's `safetensors.torch.save_file` output.
// With several metadata keys we write them sorted by key (the reference uses a hash map, so its
// order is unspecified; readers must not care).
//
// Writes to disk are atomic: the bytes go to a temporary file in the destination's directory,
// which is then renamed over the destination, so a crash leaves the old file or the new one.
//
// What it leaves out: streaming very large models to disk without building the buffer in memory.

import Foundation

extension SafeTensors {
    /// A tensor to be written: a name, a dtype, a shape and its row-major little-endian bytes.
    public struct NamedTensor: Sendable, Hashable {
        /// Tensor name, unique within a file.
        public var name: String
        /// Element type of `bytes`.
        public var dtype: DType
        /// Dimensions, outermost first; `[]` for a scalar.
        public var shape: [Int]
        /// Row-major little-endian element bytes; `count` must equal shape product × `dtype.size`.
        public var bytes: Data

        /// Wraps already-encoded bytes (checked when written).
        public init(name: String, dtype: DType, shape: [Int], bytes: Data) {
            self.name = name
            self.dtype = dtype
            self.shape = shape
            self.bytes = bytes
        }

        /// Encodes `floats` (row-major, shape product of them) as F32, F16, BF16 or F64.
        /// F16 uses `Float16(_:)` (round to nearest even; beyond ±65504 becomes ±inf); BF16 rounds
        /// to nearest, ties to even (as PyTorch does); NaN stays NaN.
        public init(name: String, shape: [Int], floats: [Float], as dtype: DType = .f32) throws {
            // With a 1-byte dtype the byte count is the element count.
            let elementCount = SafeTensors.byteCount(shape: shape, dtype: .u8)
            guard elementCount == floats.count else {
                throw Error.writerByteCountMismatch(tensor: name, expected: SafeTensors.byteCount(shape: shape, dtype: dtype) ?? -1,
                                                    actual: floats.count * dtype.size)
            }
            // Bit patterns → little-endian words → one contiguous byte copy.
            func littleEndianData<Stored: FixedWidthInteger>(_ words: [Stored]) -> Data {
                words.map(\.littleEndian).withUnsafeBytes { Data($0) }
            }
            let bytes: Data
            switch dtype {
            case .f32: bytes = littleEndianData(floats.map(\.bitPattern))
            case .f64: bytes = littleEndianData(floats.map { Double($0).bitPattern })
            case .f16: bytes = littleEndianData(floats.map { Float16($0).bitPattern })
            case .bf16: bytes = littleEndianData(floats.map(Self.bfloat16Bits))
            default: throw Error.writerUnsupportedDType(tensor: name, dtype: dtype)
            }
            self.init(name: name, dtype: dtype, shape: shape, bytes: bytes)
        }

        /// The 16 upper bits of `value`'s float32 pattern, rounded to nearest even.
        static func bfloat16Bits(_ value: Float) -> UInt16 {
            let bits = value.bitPattern
            // NaN: keep it a (quiet) NaN instead of letting rounding carry into the exponent.
            if value.isNaN { return UInt16(truncatingIfNeeded: bits >> 16) | 0x0040 }
            // Add 0x7FFF plus the lowest kept bit: rounds halfway cases towards an even result.
            let rounded = bits &+ 0x7FFF &+ ((bits >> 16) & 1)
            return UInt16(truncatingIfNeeded: rounded >> 16)
        }
    }

    /// The complete file bytes for `tensors` and `metadata`, in the reference layout described above.
    /// Throws if a tensor's byte count disagrees with its shape and dtype or if a name repeats.
    public static func encode(_ tensors: [NamedTensor], metadata: [String: String] = [:]) throws -> Data {
        // Check every tensor before laying anything out.
        var seen = Set<String>()
        for tensor in tensors {
            guard seen.insert(tensor.name).inserted else { throw Error.writerDuplicateName(tensor.name) }
            let expected = byteCount(shape: tensor.shape, dtype: tensor.dtype)
            guard expected == tensor.bytes.count else {
                throw Error.writerByteCountMismatch(tensor: tensor.name, expected: expected ?? -1, actual: tensor.bytes.count)
            }
        }
        // Order: larger alignment first, then name by UTF-8 bytes (Rust's `String` ordering).
        let ordered = tensors.sorted { lhs, rhs in
            if lhs.dtype.alignmentRank != rhs.dtype.alignmentRank { return lhs.dtype.alignmentRank > rhs.dtype.alignmentRank }
            return lhs.name.utf8.lexicographicallyPrecedes(rhs.name.utf8)
        }
        // Header: metadata first, then each tensor with its back-to-back byte range.
        var members: [(key: String, json: String)] = []
        if !metadata.isEmpty {
            let entries = metadata.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
            members.append(("__metadata__", StrictJSONWriter.object(entries.map { ($0.key, StrictJSONWriter.quoted($0.value)) })))
        }
        var offset = 0
        for tensor in ordered {
            let end = offset + tensor.bytes.count
            let info = StrictJSONWriter.object([
                ("dtype", StrictJSONWriter.quoted(tensor.dtype.rawValue)),
                ("shape", StrictJSONWriter.integers(tensor.shape)),
                ("data_offsets", StrictJSONWriter.integers([offset, end])),
            ])
            members.append((tensor.name, info))
            offset = end
        }
        var header = Array(StrictJSONWriter.object(members).utf8)
        // Pad with spaces so the data section starts 8-byte aligned.
        header.append(contentsOf: repeatElement(UInt8(ascii: " "), count: (8 - header.count % 8) % 8))

        var file = Data(capacity: 8 + header.count + offset)
        withUnsafeBytes(of: UInt64(header.count).littleEndian) { file.append(contentsOf: $0) }
        file.append(contentsOf: header)
        for tensor in ordered { file.append(tensor.bytes) }
        return file
    }

    /// Encodes `tensors` (see `encode`) and writes them to `url` atomically.
    public static func write(_ tensors: [NamedTensor], metadata: [String: String] = [:], to url: URL) throws {
        try AtomicFile.write(try encode(tensors, metadata: metadata), to: url)
    }
}

/// Crash-safe file replacement: write a sibling temporary file, then `rename(2)` it into place.
public enum AtomicFile {
    /// Writes `data` to `url` so that readers see either the previous file or the complete new one.
    /// The temporary file lives in the same directory (a rename is only atomic within one file
    /// system) and is removed if anything fails.
    public static func write(_ data: Data, to url: URL) throws {
        let directory = url.deletingLastPathComponent()
        removeLeftovers(of: url)
        let temporary = directory.appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString).tmp")
        do {
            try data.write(to: temporary)
            // Flush to stable storage before the rename makes the new file visible.
            let handle = try FileHandle(forWritingTo: temporary)
            try handle.synchronize()
            try handle.close()
            guard rename(temporary.path, url.path) == 0 else {
                throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: url.path,
                                                                NSLocalizedDescriptionKey: "rename failed: errno \(errno)"])
            }
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            throw error
        }
    }

    /// Removes `.NAME.*.tmp` siblings of `url` that writes killed before their rename left behind.
    public static func removeLeftovers(of url: URL) {
        let directory = url.deletingLastPathComponent()
        let prefix = "." + url.lastPathComponent + "."
        for name in (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        where name.hasPrefix(prefix) && name.hasSuffix(".tmp") {
            try? FileManager.default.removeItem(at: directory.appendingPathComponent(name))
        }
    }
}
