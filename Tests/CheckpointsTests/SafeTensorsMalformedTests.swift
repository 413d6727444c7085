// Every way a safetensors file can be malformed, built by hand byte by byte, must be a thrown
// error naming the problem — never a crash and never a silently wrong tensor.

import Foundation
import Testing
@testable import Checkpoints

/// A file from a header string and a data section; `declaredLength` overrides the 8-byte prefix.
func handBuiltFile(header: String, data: [UInt8] = [], declaredLength: UInt64? = nil) -> Data {
    var bytes = Data()
    let headerBytes = Array(header.utf8)
    withUnsafeBytes(of: (declaredLength ?? UInt64(headerBytes.count)).littleEndian) { bytes.append(contentsOf: $0) }
    bytes.append(contentsOf: headerBytes)
    bytes.append(contentsOf: data)
    return bytes
}

@Suite struct SafeTensorsMalformedTests {
    typealias Failure = SafeTensors.Error

    @Test func validMinimalFileParses() throws {
        // Sanity check for the helper: one F32 tensor [2] = 8 bytes, 1.0 and -2.0.
        let file = try SafeTensors.File(bytes: handBuiltFile(
            header: #"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#,
            data: [0, 0, 0x80, 0x3F, 0, 0, 0, 0xC0]))
        #expect(try file.floats(of: "w") == [1.0, -2.0])
        #expect(file.metadata.isEmpty)
    }

    @Test func fileShorterThanEightBytes() {
        #expect(throws: Failure.fileTooShort(byteCount: 3)) { try SafeTensors.File(bytes: Data([1, 2, 3])) }
        #expect(throws: Failure.fileTooShort(byteCount: 0)) { try SafeTensors.File(bytes: Data()) }
    }

    @Test func headerLengthAboveTheBound() {
        let bytes = handBuiltFile(header: "{}", declaredLength: 100_000_001)
        #expect(throws: Failure.headerTooLarge(declared: 100_000_001)) { try SafeTensors.File(bytes: bytes) }
        let huge = handBuiltFile(header: "{}", declaredLength: UInt64.max)
        #expect(throws: Failure.headerTooLarge(declared: UInt64.max)) { try SafeTensors.File(bytes: huge) }
    }

    @Test func headerLengthBeyondTheFile() {
        let bytes = handBuiltFile(header: "{}      ", declaredLength: 9)
        #expect(throws: Failure.headerLengthExceedsFile(declared: 9, fileSize: 16)) { try SafeTensors.File(bytes: bytes) }
    }

    @Test func headerNotUTF8() {
        var bytes = Data([3, 0, 0, 0, 0, 0, 0, 0])
        bytes.append(contentsOf: [0x7B, 0xFF, 0x7D])  // "{", invalid byte, "}"
        #expect(throws: Failure.headerNotUTF8) { try SafeTensors.File(bytes: bytes) }
    }

    @Test func headerNotJSON() {
        for header in [#"{"w":"#, "{,}", #"{"w":01}"#, #"{"a":1} x"#, #"{"a":"\q"}"#] {
            do { _ = try SafeTensors.File(bytes: handBuiltFile(header: header)); Issue.record("accepted \(header)") } catch {
                guard case Failure.invalidJSON = error else { Issue.record("\(header): \(error)"); continue }
            }
        }
        #expect(throws: Failure.headerDoesNotStartWithBrace) { try SafeTensors.File(bytes: handBuiltFile(header: "[1,2]   ")) }
        #expect(throws: Failure.headerDoesNotStartWithBrace) { try SafeTensors.File(bytes: handBuiltFile(header: " {}     ")) }
    }

