// GGUF+Reader — parse and validate a GGUF file, then hand out metadata and tensors by name.
//
// What this file teaches: reading an untrusted binary format whose every count and size comes from
// the file. Nothing read is used before it is checked: each read first checks that its bytes exist
// (a `truncated` error names the field and the offset), string lengths and array counts are bounded
// by the bytes left, nesting is bounded, the alignment must be a power of two, each tensor's
// dimensions are multiplied with overflow checks, its row must hold whole quantization blocks, its
// offset must be aligned and its bytes must lie inside the data section without overlapping another
// tensor. All failures throw `GGUF.Error` naming the file and the key or tensor; none can trap.
//
// What it leaves out: big-endian files (version 3 allows them; their version field reads as a huge
// number here and is refused) and lazy per-tensor reads (the file is one `Data`, memory-mapped when
// the system allows it, so only the pages of tensors we decode are actually read, and they are given
// back once decoded or copied: MappedFile.swift).

import Foundation

extension GGUF {
    /// A validated GGUF file held in memory (memory-mapped when read from disk).
    public struct File: Sendable {
        /// Label used in errors (the path for files on disk).
        public let label: String
        /// Format version (2 or 3).
        public let version: UInt32
        /// Metadata by key.
        public let metadata: [String: Value]
        /// Metadata keys in file order.
        public let metadataKeys: [String]
        /// Tensor records in file order.
        public let tensors: [TensorInfo]
        /// The data alignment (`general.alignment`, default 32).
        public let alignment: Int
        /// The data section: a slice of the file buffer (indices start at `dataSection.startIndex`).
        public let dataSection: Data
        private let index: [String: Int]
        /// The mapping `dataSection` lives in, when the file was mapped (see `releasePages(of:)`).
        private var mapping: MappedFile?

        /// Reads and validates the file at `url` (errors name its path).
        public init(contentsOf url: URL) throws {
            // Mapped when the system allows it, so a tensor's pages can be given back once it has been
            // copied or decoded (MappedFile.swift); otherwise read whole.
            if let mapping = MappedFile(url) {
                try self.init(bytes: mapping.data, label: url.path)
                self.mapping = mapping
            } else {
                try self.init(bytes: try Data(contentsOf: url), label: url.path)
            }
        }

        /// Parses and validates a complete GGUF byte buffer; `label` names it in errors.
        public init(bytes: Data, label: String = "(memory)") throws {
            let parsed = try bytes.withUnsafeBytes { buffer in
                var reader = Reader(buffer: buffer, label: label)
                return try reader.parse()
            }
            self.label = label
            version = parsed.version
            metadata = parsed.metadata
            metadataKeys = parsed.keys
            tensors = parsed.tensors
            alignment = parsed.alignment
            dataSection = bytes[(bytes.startIndex + parsed.dataStart)...]
            index = Dictionary(uniqueKeysWithValues: parsed.tensors.enumerated().map { ($0.element.name, $0.offset) })
        }

        /// The record of tensor `name`.
        public func info(_ name: String) throws -> TensorInfo {
            guard let i = index[name] else { throw Error(file: label, problem: .tensorNotFound(name)) }
            return tensors[i]
        }

        /// Whether the file has a tensor called `name`.
        public func contains(_ name: String) -> Bool { index[name] != nil }

        /// The stored bytes of tensor `name` (a slice of the data section, no copy).
        public func bytes(of name: String) throws -> Data {
            let info = try self.info(name)
            let start = dataSection.startIndex + info.offset
            return dataSection[start..<(start + info.byteCount)]
        }

        /// Says that tensor `name` has been copied out of `bytes(of:)`: the resident pages it alone
        /// occupies in a mapped file are given back (reading it again stays correct, just slower).
        /// Does nothing for files held in memory or for unknown names.
        public func releasePages(of name: String) {
            guard let mapping, let info = try? self.info(name) else { return }
            let start = dataSection.startIndex + info.offset
            mapping.releasePages(start..<(start + info.byteCount))
        }

