// ByteLevel.swift — GPT-2's byte-to-character table and its pre-tokenizer.
//
// Teaches: how byte-level BPE covers every possible string with a 256-symbol base alphabet. Text is
// UTF-8 bytes; each byte is shown as a printable character (bytes that are printable Latin-1 map to
// themselves, the rest to U+0100 and up), so merges can be stored as text. Before merging, text is
// split into pieces — words with their leading space, runs of digits, runs of punctuation, runs of
// whitespace — so merges never cross a word boundary. This is GPT-2's regular expression
//   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
// written out by hand as a scanner over Unicode scalars.
// Other models' patterns (Llama 3, Qwen 2, SmolLM's digit split) are in PreTokenizer.swift.
// Leaves out: nothing of GPT-2's pattern; `Kind` is shared by every scanner.

/// GPT-2's byte-level conventions (caseless namespace).
public enum ByteLevel {
    /// byte → printable character, GPT-2's `bytes_to_unicode`.
    public static let byteToCharacter: [Character] = {
        var printable = Array(33...126) + Array(161...172) + Array(174...255)
        var table = [Character](repeating: " ", count: 256)
        var next = 256
        for byte in 0..<256 {
            if printable.contains(byte) {
                table[byte] = Character(Unicode.Scalar(UInt8(byte)))
            } else {
                table[byte] = Character(Unicode.Scalar(UInt32(next))!)
                next += 1
            }
        }
        printable.removeAll()
        return table
    }()

    /// printable character → byte (the inverse table).
    public static let characterToByte: [Character: UInt8] = {
        Dictionary(uniqueKeysWithValues: byteToCharacter.enumerated().map { ($0.element, UInt8($0.offset)) })
    }()

    /// The UTF-8 bytes of `piece` as printable characters.
    public static func encodeBytes(_ piece: String) -> String {
        String(piece.utf8.map { byteToCharacter[Int($0)] })
    }

    /// Printable characters back to the text they encode (invalid UTF-8 is repaired with U+FFFD).
    public static func decodeBytes(_ text: String) -> String {
        let bytes = text.compactMap { characterToByte[$0] }
        return String(decoding: bytes, as: UTF8.self)
    }

    enum Kind { case letter, number, space, other }

    static func kind(_ scalar: Unicode.Scalar) -> Kind {
        if scalar.properties.isWhitespace { return .space }
        switch scalar.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: return .letter
        case .decimalNumber, .letterNumber, .otherNumber: return .number
        default: return .other
        }
    }

    static let contractions: [[Unicode.Scalar]] = ["s", "t", "re", "ve", "m", "ll", "d"].map { Array($0.unicodeScalars) }

    /// Splits text into GPT-2 pre-tokens (concatenating them gives the text back).
    public static func split(_ text: String) -> [String] {
        let scanner = ScalarScanner(text)
        let s = scanner.scalars
        return scanner.pieces { i in
            // 1. Contractions: 's 't 're 've 'm 'll 'd.
            if s[i] == "'", let match = contractions.first(where: { c in
                i + 1 + c.count <= s.count && Array(s[(i + 1)..<(i + 1 + c.count)]) == c }) {
                return i + 1 + match.count
            }
            // 2. An optional single space, then a run of letters, digits, or other symbols.
            let start = s[i] == " " && i + 1 < s.count && scanner.kind(i + 1) != .space ? i + 1 : i
            let first = scanner.kind(start)
            if first != .space { return scanner.run(from: start) { scanner.kind($0) == first } }
            // 3. Whitespace.
            return scanner.whitespaceEnd(from: i)
        }
    }
}

/// Text as an array of Unicode scalars, with what every pattern scanner needs.
struct ScalarScanner {
    let scalars: [Unicode.Scalar]

    init(_ text: String) { scalars = Array(text.unicodeScalars) }

    func kind(_ i: Int) -> ByteLevel.Kind { ByteLevel.kind(scalars[i]) }

    /// The first index from `start` where `accept` fails (or the end).
    func run(from start: Int, while accept: (Int) -> Bool) -> Int {
        var j = start
        while j < scalars.count && accept(j) { j += 1 }
        return j
    }

    /// `\s+(?!\S)|\s+` at `i`: a whitespace run all of it at the end of the text; otherwise all but its
    /// last character (which then leads the next word), or the single character.
    func whitespaceEnd(from i: Int) -> Int {
        let runEnd = run(from: i) { kind($0) == .space }
        return runEnd == scalars.count || runEnd - i == 1 ? runEnd : runEnd - 1
    }

    /// The text cut into consecutive pieces; `end(i)` (> i) is where the piece starting at `i` ends.
    func pieces(_ end: (Int) -> Int) -> [String] {
        var pieces: [String] = []
        var i = 0
        while i < scalars.count {
            let next = end(i)
            var piece = String.UnicodeScalarView()
            piece.append(contentsOf: scalars[i..<next])
            pieces.append(String(piece))
            i = next
        }
        return pieces
    }
}
