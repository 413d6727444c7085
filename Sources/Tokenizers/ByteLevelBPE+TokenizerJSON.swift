// ByteLevelBPE+TokenizerJSON.swift — Hugging Face's tokenizer.json, every field that changes the ids.
//
// Teaches: a tokenizer.json is a pipeline, and each stage can change the ids:
//   added_tokens → normalizer → pre_tokenizer → model (BPE) → post_processor;  decoder for the way back.
// We read each stage and implement what byte-level BPE models (GPT-2, SmolLM, Llama 3, Qwen 2) use:
// - normalizer: null, NFC/NFD/NFKC/NFKD, or a Sequence of those;
// - pre_tokenizer: ByteLevel (add_prefix_space, use_regex), Digits, Split with a known pattern
//   (SplitPattern), or a Sequence of them ending in ByteLevel;
// - model: BPE with vocab, merges ("a b" or ["a", "b"]) and ignore_merges;
// - post_processor: null, ByteLevel, TemplateProcessing (BOS/EOS around the text), or a Sequence;
// - decoder: null or ByteLevel.
// Anything else is refused with an error naming the field, never loaded with different ids.
// Leaves out: `truncation` and `padding` (batching settings that callers handle), the pair template.
import Foundation

extension ByteLevelBPE {
    /// Loads a Hugging Face `tokenizer.json` whose model is byte-level BPE.
    ///
    /// Throws `TokenizerFileError` (naming the file and key path) for malformed JSON, ids outside
    /// 0..<`TokenizerLimits.maximumTokenID`, conflicting ids, merges of unknown tokens, and every
    /// pipeline stage TinyTune does not implement. CRLF or a byte-order mark in the file are fine.
    public static func load(tokenizerJSON url: URL) throws -> ByteLevelBPE {
        let file = url.path
        let fields = JSONFields(file: file)
        let root = try fields.object(try JSONValue.parse(try readData(url), file: file), "the top level")

        // The model: vocabulary and merges.
        let model = try fields.object(root["model"], "model")
        let type = try fields.string(model["type"], "model.type")
        guard type == "BPE" else { throw fields.fail("model.type", "is \"\(type)\", expected \"BPE\"") }
        try refuseUnsupportedModelOptions(model, fields)
        let vocabulary = try readVocabulary(fields.object(model["vocab"], "model.vocab"), fields, path: "model.vocab")
        var merges: [(String, String)] = []
        for (index, entry) in try fields.array(model["merges"], "model.merges").enumerated() {
            let path = "model.merges[\(index)]"
            switch entry {
            case .string(let text): merges.append(try splitMerge(text, fields, path))
            case .array(let pair) where pair.count == 2:
                merges.append((try fields.string(pair[0], path + "[0]"), try fields.string(pair[1], path + "[1]")))
            default: throw fields.fail(path, "is neither \"a b\" nor [\"a\", \"b\"]")
            }
        }
        try checkMerges(merges, vocabulary: vocabulary, file: file)

        // Added tokens: matched whole, before the normalizer and pre-tokenizer see the text.
        let added = try readAddedTokens(root["added_tokens"], vocabulary: vocabulary, fields)
        var regular = vocabulary
        for token in added.tokens.keys { regular.removeValue(forKey: token) }

        let normalizations = try readNormalizer(root["normalizer"], fields, path: "normalizer")
        let preTokenizer = try readPreTokenizer(root["pre_tokenizer"], fields)
        let template = try readPostProcessor(root["post_processor"], fields, path: "post_processor")
        try checkDecoder(root["decoder"], fields, path: "decoder")
        return ByteLevelBPE(vocabulary: regular, merges: merges, specialTokens: added.tokens, preTokenizer: preTokenizer,
                            normalizations: normalizations, ignoreMerges: try fields.bool(model["ignore_merges"], "model.ignore_merges", absent: false),
                            prefixIDs: template.prefix, suffixIDs: template.suffix,
                            leftStripping: added.left, rightStripping: added.right)
    }

