// PreTokenizer.swift — cutting text into the pieces BPE merges inside, as each model family does it.
//
// Teaches: merges never cross a pre-token boundary, so where the cuts go is part of the tokenizer, as much
// as its vocabulary. Byte-level models differ mostly here:
// - GPT-2:   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
// - Llama 3: (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|
//            \s*[\r\n]+|\s+(?!\S)|\s+        (case-insensitive contractions, numbers in threes,
//            a punctuation mark may lead a word, newlines stay with the whitespace before them)
// - Qwen 2:  Llama 3's pattern with \p{N} (one digit per piece).
// - SmolLM / StarCoder: every digit is its own piece first (`Digits`), then GPT-2's pattern.
// Hugging Face writes these as a `pre_tokenizer` (a `Sequence` of `Split`, `Digits` and `ByteLevel`
// steps); llama.cpp's GGUF files name them (`tokenizer.ggml.pre`). Both are mapped onto `PreTokenizer`.
// Each pattern is a hand-written scanner over Unicode scalars (so the rules can be read, and no regex
// engine's dialect leaks in); a pattern we do not know is refused, never approximated.
// Leaves out: Metaspace (SentencePiece-style), Whitespace, Punctuation and the other non-byte-level steps.

/// A regular expression a byte-level tokenizer splits text with; each is implemented as a scanner.
public enum SplitPattern: String, Sendable, Equatable, CaseIterable {
    case gpt2, llama3, qwen2

    /// The pattern as Hugging Face's tokenizer.json spells it (`Split.pattern.Regex`, or ByteLevel's built-in).
    public var regex: String {
        switch self {
        case .gpt2: return #"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"#
        case .llama3: return #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#
        case .qwen2: return #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#
        }
    }

    /// The pattern whose text is `regex`, or nil when it is none we implement.
    public init?(regex: String) {
        guard let known = SplitPattern.allCases.first(where: { $0.regex == regex }) else { return nil }
        self = known
    }

    /// Splits `text` into consecutive pieces (their concatenation is `text`).
    public func split(_ text: String) -> [String] {
        switch self {
        case .gpt2: return ByteLevel.split(text)
        case .llama3: return Self.llama3Split(text, maximumDigits: 3)
        case .qwen2: return Self.llama3Split(text, maximumDigits: 1)
        }
    }

    /// Llama 3's pattern as a scanner; `maximumDigits` is 3 for Llama 3 and 1 for Qwen 2.
    static func llama3Split(_ text: String, maximumDigits: Int) -> [String] {
        let scanner = ScalarScanner(text)
        let s = scanner.scalars
        func kind(_ i: Int) -> ByteLevel.Kind { scanner.kind(i) }
        func isNewline(_ i: Int) -> Bool { s[i] == "\r" || s[i] == "\n" }
        return scanner.pieces { i in
            if let contraction = caseInsensitiveContraction(s, at: i) {
                // 1. (?i:'s|'t|'re|'ve|'m|'ll|'d)
                return contraction
            } else if kind(i) == .letter {
                // 2. \p{L}+ (the optional leading character is absent)
                return scanner.run(from: i) { kind($0) == .letter }
            } else if kind(i) != .number && !isNewline(i) && i + 1 < s.count && kind(i + 1) == .letter {
                // 2. [^\r\n\p{L}\p{N}]\p{L}+ — one space, tab or punctuation mark leads the word.
                return scanner.run(from: i + 1) { kind($0) == .letter }
            } else if kind(i) == .number {
                // 3. \p{N}{1,3} (or \p{N})
                return min(scanner.run(from: i) { kind($0) == .number }, i + maximumDigits)
            } else if let symbols = symbolRun(s, at: i) {
                // 4. ` ?[^\s\p{L}\p{N}]+[\r\n]*`
                return scanner.run(from: symbols, while: isNewline)
            }
            // 5–7. Whitespace. `\s*[\r\n]+` takes the run up to its last newline; otherwise
            //      `\s+(?!\S)` leaves the last space to lead the next word, and `\s+` takes the rest.
            let runEnd = scanner.run(from: i) { kind($0) == .space }
            if let lastNewline = (i..<runEnd).last(where: isNewline) { return lastNewline + 1 }
            return scanner.whitespaceEnd(from: i)
        }
    }

    /// The end of `'s 't 're 've 'm 'll 'd` in any letter case starting at `i`, if one starts there.
    static func caseInsensitiveContraction(_ s: [Unicode.Scalar], at i: Int) -> Int? {
        guard s[i] == "'" else { return nil }
        // ASCII letters lowered; anything else never matches.
        func lower(_ k: Int) -> String { k < s.count && s[k].isASCII ? String(Character(s[k])).lowercased() : "" }
        if ["s", "t", "m", "d"].contains(lower(i + 1)) { return i + 2 }
        return ["re", "ve", "ll"].contains(lower(i + 1) + lower(i + 2)) ? i + 3 : nil
    }

