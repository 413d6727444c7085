// GGUFMalformedTests.swift — one hand-built file per field the GGUF reader and the Llama loader
// validate, each refused with the error that names that field; and a seeded fuzz run over real files
// (FileMutator) in which every damaged copy either loads with sane values or throws.
import Foundation
import Testing
import Autodiff
import NN
import TestSupport
@testable import Checkpoints

/// Builds GGUF bytes field by field, independently of our writer, so tests can break any one field.
struct GGUFBytes {
    var bytes: [UInt8] = []
    mutating func raw(_ b: [UInt8]) { bytes += b }
    mutating func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { bytes += $0 } }
    mutating func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { bytes += $0 } }
    mutating func string(_ s: String) { u64(UInt64(s.utf8.count)); bytes += Array(s.utf8) }
    /// "GGUF", version, counts.
    mutating func header(version: UInt32 = 3, tensors: UInt64, keys: UInt64) {
        raw(Array("GGUF".utf8)); u32(version); u64(tensors); u64(keys)
    }
    mutating func u32Key(_ key: String, _ value: UInt32) { string(key); u32(4); u32(value) }
    mutating func tensor(_ name: String, dims: [UInt64], type: UInt32, offset: UInt64) {
        string(name); u32(UInt32(dims.count)); dims.forEach { u64($0) }; u32(type); u64(offset)
    }
    mutating func padTo(_ alignment: Int) { bytes += [UInt8](repeating: 0, count: (alignment - bytes.count % alignment) % alignment) }
    var data: Data { Data(bytes) }
}

@Suite struct GGUFMalformedTests {
    func problem(_ build: (inout GGUFBytes) -> Void) -> GGUF.Problem? {
        var b = GGUFBytes()
        build(&b)
        do { _ = try GGUF.File(bytes: b.data, label: "t.gguf"); return nil } catch let error as GGUF.Error {
            #expect(error.file == "t.gguf" && error.description.hasPrefix("t.gguf: gguf: "))
            return error.problem
        } catch { return nil }
    }

    @Test func aValidMinimalFileParses() throws {
        var b = GGUFBytes()
        b.header(tensors: 1, keys: 1); b.u32Key("k", 7)
        b.tensor("w", dims: [32, 2], type: 8, offset: 0)     // Q8_0 [2, 32]: 2 blocks × 34 bytes
        b.padTo(32); b.raw([UInt8](repeating: 0, count: 68))
        let file = try GGUF.File(bytes: b.data)
        #expect(file.metadata["k"] == .uint32(7))
        #expect(try file.info("w").shape == [2, 32] && (try file.info("w")).byteCount == 68)
        #expect(try file.floats(of: "w") == [Float](repeating: 0, count: 64))
    }