    /// BPE options that change the ids and that byte-level models leave off.
    static func refuseUnsupportedModelOptions(_ model: [String: JSONValue], _ fields: JSONFields) throws {
        switch model["dropout"] {
        case nil, .null?, .integer(0)?: break
        case .number(let p)? where p == 0: break
        default: throw fields.fail("model.dropout", "must be null or 0 (BPE dropout is random; TinyTune encodes deterministically)")
        }
        if try fields.bool(model["byte_fallback"], "model.byte_fallback", absent: false) {
            throw fields.fail("model.byte_fallback", "is true: byte fallback (SentencePiece-style BPE) is not implemented")
        }
        for key in ["continuing_subword_prefix", "end_of_word_suffix"] {
            switch model[key] {
            case nil, .null?, .string("")?: break
            default: throw fields.fail("model.\(key)", "must be null or \"\" for byte-level BPE")
            }
        }
    }

    /// token → id, every id a valid token id and no id used twice.
    static func readVocabulary(_ object: [String: JSONValue], _ fields: JSONFields, path: String) throws -> [String: Int] {
        var vocabulary: [String: Int] = [:]
        var owner: [Int: String] = [:]
        for token in object.keys.sorted() {
            let id = try fields.tokenID(object[token], "\(path)[\"\(token)\"]")
            if let other = owner[id] { throw fields.fail("\(path)[\"\(token)\"]", "has id \(id), already used by \"\(other)\"") }
            owner[id] = token
            vocabulary[token] = id
        }
        return vocabulary
    }

