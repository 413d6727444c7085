// TokenizerDirectory.swift — the tokenizer files of a model directory, read together.
//
// Teaches: tokenizer.json says how text becomes ids, but not which ids *mean* something: the beginning
// and end of a sequence, padding, and the chat template live in tokenizer_config.json (and newer
// repositories put the template in chat_template.jinja). A model directory is read as one unit, and a
// `tokenizer.json` may also be TinyTune's own character tokenizer, which `TokenizerFile.load` tells apart.
// Leaves out: slow (Python) tokenizer files such as tokenizer.model, special_tokens_map.json.
import Foundation

extension ByteLevelBPE {
    /// This tokenizer with `bos`, `eos` and `padding` replaced (the rest unchanged).
    public func withSpecialIDs(bos: Int?, eos: Int?, padding: Int?) -> ByteLevelBPE {
        ByteLevelBPE(vocabulary: vocabulary, merges: merges, specialTokens: specialTokens, preTokenizer: preTokenizer,
                     normalizations: normalizations, ignoreMerges: ignoreMerges, prefixIDs: prefixIDs, suffixIDs: suffixIDs,
                     bos: bos, eos: eos, padding: padding, leftStripping: leftStripping, rightStripping: rightStripping)
    }

    /// The id of `token` (special or regular, as written in the files), if it has one.
    public func id(of token: String) -> Int? { specialTokens[token] ?? vocabulary[token] }

    /// Loads a Hugging Face model directory's `tokenizer.json`, with BOS/EOS/padding from its
    /// `tokenizer_config.json` when present (`bos_token`, `eos_token`, `pad_token`: strings or {"content": …}).
    /// Throws `TokenizerFileError` naming the file and key for a malformed config or a token not in the tokenizer.
    public static func load(huggingFaceDirectory directory: URL) throws -> ByteLevelBPE {
        let tokenizer = try load(tokenizerJSON: directory.appendingPathComponent("tokenizer.json"))
        guard let config = try TokenizerDirectory.config(directory) else { return tokenizer }
        let fields = JSONFields(file: directory.appendingPathComponent("tokenizer_config.json").path)
        func special(_ key: String) throws -> Int? {
            guard let name = try TokenizerDirectory.tokenText(config[key], key, fields) else { return nil }
            guard let id = tokenizer.id(of: name) else { throw fields.fail(key, "names \"\(name)\", which is not a token of tokenizer.json") }
            return id
        }
        return tokenizer.withSpecialIDs(bos: try special("bos_token"), eos: try special("eos_token"), padding: try special("pad_token"))
    }
}

/// Reading the files next to tokenizer.json.
public enum TokenizerDirectory {
    /// The Jinja chat template of a Hugging Face directory: `chat_template.jinja`, else tokenizer_config.json's
    /// `chat_template` (a string, or a list of {name, template} where "default" is taken), else nil.
    public static func chatTemplateText(_ directory: URL) throws -> String? {
        let jinja = directory.appendingPathComponent("chat_template.jinja")
        if FileManager.default.fileExists(atPath: jinja.path) {
            guard let text = String(data: try ByteLevelBPE.readData(jinja), encoding: .utf8) else {
                throw TokenizerFileError(file: jinja.path, problem: "is not UTF-8 text")
            }
            return text
        }
        guard let config = try config(directory) else { return nil }
        let fields = JSONFields(file: directory.appendingPathComponent("tokenizer_config.json").path)
        switch config["chat_template"] {
        case nil, .null?: return nil
        case .string(let text)?: return text
        case .array(let named)?:
            for (index, entry) in named.enumerated() {
                let object = try fields.object(entry, "chat_template[\(index)]")
                if try fields.string(object["name"], "chat_template[\(index)].name") == "default" {
                    return try fields.string(object["template"], "chat_template[\(index)].template")
                }
            }
            throw fields.fail("chat_template", "is a list without a \"default\" template")
        case let other?: throw fields.fail("chat_template", "must be a string or a list, got \(other.kindName)")
        }
    }

    /// The model's chat template from a Hugging Face directory, recognised (nil when the directory has none).
    public static func chatTemplate(_ directory: URL) throws -> ChatTemplate? {
        guard let text = try chatTemplateText(directory) else { return nil }
        let bos = try config(directory).flatMap { config in
            try tokenText(config["bos_token"], "bos_token", JSONFields(file: directory.appendingPathComponent("tokenizer_config.json").path))
        }
        return try ChatTemplate(jinja: text, bosToken: bos)
    }

    /// tokenizer_config.json as an object, or nil when the file is absent.
    static func config(_ directory: URL) throws -> [String: JSONValue]? {
        let url = directory.appendingPathComponent("tokenizer_config.json")
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        let fields = JSONFields(file: url.path)
        return try fields.object(try JSONValue.parse(try ByteLevelBPE.readData(url), file: url.path), "the top level")
    }

    /// A token given as "text" or {"content": "text", …} (null or absent: nil).
    static func tokenText(_ value: JSONValue?, _ key: String, _ fields: JSONFields) throws -> String? {
        switch value {
        case nil, .null?: return nil
        case .string(let text)?: return text
        case .object(let object)?: return try fields.string(object["content"], key + ".content")
        case let other?: throw fields.fail(key, "must be a string or an object with \"content\", got \(other.kindName)")
        }
    }
}

/// A `tokenizer.json` next to a model: TinyTune's character tokenizer or a Hugging Face byte-level BPE.
public enum TokenizerFile {
    /// Loads either kind, telling them apart by their top-level keys ("alphabet" vs "model"), so the error
    /// for a broken file is the error of its own kind. Throws `TokenizerFileError` naming the file.
    public static func load(_ url: URL) throws -> any Tokenizer {
        let data = try ByteLevelBPE.readData(url)
        let root = try JSONFields(file: url.path).object(try JSONValue.parse(data, file: url.path), "the top level")
        guard root["alphabet"] != nil && root["model"] == nil else { return try ByteLevelBPE.load(tokenizerJSON: url) }
        do { return try JSONDecoder().decode(CharTokenizer.self, from: JSONValue.withoutByteOrderMark(data)) } catch {
            throw TokenizerFileError(file: url.path, problem: "character tokenizer: \(JSONValue.shortDescription(of: error))")
        }
    }
}