        /// Tensor `name` decoded to Float, row-major in `shape` order (which is the stored order).
        /// Its pages in a mapped file are given back afterwards (`releasePages(of:)`).
        /// Throws `unsupportedTensorType` for types outside `TensorType.decodable`.
        public func floats(of name: String) throws -> [Float] {
            let info = try self.info(name)
            defer { releasePages(of: name) }
            var values = [Float](repeating: 0, count: info.elementCount)
            try bytes(of: name).withUnsafeBytes { raw in
                try values.withUnsafeMutableBufferPointer { out in
                    try GGUF.dequantize(info.type, raw, count: info.elementCount, into: out.baseAddress!, tensor: name, file: label)
                }
            }
            return values
        }

        // MARK: Typed metadata

        /// The value of `key`, or a `missingKey` error.
        public func value(_ key: String) throws -> Value {
            guard let value = metadata[key] else { throw Error(file: label, problem: .missingKey(key)) }
            return value
        }

        /// An integer value (any integer type), or an error naming the key.
        public func int(_ key: String) throws -> Int {
            guard let v = try value(key).int else { throw Error(file: label, problem: .wrongValueType(key: key, expected: "an integer")) }
            return v
        }

        /// A float value (float32 or float64), or an error naming the key.
        public func double(_ key: String) throws -> Double {
            guard let v = try value(key).double else { throw Error(file: label, problem: .wrongValueType(key: key, expected: "a float")) }
            return v
        }

        /// A string value, or an error naming the key.
        public func string(_ key: String) throws -> String {
            guard let v = try value(key).string else { throw Error(file: label, problem: .wrongValueType(key: key, expected: "a string")) }
            return v
        }

        /// The value of an optional key converted by `read`, nil when the key is absent.
        public func optional<T>(_ key: String, _ read: (String) throws -> T) throws -> T? {
            metadata[key] == nil ? nil : try read(key)
        }
    }
}

// MARK: - The parser

extension GGUF {
    /// What the parser extracts before the `File` is assembled.
    struct Parsed {
        var version: UInt32 = 0
        var metadata: [String: Value] = [:]
        var keys: [String] = []
        var tensors: [TensorInfo] = []
        var alignment = GGUF.defaultAlignment
        var dataStart = 0
    }

    /// A bounds-checked cursor over the file's bytes.
    struct Reader {
        let buffer: UnsafeRawBufferPointer
        let label: String
        var position = 0

        init(buffer: UnsafeRawBufferPointer, label: String) {
            self.buffer = buffer
            self.label = label
        }

        func fail(_ problem: Problem) -> Error { Error(file: label, problem: problem) }

        /// Checks that `count` bytes exist at the cursor for `field`.
        func need(_ count: Int, _ field: @autoclosure () -> String) throws {
            guard count >= 0, count <= buffer.count - position else {
                throw fail(.truncated(field: field(), at: position, needed: count, fileSize: buffer.count))
            }
        }

        mutating func integer<T: FixedWidthInteger>(_: T.Type, _ field: @autoclosure () -> String) throws -> T {
            try need(MemoryLayout<T>.size, field())
            let value = T(littleEndian: buffer.loadUnaligned(fromByteOffset: position, as: T.self))
            position += MemoryLayout<T>.size
            return value
        }

        /// A u64 length, then that many UTF-8 bytes.
        mutating func string(_ field: @autoclosure () -> String) throws -> String {
            let length = try integer(UInt64.self, field() + " length")
            guard length <= UInt64(buffer.count - position) else {
                throw fail(.truncated(field: field(), at: position, needed: Int(clamping: length), fileSize: buffer.count))
            }
            let bytes = UnsafeRawBufferPointer(rebasing: buffer[position..<(position + Int(length))])
            position += Int(length)
            guard let text = String(validating: bytes, as: UTF8.self) else { throw fail(.invalidUTF8(field: field())) }
            return text
        }

