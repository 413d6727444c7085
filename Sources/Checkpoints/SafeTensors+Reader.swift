// SafeTensors+Reader — parse and validate a safetensors file, then hand out tensors by name.
//
// What this file teaches: defensive parsing of an untrusted binary format. A checkpoint may come
// from anywhere, so every number read from the file is checked before it is used as a size or an
// index: the header length against a fixed bound and the file size, each shape product (with
// overflow checks) against its byte range, and the byte ranges together against the data section,
// which must be covered exactly once — no gaps, no overlaps, no trailing bytes — just as the
// reference Rust implementation requires. Every failure is a thrown `SafeTensors.Error` naming the
// tensor or field; nothing here can trap on bad input.
//
// Then conversion: F32/F16/BF16/F64 and the integer dtypes become `[Float]`. F16 goes through
// Swift's `Float16`; BF16 is the upper half of a float32, so it becomes one by a 16-bit shift.
//
// FP8 (E4M3 "fn" and E5M2) is decoded field by field, which shows what a float format is: a sign,
// a biased exponent and a mantissa with an implicit leading 1 (or 0 for subnormals).
//
// What it leaves out: conversion of BOOL (its raw bytes are available through `bytes(of:)`) and
// any conversion to types other than Float.

import Foundation
import StrictJSONParsing

extension SafeTensors {
    /// A validated safetensors file held in memory.
    public struct File: Sendable {
        /// Header entries by tensor name.
        public let tensors: [String: TensorInfo]
        /// The `__metadata__` map (empty if the file has none).
        public let metadata: [String: String]
        /// The data section: the bytes after the header, as a slice of the file buffer (its indices
        /// start at `dataSection.startIndex`, not 0). `TensorInfo.dataOffsets` are relative to that start.
        public let dataSection: Data
        /// The mapping `dataSection` lives in, when the file was mapped: read tensors' pages go back.
        private var mapping: MappedFile?
        /// The path the file was read from (nil for a buffer); errors then carry it (`FileError`).
        public let path: String?

        /// Tensor names in storage order (ascending data offset, then name).
        public var names: [String] {
            tensors.keys.sorted { lhs, rhs in
                let (a, b) = (tensors[lhs]!.dataOffsets, tensors[rhs]!.dataOffsets)
                return (a.lowerBound, a.upperBound, lhs) < (b.lowerBound, b.upperBound, rhs)
            }
        }

        /// Reads and validates the file at `url`. Throws `FileError` naming the path, wrapping the
        /// file system's error if it cannot be read, otherwise the `SafeTensors.Error` of any malformation.
        public init(contentsOf url: URL) throws {
            do {
                // Memory-map when the system allows it: only the pages of tensors we read are loaded,
                // and each tensor's pages are given back once it is converted (MappedFile.swift).
                if let mapping = MappedFile(url) {
                    try self.init(bytes: mapping.data, path: url.path)
                    self.mapping = mapping
                } else {
                    try self.init(bytes: try Data(contentsOf: url), path: url.path)
                }
            } catch {
                throw FileError(path: url.path, underlying: error)
            }
        }