    @Test func missingAndExtraFields() {
        let missing = handBuiltFile(header: #"{"w":{"dtype":"F32","shape":[1]}}"#, data: [0, 0, 0, 0])
        #expect(throws: Failure.missingField(tensor: "w", field: "data_offsets")) { try SafeTensors.File(bytes: missing) }
        let noDType = handBuiltFile(header: #"{"w":{"shape":[1],"data_offsets":[0,4]}}"#, data: [0, 0, 0, 0])
        #expect(throws: Failure.missingField(tensor: "w", field: "dtype")) { try SafeTensors.File(bytes: noDType) }
        let extra = handBuiltFile(header: #"{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"stride":[1]}}"#, data: [0, 0, 0, 0])
        #expect(throws: Failure.unexpectedField(tensor: "w", field: "stride")) { try SafeTensors.File(bytes: extra) }
        let wrongType = handBuiltFile(header: #"{"w":{"dtype":"F32","shape":"1","data_offsets":[0,4]}}"#, data: [0, 0, 0, 0])
        #expect(throws: Failure.invalidField(tensor: "w", field: "shape", reason: "expected an array, found string")) {
            try SafeTensors.File(bytes: wrongType)
        }
        let threeOffsets = handBuiltFile(header: #"{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4,8]}}"#, data: [0, 0, 0, 0])
        #expect(throws: Failure.invalidField(tensor: "w", field: "data_offsets",
                                             reason: "expected [begin, end] of non-negative integers")) {
            try SafeTensors.File(bytes: threeOffsets)
        }
    }

    @Test func unknownDType() {
        let bytes = handBuiltFile(header: #"{"w":{"dtype":"F33","shape":[1],"data_offsets":[0,4]}}"#, data: [0, 0, 0, 0])
        #expect(throws: Failure.unknownDType(tensor: "w", dtype: "F33")) { try SafeTensors.File(bytes: bytes) }
    }

    @Test func negativeOrNonIntegerShapeEntries() {
        for (shape, described) in [("[-1]", "[-1]"), ("[2.5]", "[2.5]"), ("[1e0]", "[1e0]"), (#"["2"]"#, #"["2"]"#),
                                   ("[99999999999999999999]", "[99999999999999999999]")] {
            let bytes = handBuiltFile(header: #"{"w":{"dtype":"U8","shape":"# + shape + #","data_offsets":[0,1]}}"#, data: [7])
            #expect(throws: Failure.invalidShape(tensor: "w", shape: described)) { try SafeTensors.File(bytes: bytes) }
        }
    }

    @Test func shapeProductOverflows() {
        // 2^62 × 4 elements × 4 bytes overflows Int64.
        let bytes = handBuiltFile(header: #"{"w":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,0]}}"#)
        #expect(throws: Failure.sizeOverflow(tensor: "w")) { try SafeTensors.File(bytes: bytes) }
    }

    @Test func byteCountDisagreesWithShape() {
        // F32 [2] needs 8 bytes; the entry spans 4.
        let bytes = handBuiltFile(header: #"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}"#, data: [0, 0, 0, 0])
        #expect(throws: Failure.byteCountMismatch(tensor: "w", expected: 8, actual: 4)) { try SafeTensors.File(bytes: bytes) }
    }

    @Test func offsetsOutsideTheDataSection() {
        let pastEnd = handBuiltFile(header: #"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#, data: [0, 0, 0, 0])
        #expect(throws: Failure.offsetsOutOfBounds(tensor: "w", begin: 0, end: 8, dataSize: 4)) { try SafeTensors.File(bytes: pastEnd) }
        let reversed = handBuiltFile(header: #"{"w":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}}"#, data: [0, 0, 0, 0])
        #expect(throws: Failure.offsetsOutOfBounds(tensor: "w", begin: 4, end: 0, dataSize: 4)) { try SafeTensors.File(bytes: reversed) }
        let negative = handBuiltFile(header: #"{"w":{"dtype":"F32","shape":[1],"data_offsets":[-4,0]}}"#, data: [0, 0, 0, 0])
        #expect(throws: Failure.invalidField(tensor: "w", field: "data_offsets",
                                             reason: "expected [begin, end] of non-negative integers")) {
            try SafeTensors.File(bytes: negative)
        }
    }

    @Test func overlappingTensors() {
        let bytes = handBuiltFile(
            header: #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#,
            data: Array(repeating: 0, count: 12))
        #expect(throws: Failure.overlappingTensors("a", "b")) { try SafeTensors.File(bytes: bytes) }
    }

    @Test func gapBetweenTensors() {
        let bytes = handBuiltFile(
            header: #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}"#,
            data: Array(repeating: 0, count: 12))
        #expect(throws: Failure.gapInData(offset: 4, before: "b")) { try SafeTensors.File(bytes: bytes) }
    }

    @Test func bytesAfterTheLastTensor() {
        let bytes = handBuiltFile(header: #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#, data: Array(repeating: 0, count: 8))
        #expect(throws: Failure.trailingBytes(dataEnd: 4, dataSize: 8)) { try SafeTensors.File(bytes: bytes) }
    }

    @Test func duplicateNames() {
        let bytes = handBuiltFile(
            header: #"{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"a":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}"#,
            data: [1, 2])
        #expect(throws: Failure.duplicateKey("a", inObject: "header")) { try SafeTensors.File(bytes: bytes) }
        let twoMetadata = handBuiltFile(header: #"{"__metadata__":{},"__metadata__":{}}"#)
        #expect(throws: Failure.duplicateKey("__metadata__", inObject: "header")) { try SafeTensors.File(bytes: twoMetadata) }
    }

    @Test func metadataMustMapStringsToStrings() {
        let nonString = handBuiltFile(header: #"{"__metadata__":{"format":1}}"#)
        #expect(throws: Failure.invalidMetadata(key: "format")) { try SafeTensors.File(bytes: nonString) }
        let notObject = handBuiltFile(header: #"{"__metadata__":"pt"}"#)
        #expect(throws: Failure.invalidMetadata(key: "__metadata__")) { try SafeTensors.File(bytes: notObject) }
    }

    @Test func lookupsOfAbsentOrUnconvertibleTensors() throws {
        let file = try SafeTensors.File(bytes: handBuiltFile(
            header: #"{"mask":{"dtype":"BOOL","shape":[2],"data_offsets":[0,2]}}"#, data: [1, 0]))
        #expect(throws: Failure.tensorNotFound("nope")) { try file.bytes(of: "nope") }
        #expect(throws: Failure.unsupportedConversion(tensor: "mask", dtype: .bool)) { try file.floats(of: "mask") }
        #expect(try file.bytes(of: "mask") == Data([1, 0]))
    }

    @Test func errorMessagesNameTheTensor() {
        let message = String(describing: Failure.byteCountMismatch(tensor: "h.0.attn.c_attn.weight", expected: 8, actual: 4))
        #expect(message.contains("h.0.attn.c_attn.weight"))
    }
}