    @Test func headerFields() {
        #expect(problem { _ in } == .truncated(field: "magic", at: 0, needed: 4, fileSize: 0))
        #expect(problem { $0.raw(Array("GGML".utf8)); $0.u32(3) } == .badMagic(Array("GGML".utf8)))
        #expect(problem { $0.header(version: 1, tensors: 0, keys: 0) } == .unsupportedVersion(1))
        #expect(problem { $0.header(version: 0x0300_0000, tensors: 0, keys: 0) } == .unsupportedVersion(0x0300_0000))
        #expect(problem { $0.raw(Array("GGUF".utf8)); $0.u32(3); $0.u32(0) }
                == .truncated(field: "tensor_count", at: 8, needed: 8, fileSize: 12))
        if case .truncated(let field, _, _, _) = problem({ $0.header(tensors: 0, keys: 1 << 60) }) {
            #expect(field.contains("metadata entries"))
        } else { Issue.record("huge key count accepted") }
        if case .truncated(let field, _, _, _) = problem({ $0.header(tensors: UInt64.max, keys: 0) }) {
            #expect(field.contains("tensor infos"))
        } else { Issue.record("huge tensor count accepted") }
    }

    @Test func metadataFields() {
        if case .truncated(let field, _, _, _) = problem({ $0.header(tensors: 0, keys: 1); $0.u64(1 << 40); $0.raw([0, 0, 0, 0, 0]) }) {
            #expect(field == "metadata key #0")
        } else { Issue.record("huge key length accepted") }
        #expect(problem { $0.header(tensors: 0, keys: 1); $0.u64(2); $0.raw([0xC3, 0x28]); $0.u32(0); $0.raw([0]) }
                == .invalidUTF8(field: "metadata key #0"))
        #expect(problem { $0.header(tensors: 0, keys: 1); $0.string("k"); $0.u32(13); $0.u32(0) } == .unknownValueType(key: "k", raw: 13))
        #expect(problem { $0.header(tensors: 0, keys: 1); $0.string("k"); $0.u32(7); $0.raw([2]) } == .invalidBool(key: "k", byte: 2))
        #expect(problem { $0.header(tensors: 0, keys: 2); $0.u32Key("k", 1); $0.u32Key("k", 2) } == .duplicateKey("k"))
        #expect(problem { $0.header(tensors: 0, keys: 1); $0.string("k"); $0.u32(8); $0.u64(3); $0.raw([0x61]) }
                == .truncated(field: "'k'", at: 45, needed: 3, fileSize: 46))
        // Arrays: a bad element type, a count larger than the file, nesting past the bound.
        #expect(problem { $0.header(tensors: 0, keys: 1); $0.string("a"); $0.u32(9); $0.u32(99); $0.u64(0) } == .unknownValueType(key: "a", raw: 99))
        if case .truncated(let field, _, _, _) = problem({ $0.header(tensors: 0, keys: 1); $0.string("a"); $0.u32(9); $0.u32(4); $0.u64(1 << 50) }) {
            #expect(field.contains("elements of 'a'"))
        } else { Issue.record("huge array count accepted") }
        #expect(problem { b in
            b.header(tensors: 0, keys: 1); b.string("deep"); b.u32(9)
            for _ in 0..<GGUF.maximumArrayDepth { b.u32(9); b.u64(1) }   // array of array of … of arrays
            b.u32(4); b.u64(0)
        } == .arrayTooDeep(key: "deep"))
    }

    @Test func alignmentField() {
        #expect(problem { $0.header(tensors: 0, keys: 1); $0.u32Key("general.alignment", 0) } == .invalidAlignment("0 is not a power of two"))
        #expect(problem { $0.header(tensors: 0, keys: 1); $0.u32Key("general.alignment", 48) } == .invalidAlignment("48 is not a power of two"))
        #expect(problem { $0.header(tensors: 0, keys: 1); $0.string("general.alignment"); $0.u32(10); $0.u64(32) }
                == .invalidAlignment("must be a uint32, found uint64"))
    }

    @Test func tensorInfoFields() {
        func one(_ dims: [UInt64], type: UInt32 = 0, offset: UInt64 = 0, dataBytes: Int = 64) -> GGUF.Problem? {
            problem { b in
                b.header(tensors: 1, keys: 0); b.tensor("w", dims: dims, type: type, offset: offset)
                b.padTo(32); b.raw([UInt8](repeating: 0, count: dataBytes))
            }
        }
        #expect(one([1, 1, 1, 1, 1]) == .tooManyDimensions(tensor: "w", count: 5))
        #expect(one([1 << 63]) == .invalidDimension(tensor: "w", value: 1 << 63))
        #expect(one([1 << 32, 1 << 32]) == .sizeOverflow(tensor: "w"))
        #expect(one([4], type: 4) == .unknownTensorType(tensor: "w", raw: 4))
        #expect(one([31], type: 8) == .rowNotMultipleOfBlock(tensor: "w", row: 31, blockValues: 32, type: "Q8_0"))
        #expect(one([4], offset: 4) == .misalignedOffset(tensor: "w", offset: 4, alignment: 32))
        #expect(one([4], offset: 64) == .tensorOutOfBounds(tensor: "w", offset: 64, byteCount: 16, dataSize: 64))
        #expect(one([17]) == .tensorOutOfBounds(tensor: "w", offset: 0, byteCount: 68, dataSize: 64))
        #expect(problem { b in
            b.header(tensors: 2, keys: 0); b.tensor("w", dims: [4], type: 0, offset: 0); b.tensor("w", dims: [4], type: 0, offset: 32)
        } == .duplicateTensor("w"))
        #expect(problem { b in
            b.header(tensors: 2, keys: 0); b.tensor("a", dims: [16], type: 0, offset: 0); b.tensor("b", dims: [4], type: 0, offset: 32)
            b.padTo(32); b.raw([UInt8](repeating: 0, count: 64))
        } == .overlappingTensors("a", "b"))
        // The padding before the data section must exist when there are tensors.
        if case .truncated(let field, _, _, _) = problem({ $0.header(tensors: 1, keys: 0); $0.tensor("w", dims: [0], type: 0, offset: 0) }) {
            #expect(field == "padding before the data section")
        } else { Issue.record("missing padding accepted") }
    }

    @Test func undecodableTypesAreNamedWhenRead() throws {
        var b = GGUFBytes()
        b.header(tensors: 1, keys: 0); b.tensor("w", dims: [32], type: 6, offset: 0)   // Q5_0: 22 bytes per 32
        b.padTo(32); b.raw([UInt8](repeating: 0, count: 22))
        let file = try GGUF.File(bytes: b.data, label: "q5.gguf")
        #expect(throws: GGUF.Error(file: "q5.gguf", problem: .unsupportedTensorType(tensor: "w", type: "Q5_0"))) { try file.floats(of: "w") }
        #expect(throws: GGUF.Error(file: "q5.gguf", problem: .tensorNotFound("v"))) { try file.floats(of: "v") }
    }
}