        /// Parses and validates a complete safetensors byte buffer (8-byte length, header, data);
        /// `path`, if given, is carried into the errors of later calls.
        public init(bytes: Data, path: String? = nil) throws {
            self.path = path
            // 1. The 8-byte little-endian header length, checked against the bound and the file.
            guard bytes.count >= 8 else { throw Error.fileTooShort(byteCount: bytes.count) }
            let declared = bytes.prefix(8).reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            guard declared <= UInt64(SafeTensors.maximumHeaderSize) else { throw Error.headerTooLarge(declared: declared) }
            let headerLength = Int(declared)
            guard headerLength <= bytes.count - 8 else {
                throw Error.headerLengthExceedsFile(declared: declared, fileSize: bytes.count)
            }
            let start = bytes.startIndex
            let headerBytes = Array(bytes[(start + 8)..<(start + 8 + headerLength)])
            // A slice shares the buffer (no copy); its indices start where the data section does.
            let data = bytes[(start + 8 + headerLength)...]

            // 2. The header: UTF-8, starting with "{", then JSON, then an object. Trailing
            //    whitespace (the writer's space padding) is part of valid JSON.
            guard String(validating: headerBytes, as: UTF8.self) != nil else { throw Error.headerNotUTF8 }
            guard headerBytes.first == UInt8(ascii: "{") else { throw Error.headerDoesNotStartWithBrace }
            guard case .object(let members) = try SafeTensors.parseJSON(headerBytes) else {
                // Unreachable after the "{" check, but a parser change must not turn into a crash.
                throw Error.invalidJSON(reason: "header is not an object")
            }

            // 3. Each member: "__metadata__" or a tensor entry; names must be unique.
            var tensors: [String: TensorInfo] = [:]
            var metadata: [String: String]? = nil
            for (key, value) in members {
                if key == "__metadata__" {
                    guard metadata == nil else { throw Error.duplicateKey(key, inObject: "header") }
                    metadata = try Self.parseMetadata(value)
                } else {
                    guard tensors[key] == nil else { throw Error.duplicateKey(key, inObject: "header") }
                    tensors[key] = try Self.parseTensorInfo(name: key, value, dataSize: data.count)
                }
            }

            // 4. Together the tensors must tile the data section exactly.
            try Self.checkCoverage(tensors, dataSize: data.count)
            self.tensors = tensors
            self.metadata = metadata ?? [:]
            self.dataSection = data
        }

        /// Every tensor as a `NamedTensor` (bytes copied, indexed from 0), in storage order — ready
        /// to be filtered, renamed or extended and written back with `SafeTensors.write`.
        public var namedTensors: [NamedTensor] {
            let base = dataSection.startIndex
            return names.map { name in
                let info = tensors[name]!
                let range = (base + info.dataOffsets.lowerBound)..<(base + info.dataOffsets.upperBound)
                defer { mapping?.releasePages(range) }
                return NamedTensor(name: name, dtype: info.dtype, shape: info.shape, bytes: Data(dataSection[range]))
            }
        }

        /// The header entry for `name`.
        public func info(_ name: String) throws -> TensorInfo {
            guard let info = tensors[name] else { throw located(Error.tensorNotFound(name)) }
            return info
        }

        /// `error`, wrapped with the path when the file came from disk.
        private func located(_ error: Error) -> any Swift.Error {
            path.map { FileError(path: $0, underlying: error) } ?? error
        }

        /// The raw little-endian bytes of one tensor (a copy, indexed from 0).
        public func bytes(of name: String) throws -> Data {
            let range = try info(name).dataOffsets
            let base = dataSection.startIndex
            let bytes = (base + range.lowerBound)..<(base + range.upperBound)
            defer { mapping?.releasePages(bytes) }
            return Data(dataSection[bytes])
        }

        /// One tensor's elements converted to `Float`, row-major, `elementCount` of them.
        /// F32 is exact; F16, BF16 and FP8 widen exactly; F64 and 32/64-bit integers round to
        /// nearest. Throws `unsupportedConversion` for BOOL.
        public func floats(of name: String) throws -> [Float] {
            let info = try self.info(name)
            let base = dataSection.startIndex
            let range = (base + info.dataOffsets.lowerBound)..<(base + info.dataOffsets.upperBound)
            defer { mapping?.releasePages(range) }
            return try dataSection[range].withUnsafeBytes { buffer -> [Float] in
                let count = info.elementCount
                // Each element is read unaligned and converted from little-endian.
                func convert<Stored: FixedWidthInteger>(_: Stored.Type, _ toFloat: (Stored) -> Float) -> [Float] {
                    (0..<count).map { i in
                        toFloat(Stored(littleEndian: buffer.loadUnaligned(fromByteOffset: i * Stored.bitWidth / 8, as: Stored.self)))
                    }
                }
                switch info.dtype {
                case .f32: return convert(UInt32.self) { Float(bitPattern: $0) }
                case .f16: return convert(UInt16.self) { Float(Float16(bitPattern: $0)) }
                case .bf16: return convert(UInt16.self) { Float(bitPattern: UInt32($0) << 16) }
                case .f64: return convert(UInt64.self) { Float(Double(bitPattern: $0)) }
                case .u8: return convert(UInt8.self) { Float($0) }
                case .i8: return convert(Int8.self) { Float($0) }
                case .u16: return convert(UInt16.self) { Float($0) }
                case .i16: return convert(Int16.self) { Float($0) }
                case .u32: return convert(UInt32.self) { Float($0) }
                case .i32: return convert(Int32.self) { Float($0) }
                case .u64: return convert(UInt64.self) { Float($0) }
                case .i64: return convert(Int64.self) { Float($0) }
                case .f8E4M3: return convert(UInt8.self) { SafeTensors.float8E4M3($0) }
                case .f8E5M2: return convert(UInt8.self) { SafeTensors.float8E5M2($0) }
                case .bool: throw located(Error.unsupportedConversion(tensor: name, dtype: info.dtype))
                }
            }
        }
    }
}

