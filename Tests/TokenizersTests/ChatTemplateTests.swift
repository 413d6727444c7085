// ChatTemplateTests.swift — recognised templates render exactly what transformers' apply_chat_template does.
//
// chat-templates.json (scripts/tokenizers/make_model_fixtures.py): SmolLM2's template read from its GGUF, a
// ChatML template with another default system prompt, and Llama 3's, each rendered by transformers for
// four conversations with and without the generation prompt.
import Foundation
import Testing
@testable import Tokenizers
import TestSupport

@Suite struct ChatTemplateTests {
    func fixtures() throws -> [TransformersTemplate] {
        try TransformersTemplate.all()
    }

    @Test func rendersLikeTransformers() throws {
        let all = try fixtures()
        #expect(all.map(\.name) == ["smollm2", "chatml-other-system", "llama3"])
        for template in all {
            let recognised = try ChatTemplate(jinja: template.template, bosToken: template.bos_token)
            #expect(template.renderings.count == 8)
            for case let rendering in template.renderings {
                let text = recognised.render(rendering.messages, addGenerationPrompt: rendering.add_generation_prompt)
                #expect(text == rendering.rendered, "\(template.name), generation prompt \(rendering.add_generation_prompt)")
                let segments = recognised.render(segments: rendering.messages, addGenerationPrompt: rendering.add_generation_prompt)
                #expect(segments.map(\.text).joined() == rendering.rendered)
            }
        }
    }

    @Test func readsTheLiteralsOfEachTemplate() throws {
        let all = try fixtures()
        let smol = try ChatTemplate(jinja: all[0].template)
        #expect(smol.style == .chatml)
        #expect(smol.defaultSystemPrompt == "You are a helpful AI assistant named SmolLM, trained by Hugging Face")
        #expect(smol.generationPrompt == "<|im_start|>assistant\n" && !smol.trimsContent)
        #expect(try ChatTemplate(jinja: all[1].template).defaultSystemPrompt == "You are a helpful assistant.")
        let llama = try ChatTemplate(jinja: all[2].template, bosToken: "<|begin_of_text|>")
        #expect(llama.style == .llama3 && llama.trimsContent && llama.defaultSystemPrompt == nil && llama.bosToken == "<|begin_of_text|>")
        #expect(smol.stopStrings == ["<|im_end|>"] && llama.stopStrings == ["<|eot_id|>"])
    }

    @Test func segmentsMarkTheAssistantTurns() {
        let template = ChatTemplate(style: .chatml, defaultSystemPrompt: "Be kind.")
        let segments = template.render(segments: [ChatMessage(role: "user", content: "Hi"), ChatMessage(role: "assistant", content: "Hello!"),
                                                  ChatMessage(role: "user", content: "Bye")], addGenerationPrompt: false)
        #expect(segments == [
            ChatSegment(text: "<|im_start|>system\nBe kind.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n", isAssistant: false),
            ChatSegment(text: "Hello!<|im_end|>", isAssistant: true),
            ChatSegment(text: "\n<|im_start|>user\nBye<|im_end|>\n", isAssistant: false),
        ])
        let llama = ChatTemplate(style: .llama3).render(segments: [ChatMessage(role: "assistant", content: " ok ")], addGenerationPrompt: false)
        #expect(llama == [ChatSegment(text: "<|begin_of_text|><|start_header_id|>assistant<|end_header_id|>\n\n", isAssistant: false),
                          ChatSegment(text: "ok<|eot_id|>", isAssistant: true)])
    }

    @Test func namedTemplatesAndPlainText() throws {
        #expect(try ChatTemplate.named("chatml") == ChatTemplate(style: .chatml))
        #expect(try ChatTemplate.named("llama3").bosToken == "<|begin_of_text|>")
        let plain = try ChatTemplate.named("plain")
        #expect(plain.render([ChatMessage(role: "user", content: "2+2?")], addGenerationPrompt: true) == "user: 2+2?\nassistant: ")
        #expect(throws: ChatTemplateError.self) { try ChatTemplate.named("mistral") }
        // No default system prompt is invented for an empty conversation (the SmolLM2 template's loop never runs).
        #expect(ChatTemplate(style: .chatml, defaultSystemPrompt: "S").render([], addGenerationPrompt: true) == "<|im_start|>assistant\n")
    }

    @Test func unrecognisedTemplatesAreErrors() {
        let mistral = "{{ bos_token }}{% for message in messages %}{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}{% endif %}{% endfor %}"
        #expect(throws: ChatTemplateError.self) { try ChatTemplate(jinja: mistral) }
        let qwen3 = "{%- for message in messages %}{{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>' }}{%- endfor %}{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- if enable_thinking is defined and enable_thinking is false %}{{- '<think>\\n\\n</think>\\n\\n' }}{%- endif %}{%- endif %}"
        #expect(throws: ChatTemplateError.self) { try ChatTemplate(jinja: qwen3) }
        let llama31 = "{{- bos_token }}{{- \"<|start_header_id|>system<|end_header_id|>\\n\\n\" }}{{- \"Cutting Knowledge Date: December 2023\\n\" }}<|eot_id|>"
        #expect(throws: ChatTemplateError.self) { try ChatTemplate(jinja: llama31) }
    }

    @Test func qwenStyleEscapedTemplateIsRecognised() throws {
        // As tokenizer_config.json stores it after JSON decoding: backslash-n escapes inside Jinja literals.
        let qwen = "{%- for message in messages %}{%- if loop.first and messages[0]['role'] != 'system' %}{{- '<|im_start|>system\\nYou are a helpful assistant.<|im_end|>\\n' }}{%- endif %}{{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>' + '\\n' }}{%- endfor %}{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}"
        let template = try ChatTemplate(jinja: qwen)
        #expect(template.defaultSystemPrompt == "You are a helpful assistant.")
        #expect(template.render([ChatMessage(role: "user", content: "Hi")], addGenerationPrompt: true)
                == "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n")
    }

    @Test func stopTokenIDsComeFromTheTokenizer() throws {
        let tokenizer = try ByteLevelBPE(gguf: GGUFMetadataFixture.load(fixture("smollm-tiny/gguf-metadata.json")).metadata)
        #expect(ChatTemplate(style: .chatml).stopTokenIDs(in: tokenizer) == [2])
    }
}

