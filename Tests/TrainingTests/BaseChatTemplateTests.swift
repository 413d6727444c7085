// BaseChatTemplateTests.swift — the base model's chat template found in a GGUF file or a Hugging Face
// directory renders what transformers' apply_chat_template does, and chats become the right examples.
//
// Fixture: Tests/TokenizersTests/Fixtures/chat-templates.json (scripts/tokenizers/make_model_fixtures.py):
// SmolLM2's template read from its GGUF, a ChatML template with another default system prompt and
// Llama 3's, each with transformers' renderings of four conversations with and without the generation prompt.
import Foundation
import Testing
import Checkpoints
import Tokenizers
import Datasets
import TestSupport
@testable import Training

/// A GGUF file with only tokenizer metadata: a token list (BOS at id 1) and, optionally, a chat template.
func templateGGUF(_ template: GGUF.Value?, bos: String, label: String = "model.gguf") throws -> GGUF.File {
    var metadata: [(key: String, value: GGUF.Value)] = [
        ("tokenizer.ggml.tokens", try .array(of: .string, [.string("<|endoftext|>"), .string(bos), .string("a")])),
        ("tokenizer.ggml.bos_token_id", .uint32(1)),
    ]
    if let template { metadata.append(("tokenizer.chat_template", template)) }
    return try GGUF.File(bytes: try GGUF.encode(metadata: metadata, tensors: []), label: label)
}

/// A fresh temporary directory.
func scratchDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("tinytune-template-\(UUID())")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