// MARK: - Header validation

extension SafeTensors.File {
    /// `__metadata__` must be an object whose values are all strings.
    private static func parseMetadata(_ value: StrictJSON) throws -> [String: String] {
        guard case .object(let members) = value else { throw SafeTensors.Error.invalidMetadata(key: "__metadata__") }
        var metadata: [String: String] = [:]
        for (key, value) in members {
            guard metadata[key] == nil else { throw SafeTensors.Error.duplicateKey(key, inObject: "__metadata__") }
            guard case .string(let text) = value else { throw SafeTensors.Error.invalidMetadata(key: key) }
            metadata[key] = text
        }
        return metadata
    }

    /// A tensor entry: exactly `dtype`, `shape` and `data_offsets`, each well-typed, with a byte
    /// range inside the data section whose length matches shape × element size.
    private static func parseTensorInfo(name: String, _ value: StrictJSON, dataSize: Int) throws -> SafeTensors.TensorInfo {
        typealias Error = SafeTensors.Error
        guard case .object(let members) = value else {
            throw Error.invalidField(tensor: name, field: "(entry)", reason: "expected an object, found \(value.kind)")
        }
        var fields: [String: StrictJSON] = [:]
        for (key, field) in members {
            guard ["dtype", "shape", "data_offsets"].contains(key) else { throw Error.unexpectedField(tensor: name, field: key) }
            guard fields[key] == nil else { throw Error.duplicateKey(key, inObject: "tensor '\(name)'") }
            fields[key] = field
        }
        guard let dtypeField = fields["dtype"] else { throw Error.missingField(tensor: name, field: "dtype") }
        guard let shapeField = fields["shape"] else { throw Error.missingField(tensor: name, field: "shape") }
        guard let offsetsField = fields["data_offsets"] else { throw Error.missingField(tensor: name, field: "data_offsets") }

        // dtype: a known name.
        guard case .string(let dtypeName) = dtypeField else {
            throw Error.invalidField(tensor: name, field: "dtype", reason: "expected a string, found \(dtypeField.kind)")
        }
        guard let dtype = SafeTensors.DType(rawValue: dtypeName) else { throw Error.unknownDType(tensor: name, dtype: dtypeName) }

        // shape: an array of non-negative integers (no sign, no fraction, no exponent).
        guard case .array(let shapeEntries) = shapeField else {
            throw Error.invalidField(tensor: name, field: "shape", reason: "expected an array, found \(shapeField.kind)")
        }
        var shape: [Int] = []
        for entry in shapeEntries {
            guard let dimension = nonNegativeInteger(entry) else {
                throw Error.invalidShape(tensor: name, shape: describe(shapeEntries))
            }
            shape.append(dimension)
        }

        // data_offsets: [begin, end], both non-negative integers.
        guard case .array(let offsetEntries) = offsetsField, offsetEntries.count == 2,
              let begin = nonNegativeInteger(offsetEntries[0]), let end = nonNegativeInteger(offsetEntries[1])
        else {
            throw Error.invalidField(tensor: name, field: "data_offsets", reason: "expected [begin, end] of non-negative integers")
        }
        guard begin <= end, end <= dataSize else {
            throw Error.offsetsOutOfBounds(tensor: name, begin: begin, end: end, dataSize: dataSize)
        }
        guard let byteCount = SafeTensors.byteCount(shape: shape, dtype: dtype) else { throw Error.sizeOverflow(tensor: name) }
        guard byteCount == end - begin else {
            throw Error.byteCountMismatch(tensor: name, expected: byteCount, actual: end - begin)
        }
        return SafeTensors.TensorInfo(dtype: dtype, shape: shape, dataOffsets: begin..<end)
    }