        mutating func parse() throws -> Parsed {
            var parsed = Parsed()
            // 1. Header: magic, version, the two counts.
            try need(4, "magic")
            let magic = Array(buffer[0..<4])
            guard magic == GGUF.magic else { throw fail(.badMagic(magic)) }
            position = 4
            parsed.version = try integer(UInt32.self, "version")
            guard parsed.version == 2 || parsed.version == 3 else { throw fail(.unsupportedVersion(parsed.version)) }
            let tensorCount = try integer(UInt64.self, "tensor_count")
            let keyCount = try integer(UInt64.self, "metadata_kv_count")
            // Each entry takes at least 12 (key/value) or 24 (tensor) bytes: a count that cannot fit
            // in what is left is corrupt, and checking now avoids looping billions of times.
            let left = UInt64(buffer.count - position)
            guard keyCount <= left / 12 else {
                throw fail(.truncated(field: "\(keyCount) metadata entries", at: position, needed: Int(clamping: keyCount &* 12), fileSize: buffer.count))
            }
            guard tensorCount <= left / 24 else {
                throw fail(.truncated(field: "\(tensorCount) tensor infos", at: position, needed: Int(clamping: tensorCount &* 24), fileSize: buffer.count))
            }

            // 2. Metadata: unique keys, each with a typed value.
            for entry in 0..<Int(keyCount) {
                let key = try string("metadata key #\(entry)")
                guard parsed.metadata[key] == nil else { throw fail(.duplicateKey(key)) }
                let rawType = try integer(UInt32.self, "type of '\(key)'")
                guard let type = ValueType(rawValue: rawType) else { throw fail(.unknownValueType(key: key, raw: rawType)) }
                parsed.metadata[key] = try value(of: type, key: key, depth: 0)
                parsed.keys.append(key)
            }

            // 3. The alignment: a u32 power of two if given.
            if let value = parsed.metadata[GGUF.alignmentKey] {
                guard case .uint32(let alignment) = value else { throw fail(.invalidAlignment("must be a uint32, found \(value.type)")) }
                guard alignment > 0, alignment & (alignment - 1) == 0 else { throw fail(.invalidAlignment("\(alignment) is not a power of two")) }
                parsed.alignment = Int(alignment)
            }

            // 4. Tensor infos.
            var names = Set<String>()
            var infos: [TensorInfo] = []
            for entry in 0..<Int(tensorCount) {
                let info = try tensorInfo(entry: entry, alignment: parsed.alignment)
                guard names.insert(info.name).inserted else { throw fail(.duplicateTensor(info.name)) }
                infos.append(info)
            }

            // 5. The data section starts at the next multiple of the alignment (a file without tensors
            //    may end before that padding).
            let start = (position + parsed.alignment - 1) / parsed.alignment * parsed.alignment
            if start > buffer.count && !infos.isEmpty {
                throw fail(.truncated(field: "padding before the data section", at: position, needed: start - position, fileSize: buffer.count))
            }
            parsed.dataStart = min(start, buffer.count)
            let dataSize = buffer.count - parsed.dataStart

            // 6. Every tensor inside the data section, none overlapping.
            for info in infos where info.byteCount > dataSize || info.offset > dataSize - info.byteCount {
                throw fail(.tensorOutOfBounds(tensor: info.name, offset: info.offset, byteCount: info.byteCount, dataSize: dataSize))
            }
            let ordered = infos.sorted { ($0.offset, $0.byteCount) < ($1.offset, $1.byteCount) }
            for (a, b) in zip(ordered, ordered.dropFirst()) where b.offset < a.offset + a.byteCount && b.byteCount > 0 && a.byteCount > 0 {
                throw fail(.overlappingTensors(a.name, b.name))
            }
            parsed.tensors = infos
            return parsed
        }