@Suite struct GGUFLlamaRefusalTests {
    /// The tiny F32 Llama fixture with its metadata edited (keys replaced or removed) and tensors kept.
    func edited(metadata edit: (inout [(key: String, value: GGUF.Value)]) -> Void,
                tensors editTensors: (inout [GGUF.TensorToWrite]) throws -> Void = { _ in }) throws -> GGUF.File {
        let file = try GGUF.File(contentsOf: try ggufFixture("tiny-llama-F32.gguf"))
        var metadata = file.metadataKeys.map { (key: $0, value: file.metadata[$0]!) }
        edit(&metadata)
        var tensors = try file.tensors.map { try GGUF.TensorToWrite(name: $0.name, shape: $0.shape, type: $0.type, bytes: try file.bytes(of: $0.name)) }
        try editTensors(&tensors)
        return try GGUF.File(bytes: try GGUF.encode(metadata: metadata, tensors: tensors), label: "edited.gguf")
    }

    func loadProblem(_ file: GGUF.File) -> String {
        do { _ = try ModelCheckpoint.model(from: file); return "loaded" } catch { return "\(error)" }
    }

    @Test func otherArchitecturesAreRefusedByName() throws {
        let qwen = try edited { m in m[0] = ("general.architecture", .string("qwen2")) }
        #expect(loadProblem(qwen) == "edited.gguf: gguf: architecture 'qwen2' is not supported (only 'llama' loads into our GPT)")
    }

    @Test func missingAndInvalidHyperparametersNameTheKey() throws {
        let missing = try edited { m in m.removeAll { $0.key == "llama.block_count" } }
        #expect(loadProblem(missing).contains("'llama.block_count' is missing"))
        let wrongType = try edited { m in
            m = m.map { $0.key == "llama.embedding_length" ? ($0.key, .string("32")) : $0 }
        }
        #expect(loadProblem(wrongType).contains("'llama.embedding_length' is not an integer"))
        let badHeads = try edited { m in m = m.map { $0.key == "llama.attention.head_count_kv" ? ($0.key, .uint32(3)) : $0 } }
        #expect(loadProblem(badHeads).contains("heads 4 not divisible by kvHeads 3"))
        let rope = try edited { m in m = m.map { $0.key == "llama.rope.dimension_count" ? ($0.key, .uint32(4)) : $0 } }
        #expect(loadProblem(rope).contains("'llama.rope.dimension_count': 4 differs from the head size 8"))
        let huge = try edited { m in m = m.map { $0.key == "llama.block_count" ? ($0.key, .uint32(1_000_000)) : $0 } }
        #expect(loadProblem(huge).contains("'llama.block_count': 1000000 blocks need at least 9000002 tensors, the file has 21"))
    }

    @Test func tensorProblemsAreListedTogether() throws {
        let file = try edited(metadata: { _ in }) { tensors in
            tensors.removeAll { $0.name == "blk.1.ffn_up.weight" }
            tensors.append(try GGUF.TensorToWrite(name: "rope_freqs.weight", shape: [4], floats: [1, 1, 1, 1], as: .f32))
            let i = tensors.firstIndex { $0.name == "blk.0.attn_q.weight" }!
            tensors[i] = try GGUF.TensorToWrite(name: "blk.0.attn_q.weight", shape: [32, 32], type: .q5_0,
                                                bytes: Data(count: 32 * 22))
        }
        let message = loadProblem(file)
        #expect(message.contains("blk.0.attn_q.weight has unsupported type Q5_0"))
        #expect(message.contains("missing blk.1.ffn_up.weight"))
        #expect(message.contains("unexpected tensors rope_freqs.weight"))
    }
}

@Suite struct GGUFFuzzTests {
    /// Every damaged copy of a real file either throws a `GGUF.Error` or parses into a file whose
    /// tensors decode to the right number of values and whose model (if it loads) has that many logits.
    @Test(arguments: ["kquants.gguf", "tiny-llama-Q4_0.gguf"])
    func mutatedFilesLoadSanelyOrThrow(fixture: String) throws {
        let original = try Data(contentsOf: try ggufFixture(fixture))
        var mutator = FileMutator(seed: 0x6767_7566)
        var (parsed, refused, models) = (0, 0, 0)
        for index in 0..<2_000 {
            let (mutant, kind) = mutator.mutate(original)
            do {
                let file = try GGUF.File(bytes: mutant, label: "mutant")
                parsed += 1
                for tensor in file.tensors where GGUF.TensorType.decodable.contains(tensor.type) {
                    let values = try file.floats(of: tensor.name)
                    #expect(values.count == tensor.elementCount, "mutation \(index) (\(kind)): \(tensor.name)")
                }
                if file.metadata["general.architecture"] == .string("llama"), let model = try? ModelCheckpoint.model(from: file) {
                    models += 1
                    let logits = model([0], batch: 1, steps: 1)
                    #expect(logits.shape == [1, model.config.vocabularySize], "mutation \(index) (\(kind))")
                }
            } catch is GGUF.Error {
                refused += 1
            } catch {
                Issue.record("mutation \(index) (\(kind)) threw a non-GGUF error: \(error)")
            }
        }
        // Both outcomes occur: the run exercised the validation and the decoding.
        #expect(parsed > 100 && refused > 100, "parsed \(parsed), refused \(refused), models \(models)")
    }
}