    /// The value of a JSON number written as plain decimal digits that fits in `Int`, else nil.
    private static func nonNegativeInteger(_ value: StrictJSON) -> Int? {
        guard case .number(let text) = value, text.utf8.allSatisfy({ (48...57).contains($0) }) else { return nil }
        return Int(text)  // nil on overflow
    }

    private static func describe(_ entries: [StrictJSON]) -> String {
        "[" + entries.map { entry -> String in
            switch entry {
            case .number(let text): return text
            case .string(let text): return "\"\(text)\""
            default: return entry.kind
            }
        }.joined(separator: ", ") + "]"
    }

    /// Sorted by offset, each tensor must start exactly where the previous one ended, and the last
    /// must end at the end of the data section.
    private static func checkCoverage(_ tensors: [String: SafeTensors.TensorInfo], dataSize: Int) throws {
        let ordered = tensors.sorted { lhs, rhs in
            (lhs.value.dataOffsets.lowerBound, lhs.value.dataOffsets.upperBound, lhs.key)
                < (rhs.value.dataOffsets.lowerBound, rhs.value.dataOffsets.upperBound, rhs.key)
        }
        var cursor = 0
        var previous = ""
        for (name, info) in ordered {
            if info.dataOffsets.lowerBound < cursor { throw SafeTensors.Error.overlappingTensors(previous, name) }
            if info.dataOffsets.lowerBound > cursor { throw SafeTensors.Error.gapInData(offset: cursor, before: name) }
            cursor = info.dataOffsets.upperBound
            previous = name
        }
        guard cursor == dataSize else { throw SafeTensors.Error.trailingBytes(dataEnd: cursor, dataSize: dataSize) }
    }
}

// MARK: - 8-bit floats

extension SafeTensors {
    /// Decodes an FP8 E4M3 "fn" byte (the variant PyTorch's `float8_e4m3fn` and safetensors use):
    /// 1 sign, 4 exponent bits (bias 7), 3 mantissa bits, no infinities, S.1111.111 is NaN.
    /// Largest finite value ±448.
    public static func float8E4M3(_ byte: UInt8) -> Float {
        if byte & 0x7F == 0x7F { return .nan }
        return minifloat(byte, mantissaBits: 3, bias: 7)
    }

    /// Decodes an FP8 E5M2 byte: 1 sign, 5 exponent bits (bias 15), 2 mantissa bits, IEEE-style
    /// infinities and NaNs at the all-ones exponent — the top byte of an F16.
    public static func float8E5M2(_ byte: UInt8) -> Float {
        if byte & 0x7C == 0x7C { return byte & 0x03 == 0 ? (byte & 0x80 == 0 ? .infinity : -.infinity) : .nan }
        return minifloat(byte, mantissaBits: 2, bias: 15)
    }

    /// value = (-1)^s · 2^(e - bias) · (1 + m / 2^M) for e > 0, and 2^(1 - bias) · (m / 2^M) for e = 0.
    private static func minifloat(_ byte: UInt8, mantissaBits: Int, bias: Int) -> Float {
        let sign: Float = byte & 0x80 == 0 ? 1 : -1
        let exponent = Int(byte & 0x7F) >> mantissaBits
        let mantissa = Float(Int(byte) & ((1 << mantissaBits) - 1)) / Float(1 << mantissaBits)
        if exponent == 0 { return sign * mantissa * Float(sign: .plus, exponent: 1 - bias, significand: 1) }
        return sign * (1 + mantissa) * Float(sign: .plus, exponent: exponent - bias, significand: 1)
    }
}