@Suite struct TokenizerDirectoryTests {
    @Test func huggingFaceDirectoryGivesSpecialIdsAndTemplate() throws {
        // The files transformers' save_pretrained wrote for SmolLM2 (tokenizer_config.json as written, trimmed vocabulary).
        let scratch = try ScratchFolder()
        try FileManager.default.copyItem(at: fixture("smollm-tiny/tokenizer.json"), to: scratch.url.appendingPathComponent("tokenizer.json"))
        _ = try scratch.write("tokenizer_config.json", Data("""
            {"backend": "tokenizers", "bos_token": "<|im_start|>", "eos_token": "<|im_end|>", "pad_token": "<|im_end|>",
             "tokenizer_class": "TokenizersBackend", "unk_token": "<|endoftext|>"}
            """.utf8))
        let smol = try ChatTemplateTests().fixtures()[0]
        _ = try scratch.write("chat_template.jinja", Data(smol.template.utf8))
        let tokenizer = try ByteLevelBPE.load(huggingFaceDirectory: scratch.url)
        #expect(tokenizer.bos == 1 && tokenizer.eos == 2 && tokenizer.padding == 2 && tokenizer.endOfText == 2)
        let template = try #require(try TokenizerDirectory.chatTemplate(scratch.url))
        #expect(template.defaultSystemPrompt == "You are a helpful AI assistant named SmolLM, trained by Hugging Face")
        // The template may also sit in tokenizer_config.json; a token the tokenizer lacks is a named error.
        try FileManager.default.removeItem(at: scratch.url.appendingPathComponent("chat_template.jinja"))
        _ = try scratch.write("tokenizer_config.json", Data("{\"eos_token\": {\"content\": \"<|nope|>\"}, \"chat_template\": 3}".utf8))
        #expect(thrownProblem { try TokenizerDirectory.chatTemplateText(scratch.url) as Any }?.contains("chat_template must be a string or a list") == true)
        #expect(thrownProblem { try ByteLevelBPE.load(huggingFaceDirectory: scratch.url) }?.contains("eos_token names \"<|nope|>\"") == true)
    }

    @Test func templatesWritingEOSOrAnUnknownBOSAreRefused() {
        let withEOS = "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + eos_token}}{% endfor %}<|im_end|>"
        #expect(throws: ChatTemplateError.self) { try ChatTemplate(jinja: withEOS) }
        let withBOS = "{{ bos_token }}{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n'}}{% endfor %}"
        #expect(throws: ChatTemplateError.self) { try ChatTemplate(jinja: withBOS) }
        let rendered = (try? ChatTemplate(jinja: withBOS, bosToken: "<s>"))?.render([ChatMessage(role: "user", content: "x")], addGenerationPrompt: false)
        #expect(rendered == "<s><|im_start|>user\nx<|im_end|>\n")
    }
}