        /// One value of `type`; arrays recurse (bounded by `maximumArrayDepth`).
        mutating func value(of type: ValueType, key: String, depth: Int) throws -> Value {
            switch type {
            case .uint8: return .uint8(try integer(UInt8.self, "'\(key)'"))
            case .int8: return .int8(try integer(Int8.self, "'\(key)'"))
            case .uint16: return .uint16(try integer(UInt16.self, "'\(key)'"))
            case .int16: return .int16(try integer(Int16.self, "'\(key)'"))
            case .uint32: return .uint32(try integer(UInt32.self, "'\(key)'"))
            case .int32: return .int32(try integer(Int32.self, "'\(key)'"))
            case .uint64: return .uint64(try integer(UInt64.self, "'\(key)'"))
            case .int64: return .int64(try integer(Int64.self, "'\(key)'"))
            case .float32: return .float32(Float(bitPattern: try integer(UInt32.self, "'\(key)'")))
            case .float64: return .float64(Double(bitPattern: try integer(UInt64.self, "'\(key)'")))
            case .bool:
                let byte = try integer(UInt8.self, "'\(key)'")
                guard byte <= 1 else { throw fail(.invalidBool(key: key, byte: byte)) }
                return .bool(byte == 1)
            case .string: return .string(try string("'\(key)'"))
            case .array:
                guard depth < GGUF.maximumArrayDepth else { throw fail(.arrayTooDeep(key: key)) }
                let rawType = try integer(UInt32.self, "element type of '\(key)'")
                guard let elementType = ValueType(rawValue: rawType) else { throw fail(.unknownValueType(key: key, raw: rawType)) }
                let count = try integer(UInt64.self, "count of '\(key)'")
                // Every element takes at least one byte (strings and arrays at least 8 and 12).
                let minimum = UInt64(elementType.fixedSize ?? (elementType == .string ? 8 : 12))
                guard count <= UInt64(buffer.count - position) / minimum else {
                    throw fail(.truncated(field: "\(count) elements of '\(key)'", at: position,
                                          needed: Int(clamping: count.multipliedReportingOverflow(by: minimum).partialValue), fileSize: buffer.count))
                }
                var items: [Value] = []
                items.reserveCapacity(Int(count))
                for _ in 0..<Int(count) { items.append(try value(of: elementType, key: key, depth: depth + 1)) }
                return .array(elementType: elementType, items)
            }
        }

        /// name, n_dims, dims (innermost first), type, offset — each checked.
        mutating func tensorInfo(entry: Int, alignment: Int) throws -> TensorInfo {
            let name = try string("tensor name #\(entry)")
            let rank = try integer(UInt32.self, "n_dims of '\(name)'")
            guard rank <= UInt32(GGUF.maximumDimensions) else { throw fail(.tooManyDimensions(tensor: name, count: Int(rank))) }
            var dimensions: [Int] = []
            var elements = 1
            for d in 0..<Int(rank) {
                let raw = try integer(UInt64.self, "dimension \(d) of '\(name)'")
                // ggml stores dimensions as int64: anything above Int64.max is negative there.
                guard let dimension = Int(exactly: raw) else { throw fail(.invalidDimension(tensor: name, value: raw)) }
                let (product, overflow) = elements.multipliedReportingOverflow(by: dimension)
                guard !overflow else { throw fail(.sizeOverflow(tensor: name)) }
                elements = product
                dimensions.append(dimension)
            }
            let rawType = try integer(UInt32.self, "type of '\(name)'")
            guard let type = TensorType(rawValue: rawType) else { throw fail(.unknownTensorType(tensor: name, raw: rawType)) }
            let (blockValues, blockBytes) = type.blockLayout
            // Blocks never straddle rows: the innermost dimension holds whole blocks.
            let row = dimensions.first ?? 1
            guard row % blockValues == 0 else {
                throw fail(.rowNotMultipleOfBlock(tensor: name, row: row, blockValues: blockValues, type: type.name))
            }
            let (byteCount, overflow) = (elements / blockValues).multipliedReportingOverflow(by: blockBytes)
            guard !overflow else { throw fail(.sizeOverflow(tensor: name)) }
            let rawOffset = try integer(UInt64.self, "offset of '\(name)'")
            guard rawOffset % UInt64(alignment) == 0 else { throw fail(.misalignedOffset(tensor: name, offset: rawOffset, alignment: alignment)) }
            guard let offset = Int(exactly: rawOffset), offset <= buffer.count else {
                throw fail(.tensorOutOfBounds(tensor: name, offset: Int(clamping: rawOffset), byteCount: byteCount, dataSize: buffer.count))
            }
            return TensorInfo(name: name, dimensions: dimensions, type: type, offset: offset, byteCount: byteCount)
        }
    }
}