    static func splitMerge(_ text: String, _ fields: JSONFields, _ path: String) throws -> (String, String) {
        let parts = text.split(separator: " ", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else { throw fields.fail(path, "\"\(text)\" is not two symbols separated by one space") }
        return (String(parts[0]), String(parts[1]))
    }

    /// `added_tokens`: an array of {content, id, lstrip, rstrip, single_word, …}.
    static func readAddedTokens(_ value: JSONValue?, vocabulary: [String: Int], _ fields: JSONFields) throws
        -> (tokens: [String: Int], left: Set<String>, right: Set<String>) {
        if value == nil || value == .null { return ([:], [], []) }
        var tokens: [String: Int] = [:], left = Set<String>(), right = Set<String>()
        var owner: [Int: String] = [:]
        var regularOwner: [Int: String] = [:]
        for (token, id) in vocabulary { regularOwner[id] = token }
        for (index, entry) in try fields.array(value, "added_tokens").enumerated() {
            let path = "added_tokens[\(index)]"
            let token = try fields.object(entry, path)
            let content = try fields.string(token["content"], path + ".content")
            guard !content.isEmpty else { throw fields.fail(path + ".content", "is empty") }
            let id = try fields.tokenID(token["id"], path + ".id")
            if let known = vocabulary[content], known != id { throw fields.fail(path + ".id", "is \(id), but model.vocab gives \"\(content)\" id \(known)") }
            if let other = owner[id], other != content { throw fields.fail(path + ".id", "is \(id), already used by added token \"\(other)\"") }
            if let regular = regularOwner[id], regular != content {
                throw fields.fail(path + ".id", "is \(id), already the id of \"\(regular)\" in model.vocab")
            }
            if try fields.bool(token["single_word"], path + ".single_word", absent: false) {
                throw fields.fail(path + ".single_word", "is true: single-word added tokens are not implemented")
            }
            if try fields.bool(token["lstrip"], path + ".lstrip", absent: false) { left.insert(content) }
            if try fields.bool(token["rstrip"], path + ".rstrip", absent: false) { right.insert(content) }
            owner[id] = content
            tokens[content] = id
        }
        return (tokens, left, right)
    }

    /// `normalizer`: the Unicode normal forms, in order.
    static func readNormalizer(_ value: JSONValue?, _ fields: JSONFields, path: String) throws -> [UnicodeNormalization] {
        if value == nil || value == .null { return [] }
        let object = try fields.object(value, path)
        let type = try fields.string(object["type"], path + ".type")
        if type == "Sequence" {
            return try fields.array(object["normalizers"], path + ".normalizers").enumerated().flatMap { index, inner in
                try readNormalizer(inner, fields, path: "\(path).normalizers[\(index)]")
            }
        }
        guard let form = UnicodeNormalization(rawValue: type) else {
            throw fields.fail(path + ".type", "is \"\(type)\": only NFC, NFD, NFKC, NFKD and Sequence normalizers are implemented")
        }
        return [form]
    }

    /// `pre_tokenizer`: a ByteLevel step, optionally after Split/Digits steps in a Sequence.
    static func readPreTokenizer(_ value: JSONValue?, _ fields: JSONFields) throws -> PreTokenizer {
        var steps: [PreTokenizer.Step] = []
        func read(_ value: JSONValue?, _ path: String) throws {
            let object = try fields.object(value, path)
            let type = try fields.string(object["type"], path + ".type")
            switch type {
            case "Sequence":
                for (index, inner) in try fields.array(object["pretokenizers"], path + ".pretokenizers").enumerated() {
                    try read(inner, "\(path).pretokenizers[\(index)]")
                }
            case "ByteLevel":
                steps.append(.byteLevel(addPrefixSpace: try fields.bool(object["add_prefix_space"], path + ".add_prefix_space", absent: true),
                                        useRegex: try fields.bool(object["use_regex"], path + ".use_regex", absent: true)))
            case "Digits":
                steps.append(.digits(individualDigits: try fields.bool(object["individual_digits"], path + ".individual_digits", absent: false)))
            case "Split":
                let pattern = try fields.object(object["pattern"], path + ".pattern")
                guard case .string(let regex)? = pattern["Regex"], let known = SplitPattern(regex: regex) else {
                    throw fields.fail(path + ".pattern", "is not one of the split patterns TinyTune implements (GPT-2, Llama 3, Qwen 2)")
                }
                let behavior = try fields.string(object["behavior"], path + ".behavior")
                guard behavior == "Isolated" else { throw fields.fail(path + ".behavior", "is \"\(behavior)\": only \"Isolated\" is implemented") }
                if try fields.bool(object["invert"], path + ".invert", absent: false) { throw fields.fail(path + ".invert", "is true: not implemented") }
                steps.append(.split(known))
            default:
                throw fields.fail(path + ".type", "is \"\(type)\": only ByteLevel, Split, Digits and Sequence pre-tokenizers are implemented")
            }
        }
        guard value != nil && value != .null else {
            throw fields.fail("pre_tokenizer", "is missing: a byte-level BPE needs a ByteLevel pre-tokenizer")
        }
        try read(value, "pre_tokenizer")
        // ByteLevel maps the text to byte symbols, so it must come last, once.
        guard case .byteLevel? = steps.last, steps.dropLast().allSatisfy({ if case .byteLevel = $0 { return false } else { return true } }) else {
            throw fields.fail("pre_tokenizer", "must end in exactly one ByteLevel step (this reader implements byte-level BPE)")
        }
        return PreTokenizer(steps: steps)
    }

    /// `post_processor`: the ids placed before and after a single sequence.
    static func readPostProcessor(_ value: JSONValue?, _ fields: JSONFields, path: String) throws -> (prefix: [Int], suffix: [Int]) {
        if value == nil || value == .null { return ([], []) }
        let object = try fields.object(value, path)
        let type = try fields.string(object["type"], path + ".type")
        switch type {
        case "ByteLevel": return ([], [])        // only adjusts offsets
        case "Sequence":
            var prefix: [Int] = [], suffix: [Int] = []
            for (index, inner) in try fields.array(object["processors"], path + ".processors").enumerated() {
                let part = try readPostProcessor(inner, fields, path: "\(path).processors[\(index)]")
                prefix = part.prefix + prefix
                suffix += part.suffix
            }
            return (prefix, suffix)
        case "TemplateProcessing":
            let specials = object["special_tokens"] == nil ? [:] : try fields.object(object["special_tokens"], path + ".special_tokens")
            var prefix: [Int] = [], suffix: [Int] = []
            var sawSequence = false
            for (index, item) in try fields.array(object["single"], path + ".single").enumerated() {
                let itemPath = "\(path).single[\(index)]"
                let entry = try fields.object(item, itemPath)
                if let sequence = entry["Sequence"] {
                    let id = try fields.string(try fields.object(sequence, itemPath + ".Sequence")["id"], itemPath + ".Sequence.id")
                    guard id == "A", !sawSequence else { throw fields.fail(itemPath, "must be the one sequence \"A\"") }
                    sawSequence = true
                } else if let special = entry["SpecialToken"] {
                    let name = try fields.string(try fields.object(special, itemPath + ".SpecialToken")["id"], itemPath + ".SpecialToken.id")
                    let definition = try fields.object(specials[name], "\(path).special_tokens[\"\(name)\"]")
                    let ids = try fields.array(definition["ids"], "\(path).special_tokens[\"\(name)\"].ids").enumerated().map { k, id in
                        try fields.tokenID(id, "\(path).special_tokens[\"\(name)\"].ids[\(k)]")
                    }
                    if sawSequence { suffix += ids } else { prefix += ids }
                } else {
                    throw fields.fail(itemPath, "is neither a Sequence nor a SpecialToken")
                }
            }
            guard sawSequence else { throw fields.fail(path + ".single", "has no sequence \"A\"") }
            return (prefix, suffix)
        default:
            throw fields.fail(path + ".type", "is \"\(type)\": only ByteLevel, TemplateProcessing and Sequence post-processors are implemented")
        }
    }

    /// `decoder`: bytes back to text; only ByteLevel (or nothing) matches what `decode` does.
    static func checkDecoder(_ value: JSONValue?, _ fields: JSONFields, path: String) throws {
        if value == nil || value == .null { return }
        let object = try fields.object(value, path)
        let type = try fields.string(object["type"], path + ".type")
        switch type {
        case "ByteLevel": return
        case "Sequence":
            for (index, inner) in try fields.array(object["decoders"], path + ".decoders").enumerated() {
                try checkDecoder(inner, fields, path: "\(path).decoders[\(index)]")
            }
        default: throw fields.fail(path + ".type", "is \"\(type)\": only the ByteLevel decoder is implemented")
        }
    }

    // MARK: - Writing

    /// Writes a Hugging Face `tokenizer.json` with this tokenizer's pipeline (atomically). `load(tokenizerJSON:)`
    /// reads it back equal, and Hugging Face `tokenizers` reads it with the same ids.
    public func saveTokenizerJSON(to url: URL) throws {
        let added = specialTokens.sorted { $0.value < $1.value }.map { token, id -> [String: Any] in
            ["id": id, "content": token, "single_word": false, "lstrip": leftStripping.contains(token),
             "rstrip": rightStripping.contains(token), "normalized": false, "special": true]
        }
        let stepObjects: [[String: Any]] = preTokenizer.steps.map { step in
            switch step {
            case .byteLevel(let prefix, let regex): return ["type": "ByteLevel", "add_prefix_space": prefix, "trim_offsets": true, "use_regex": regex]
            case .digits(let individual): return ["type": "Digits", "individual_digits": individual]
            case .split(let pattern): return ["type": "Split", "pattern": ["Regex": pattern.regex], "behavior": "Isolated", "invert": false]
            }
        }
        let preTokenizerObject: Any = stepObjects.count == 1 ? stepObjects[0] : ["type": "Sequence", "pretokenizers": stepObjects]
        let normalizerObjects: [[String: Any]] = normalizations.map { ["type": $0.rawValue] }
        let normalizer: Any = normalizerObjects.isEmpty ? NSNull() : normalizerObjects.count == 1 ? normalizerObjects[0]
            : ["type": "Sequence", "normalizers": normalizerObjects]
        let root: [String: Any] = [
            "version": "1.0", "truncation": NSNull(), "padding": NSNull(), "added_tokens": added,
            "normalizer": normalizer, "pre_tokenizer": preTokenizerObject, "post_processor": try postProcessorObject(),
            "decoder": ["type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true],
            "model": ["type": "BPE", "dropout": NSNull(), "unk_token": NSNull(), "continuing_subword_prefix": NSNull(),
                      "end_of_word_suffix": NSNull(), "fuse_unk": false, "byte_fallback": false, "ignore_merges": ignoreMerges,
                      "vocab": vocabulary.merging(specialTokens) { a, _ in a }, "merges": merges.map { [$0.0, $0.1] }] as [String: Any],
        ]
        try JSONSerialization.data(withJSONObject: root, options: [.sortedKeys]).write(to: url, options: .atomic)
    }

    /// The TemplateProcessing object that puts `prefixIDs` and `suffixIDs` around the text (null when both are empty).
    func postProcessorObject() throws -> Any {
        guard !prefixIDs.isEmpty || !suffixIDs.isEmpty else { return NSNull() }
        var specials: [String: Any] = [:]
        func item(_ id: Int) throws -> [String: Any] {
            guard let name = token(for: id) else { throw TokenizerFileError(file: "tokenizer.json", problem: "post-processor id \(id) has no token") }
            specials[name] = ["id": name, "ids": [id], "tokens": [name]]
            return ["SpecialToken": ["id": name, "type_id": 0]]
        }
        let single = try prefixIDs.map(item) + [["Sequence": ["id": "A", "type_id": 0]]] + suffixIDs.map(item)
        let pair = single + [["Sequence": ["id": "B", "type_id": 1]]]
        return ["type": "TemplateProcessing", "single": single, "pair": pair, "special_tokens": specials]
    }
}
