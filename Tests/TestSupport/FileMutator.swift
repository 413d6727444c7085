// FileMutator.swift — seeded mutations of valid files, for the fuzz tests of every reader.
//
// Teaches: how to fuzz a parser without a fuzzing engine. Start from a file the reader accepts, damage it
// the ways real files get damaged (a flipped bit, a cut-off end, a size field set to something huge or
// negative, a byte repeated, a chunk deleted), and hand each variant to the reader. The reader must either
// succeed with sane values or throw — never crash, hang or return garbage. The mutations are seeded, so a
// failure prints a seed and a mutation index that reproduce it exactly.
// Leaves out: coverage guidance (libFuzzer, AFL); here every mutation is blind, which is enough to find
// the unchecked sizes and offsets that crash a reader.
import Foundation

/// A seeded generator of damaged copies of one valid file.
///
/// Deterministic: the same `seed` and `original` give the same sequence of mutants on every run.
/// Text-aware mutations (`textMutations`) rewrite numbers and structure of text files (JSON, JSONL,
/// merges.txt); byte mutations work on any file.
public struct FileMutator: Sendable {
    /// One way of damaging a file, named so a failing test can say what it did.
    public enum Mutation: String, CaseIterable, Sendable {
        case flipBit, setByte, truncate, deleteChunk, duplicateChunk, insertBytes
        case overwriteLittleEndian64, overwriteLittleEndian32
        // Text-only mutations.
        case replaceNumber, swapLineEndingsToCRLF, addByteOrderMark, deleteCharacter, duplicateLine
    }

    /// Interesting integer values to write into size and count fields.
    public static let interestingIntegers: [UInt64] = [
        0, 1, 2, 3, 7, 8, 255, 256, 65_535, 65_536, 0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFF,
        0x1_0000_0000, 0x7FFF_FFFF_FFFF_FFFF, 0x8000_0000_0000_0000, 0xFFFF_FFFF_FFFF_FFFF,
    ]

    /// Interesting numbers to substitute into text files (JSON numbers, ids, sizes).
    public static let interestingNumberTexts: [String] = [
        "0", "-1", "1", "-0", "2147483648", "9223372036854775807", "9223372036854775808",
        "18446744073709551616", "1e39", "1e309", "-1e309", "1e-320", "0.5", "NaN", "true", "null", "\"7\"",
        "1000000000000",
    ]

    private var state: UInt64

    /// A mutator whose whole sequence is fixed by `seed`.
    public init(seed: UInt64) { state = seed ^ 0x9E37_79B9_7F4A_7C15 }

    /// The next 64 random bits (SplitMix64; the test support cannot import the library's RNG).
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniform integer in `0..<bound` (`bound` > 0).
    public mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(max(bound, 1))) }

    /// One damaged copy of `original`, and the mutation that made it. Byte mutations only.
    public mutating func mutate(_ original: Data) -> (Data, Mutation) {
        let byteKinds: [Mutation] = [.flipBit, .setByte, .truncate, .deleteChunk, .duplicateChunk, .insertBytes,
                                     .overwriteLittleEndian64, .overwriteLittleEndian32]
        let kind = byteKinds[below(byteKinds.count)]
        return (apply(kind, to: original), kind)
    }

    /// One damaged copy of a text file: half the time a text-aware mutation, otherwise a byte mutation.
    public mutating func mutateText(_ original: String) -> (Data, Mutation) {
        if next() & 1 == 0 { return mutate(Data(original.utf8)) }
        let textKinds: [Mutation] = [.replaceNumber, .swapLineEndingsToCRLF, .addByteOrderMark, .deleteCharacter,
                                     .duplicateLine]
        let kind = textKinds[below(textKinds.count)]
        return (Data(applyText(kind, to: original).utf8), kind)
    }

    /// Applies one byte mutation at a random place.
    public mutating func apply(_ kind: Mutation, to original: Data) -> Data {
        var bytes = [UInt8](original)
        guard !bytes.isEmpty else { return Data([UInt8(truncatingIfNeeded: next())]) }
        let at = below(bytes.count)
        switch kind {
        case .flipBit: bytes[at] ^= UInt8(1) << UInt8(below(8))
        case .setByte: bytes[at] = [0x00, 0xFF, 0x7F, 0x80, UInt8(truncatingIfNeeded: next())][below(5)]
        case .truncate: bytes.removeSubrange(at..<bytes.count)
        case .deleteChunk: bytes.removeSubrange(at..<min(bytes.count, at + 1 + below(16)))
        case .duplicateChunk:
            let chunk = bytes[at..<min(bytes.count, at + 1 + below(16))]
            bytes.insert(contentsOf: chunk, at: at)
        case .insertBytes: bytes.insert(contentsOf: (0..<(1 + below(8))).map { _ in UInt8(truncatingIfNeeded: next()) }, at: at)
        case .overwriteLittleEndian64, .overwriteLittleEndian32:
            // Size and offset fields: write an extreme value over 8 (or 4) bytes at an aligned place.
            let width = kind == .overwriteLittleEndian64 ? 8 : 4
            let start = (at / width) * width
            let value = Self.interestingIntegers[below(Self.interestingIntegers.count)]
            for k in 0..<width where start + k < bytes.count { bytes[start + k] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(k))) }
        default: return Data(applyText(kind, to: String(decoding: bytes, as: UTF8.self)).utf8)
        }
        return Data(bytes)
    }

    /// Applies one text mutation at a random place.
    public mutating func applyText(_ kind: Mutation, to text: String) -> String {
        var characters = Array(text)
        switch kind {
        case .replaceNumber:
            // Replace one run of digits (with an optional sign, point or exponent) by an extreme value.
            let starts = characters.indices.filter { characters[$0].isNumber && ($0 == 0 || !characters[$0 - 1].isNumber) }
            guard !starts.isEmpty else { return text }
            let start = starts[below(starts.count)]
            var end = start
            while end < characters.count, characters[end].isNumber || ".eE+-".contains(characters[end]) { end += 1 }
            let replacement = Self.interestingNumberTexts[below(Self.interestingNumberTexts.count)]
            characters.replaceSubrange(start..<end, with: Array(replacement))
            return String(characters)
        case .swapLineEndingsToCRLF: return text.replacingOccurrences(of: "\n", with: "\r\n")
        case .addByteOrderMark: return "\u{FEFF}" + text
        case .deleteCharacter:
            guard !characters.isEmpty else { return text }
            characters.remove(at: below(characters.count))
            return String(characters)
        case .duplicateLine:
            var lines = text.components(separatedBy: "\n")
            guard !lines.isEmpty else { return text }
            let at = below(lines.count)
            lines.insert(lines[at], at: at)
            return lines.joined(separator: "\n")
        default: return String(decoding: apply(kind, to: Data(text.utf8)), as: UTF8.self)
        }
    }
}