    /// The end of ` ?[^\s\p{L}\p{N}]+` starting at `i`, if it matches there.
    static func symbolRun(_ s: [Unicode.Scalar], at i: Int) -> Int? {
        let start = s[i] == " " && i + 1 < s.count ? i + 1 : i
        guard ByteLevel.kind(s[start]) == .other else { return nil }
        var j = start
        while j < s.count && ByteLevel.kind(s[j]) == .other { j += 1 }
        return j
    }
}

/// The pre-tokenization of a byte-level BPE tokenizer: a sequence of splitting steps.
///
/// Each step takes the pieces of the step before and may cut each further; the pieces of the last step
/// are spelled in byte symbols and merged separately. `pieces(of: s).joined()` is `s` (plus one leading
/// space per piece where a `byteLevel` step has `addPrefixSpace`).
public struct PreTokenizer: Sendable, Equatable {
    /// One step, in Hugging Face's vocabulary.
    public enum Step: Sendable, Equatable {
        /// `Split` with behaviour `Isolated`: every match of the pattern is a piece (every character matches).
        case split(SplitPattern)
        /// `Digits`: with `individualDigits` each \p{N} scalar is a piece, otherwise each run of them.
        case digits(individualDigits: Bool)
        /// `ByteLevel`: optionally a space before every piece that does not start with one, then
        /// (with `useRegex`) GPT-2's pattern.
        case byteLevel(addPrefixSpace: Bool, useRegex: Bool)
    }

    /// The steps, applied in order.
    public let steps: [Step]

    /// A pre-tokenizer running `steps` in order.
    public init(steps: [Step]) { self.steps = steps }

    /// GPT-2's: ByteLevel without a prefix space, with its pattern.
    public static let gpt2 = PreTokenizer(steps: [.byteLevel(addPrefixSpace: false, useRegex: true)])
    /// SmolLM's and StarCoder's: every digit alone, then GPT-2's pattern.
    public static let smolLM = PreTokenizer(steps: [.digits(individualDigits: true), .byteLevel(addPrefixSpace: false, useRegex: true)])
    /// Llama 3's: its pattern, then ByteLevel without a pattern.
    public static let llama3 = PreTokenizer(steps: [.split(.llama3), .byteLevel(addPrefixSpace: false, useRegex: false)])
    /// Qwen 2's: Llama 3's pattern with single digits, then ByteLevel without a pattern.
    public static let qwen2 = PreTokenizer(steps: [.split(.qwen2), .byteLevel(addPrefixSpace: false, useRegex: false)])

    /// The pre-tokenizer llama.cpp uses for a `tokenizer.ggml.pre` name, and whether that name also sets
    /// llama.cpp's `ignore_merges` (Llama 3). Names whose rules we do not implement throw.
    public static func named(ggufPre name: String) throws -> (preTokenizer: PreTokenizer, ignoreMerges: Bool) {
        switch name {
        case "gpt-2", "gpt2", "mpt", "olmo", "jais", "phi-2", "roberta-bpe": return (.gpt2, false)
        case "smollm", "starcoder", "refact", "command-r", "codeshell", "exaone", "minerva-7b": return (.smolLM, false)
        case "llama3", "llama-v3", "llama-bpe": return (.llama3, true)
        case "qwen2", "stablelm2", "deepseek-r1-qwen": return (.qwen2, false)
        default:
            throw TokenizerFileError(file: "GGUF metadata", problem: "tokenizer.ggml.pre \"\(name)\" is not a pre-tokenizer TinyTune implements (known: gpt2, smollm, starcoder, llama-bpe, llama3, qwen2, …)")
        }
    }

    /// The pieces of `text`, in order.
    public func pieces(of text: String) -> [String] {
        var pieces = [text]
        for step in steps {
            pieces = pieces.flatMap { piece -> [String] in
                switch step {
                case .split(let pattern): return pattern.split(piece)
                case .digits(let individual): return Self.splitDigits(piece, individual: individual)
                case .byteLevel(let addPrefixSpace, let useRegex):
                    let spaced = addPrefixSpace && !piece.hasPrefix(" ") ? " " + piece : piece
                    return useRegex ? ByteLevel.split(spaced) : [spaced]
                }
            }
        }
        return pieces.filter { !$0.isEmpty }
    }

    /// `Digits`: numbers cut out of the text, alone (`individual`) or as runs.
    static func splitDigits(_ text: String, individual: Bool) -> [String] {
        var pieces: [String] = []
        var current = String.UnicodeScalarView()
        var currentIsNumber = false
        for scalar in text.unicodeScalars {
            let isNumber = ByteLevel.kind(scalar) == .number
            if !current.isEmpty && (isNumber != currentIsNumber || (isNumber && individual)) {
                pieces.append(String(current))
                current = String.UnicodeScalarView()
            }
            current.append(scalar)
            currentIsNumber = isNumber
        }
        if !current.isEmpty { pieces.append(String(current)) }
        return pieces
    }
}