@Suite struct BaseChatTemplateTests {
    @Test func ggufTemplatesRenderLikeTransformers() throws {
        let fixtures = try TransformersTemplate.all()
        #expect(fixtures.map(\.name) == ["smollm2", "chatml-other-system", "llama3"])
        for fixture in fixtures {
            let template = try ChatTemplate(gguf: templateGGUF(.string(fixture.template), bos: fixture.bos_token))
            for rendering in fixture.renderings {
                #expect(template.render(rendering.messages, addGenerationPrompt: rendering.add_generation_prompt) == rendering.rendered,
                        "\(fixture.name), generation prompt \(rendering.add_generation_prompt)")
            }
        }
    }

    @Test func huggingFaceDirectoriesRenderLikeTransformers() throws {
        for fixture in try TransformersTemplate.all() {
            // Once as chat_template.jinja, once inside tokenizer_config.json; BOS from the config.
            for inConfig in [false, true] {
                let directory = try scratchDirectory()
                defer { try? FileManager.default.removeItem(at: directory) }
                var config: [String: Any] = ["bos_token": ["content": fixture.bos_token], "eos_token": "<|im_end|>"]
                if inConfig { config["chat_template"] = fixture.template } else {
                    try Data(fixture.template.utf8).write(to: directory.appendingPathComponent("chat_template.jinja"))
                }
                try JSONSerialization.data(withJSONObject: config).write(to: directory.appendingPathComponent("tokenizer_config.json"))
                let template = try ChatTemplate.ofBase(directory, tokenizer: CharTokenizer(fitting: "ab"))
                for rendering in fixture.renderings {
                    #expect(template.render(rendering.messages, addGenerationPrompt: rendering.add_generation_prompt) == rendering.rendered,
                            "\(fixture.name) (in config: \(inConfig)), generation prompt \(rendering.add_generation_prompt)")
                }
            }
        }
    }

    @Test func chatsBecomeOneExamplePerAssistantTurn() throws {
        // transformers' rendering of a whole chat ending in an assistant turn is the example's prompt, its
        // response (Llama 3 trims it), the end-of-turn marker, then whatever follows.
        for fixture in try TransformersTemplate.all() {
            let template = try ChatTemplate(gguf: templateGGUF(.string(fixture.template), bos: fixture.bos_token))
            for rendering in fixture.renderings where !rendering.add_generation_prompt && rendering.messages.contains(where: { $0.role == "assistant" }) {
                let examples = template.examples(rendering.messages)
                #expect(examples.count == 1)
                let example = try #require(examples.first)
                let marker = template.stopStrings[0]
                #expect(rendering.rendered.hasPrefix(example.prompt + example.response + marker), "\(fixture.name): \(example)")
                #expect(example.prompt.hasSuffix(template.generationPrompt))
            }
        }
        // Hand-checked: the plain layout is exactly what JSONLines always produced.
        let chat: [ChatMessage] = [ChatMessage(role: "system", content: "Be brief."), ChatMessage(role: "user", content: "2+2?"),
                                   ChatMessage(role: "assistant", content: "4"), ChatMessage(role: "user", content: "3+3?"),
                                   ChatMessage(role: "assistant", content: "6")]
        let plain = ChatTemplate(style: .plain).examples(chat)
        #expect(plain == [SFTExample(prompt: "system: Be brief.\nuser: 2+2?\nassistant: ", response: "4"),
                          SFTExample(prompt: "system: Be brief.\nuser: 2+2?\nassistant: 4\nuser: 3+3?\nassistant: ", response: "6")])
        let line = #"{"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "2+2?"}, {"role": "assistant", "content": "4"}, {"role": "user", "content": "3+3?"}, {"role": "assistant", "content": "6"}]}"#
        #expect(try JSONLines.parse(line) == plain)
        // A completion-form line keeps its prompt under plain, and becomes a user turn under ChatML.
        let record = JSONLinesRecord.completion(prompt: "Hi", completion: "Hello")
        #expect(ChatTemplate(style: .plain).examples(record) == [SFTExample(prompt: "Hi", response: "Hello")])
        #expect(ChatTemplate(style: .chatml).examples(record)
                == [SFTExample(prompt: "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n", response: "Hello")])
    }

    @Test func overridesAndThePlainDefault() throws {
        let mistral = "{{ bos_token }}{% for message in messages %}{{ '[INST] ' + message['content'] + ' [/INST]' }}{% endfor %}"
        let directory = try scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let gguf = directory.appendingPathComponent("mistral.gguf")
        try GGUF.write(metadata: [("tokenizer.chat_template", .string(mistral))], tensors: [], to: gguf)
        let tokenizer = CharTokenizer(fitting: "ab")
        #expect(try ChatTemplate.ofBase(gguf, tokenizer: tokenizer, override: .chatml) == ChatTemplate(style: .chatml))
        #expect(try ChatTemplate.ofBase(gguf, tokenizer: tokenizer, override: .llama3).bosToken == "<|begin_of_text|>")
        #expect(try ChatTemplate.ofBase(nil, tokenizer: tokenizer) == ChatTemplate(style: .plain))
        // Our own checkpoint of the built-in model: a character tokenizer and no template.
        #expect(try ChatTemplate.ofBase(directory, tokenizer: tokenizer) == ChatTemplate(style: .plain))
    }

    @Test func missingAndUnrecognisedTemplatesNameTheFile() throws {
        func problem(_ body: () throws -> Any) -> BaseChatTemplateError? {
            do { _ = try body(); return nil } catch { return error as? BaseChatTemplateError }
        }
        let mistral = "{{ bos_token }}{% for message in messages %}{{ '[INST] ' + message['content'] + ' [/INST]' }}{% endfor %}"
        let unrecognised = problem { try ChatTemplate(gguf: templateGGUF(.string(mistral), bos: "<s>", label: "/m/x.gguf")) }
        #expect(unrecognised?.file == "/m/x.gguf")
        #expect(unrecognised?.description.contains("tokenizer.chat_template: not a recognised ChatML or Llama 3 template") == true)
        #expect(unrecognised?.description.contains("--template plain|chatml|llama3") == true)
        let missing = problem { try ChatTemplate(gguf: templateGGUF(nil, bos: "<s>", label: "/m/y.gguf")) }
        #expect(missing?.description == "/m/y.gguf: has no tokenizer.chat_template metadata; choose a format with --template plain|chatml|llama3")
        #expect(problem { try ChatTemplate(gguf: templateGGUF(.uint32(3), bos: "<s>")) }?.problem == "tokenizer.chat_template is not a string")

        let directory = try scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let jinja = directory.appendingPathComponent("chat_template.jinja")
        try Data(mistral.utf8).write(to: jinja)
        #expect(problem { try ChatTemplate(huggingFaceDirectory: directory) as Any }?.file == jinja.path)
        try FileManager.default.removeItem(at: jinja)
        // A byte-level tokenizer (a real model) without any template is an error, not a silent plain layout.
        let bpe = ByteLevelBPE(vocabulary: ["a": 0], merges: [])
        #expect(problem { try ChatTemplate.ofBase(directory, tokenizer: bpe) }?.file == directory.path)
    }

    @Test(.enabled(if: RealModel.hasSmolLM2GGUF, Comment(rawValue: RealModel.absentMessage)))
    func smolLM2GGUFAndHuggingFaceFilesGiveTheSameTemplate() throws {
        let tokenizer = CharTokenizer(fitting: "ab")
        let fromGGUF = try ChatTemplate.ofBase(RealModel.smolLM2GGUF, tokenizer: tokenizer)
        #expect(fromGGUF.style == .chatml)
        #expect(fromGGUF.defaultSystemPrompt == "You are a helpful AI assistant named SmolLM, trained by Hugging Face")
        if FileManager.default.fileExists(atPath: RealModel.smolLM2HF.path) {
            #expect(try ChatTemplate.ofBase(RealModel.smolLM2HF, tokenizer: tokenizer) == fromGGUF)
        }
    }
}
