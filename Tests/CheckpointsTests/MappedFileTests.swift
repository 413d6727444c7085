// MappedFileTests.swift — giving back a mapped checkpoint's pages drops them from resident memory and
// never changes what is read: tensors read again after their pages went back are bit-identical.
import Testing
import Foundation
@testable import Checkpoints

@Suite struct MappedFileTests {
    /// A fresh directory, removed by the caller.
    static func scratchDirectory() throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tinytune-mapped-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }

    /// 300 K distinct floats (1.2 MB: hundreds of pages).
    static let values: [Float] = (0..<300_000).map { Float($0) * 0.001 - 7 }

    @Test func safetensorsReadTwiceAfterThePagesWentBackAreIdentical() throws {
        let directory = try Self.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("w.safetensors")
        try SafeTensors.write([try .init(name: "a", shape: [300, 1000], floats: Self.values),
                               try .init(name: "b", shape: [3], floats: [1, 2, 3])], to: url)
        let file = try SafeTensors.File(contentsOf: url)
        let first = try file.floats(of: "a")
        let again = try file.floats(of: "a")
        #expect(first == Self.values)
        #expect(again == Self.values)
        #expect(try file.bytes(of: "a") == file.bytes(of: "a"))
        #expect(try file.floats(of: "b") == [1, 2, 3])
    }

    @Test func ggufReadTwiceAfterThePagesWentBackAreIdentical() throws {
        let directory = try Self.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("w.gguf")
        try GGUF.write(metadata: [(key: "general.architecture", value: .string("llama"))],
                       tensors: [try .init(name: "a", shape: [300, 1000], floats: Self.values, as: .f32),
                                 try .init(name: "b", shape: [32], floats: (0..<32).map(Float.init), as: .f32)], to: url)
        let file = try GGUF.File(contentsOf: url)
        let stored = try [UInt8](file.bytes(of: "a"))
        file.releasePages(of: "a")
        #expect(try [UInt8](file.bytes(of: "a")) == stored)
        #expect(try file.floats(of: "a") == Self.values)
        #expect(try file.floats(of: "a") == Self.values)
        #expect(try file.floats(of: "b") == (0..<32).map(Float.init))
    }

    #if os(Linux)
    /// Resident kilobytes of the mapping that starts at `base`, from /proc/self/smaps.
    static func residentKilobytes(of base: UnsafeMutableRawPointer) throws -> Int? {
        let start = UInt(bitPattern: base)
        // /proc files report a size of 0, so read them to the end rather than by their size.
        guard let handle = FileHandle(forReadingAtPath: "/proc/self/smaps") else { return nil }
        defer { try? handle.close() }
        let lines = String(decoding: try handle.readToEnd() ?? Data(), as: UTF8.self).split(separator: "\n")
        guard let header = lines.firstIndex(where: { line in
            line.split(separator: "-").first.flatMap { UInt($0, radix: 16) } == start
        }) else { return nil }
        let rss = lines[(header + 1)...].first { $0.hasPrefix("Rss:") }
        return rss.flatMap { Int($0.split(separator: " ")[1]) }
    }

    @Test func givenBackPagesLeaveResidentMemory() throws {
        let directory = try Self.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("blob")
        try Data(repeating: 7, count: 4 << 20).write(to: url)
        let mapping = try #require(MappedFile(url))
        // Touch every byte: the whole 4 MB becomes resident in this mapping.
        let sum = mapping.data.reduce(0) { $0 &+ Int($1) }
        #expect(sum == 7 * (4 << 20))
        let before = try #require(try Self.residentKilobytes(of: mapping.base))
        mapping.releasePages(0..<mapping.data.count)
        let after = try #require(try Self.residentKilobytes(of: mapping.base))
        #expect(before >= 4000, "touched: \(before) kB resident")
        #expect(after <= 8, "given back: \(after) kB still resident")
        // And the bytes are still there.
        #expect(mapping.data.allSatisfy { $0 == 7 })
    }
    #endif
}
