// TransformersTemplate.swift — the chat-template fixture both TokenizersTests and TrainingTests compare
// against: Tests/TokenizersTests/Fixtures/chat-templates.json, written by
// scripts/tokenizers/make_model_fixtures.py (each template with transformers' apply_chat_template renderings).
import Foundation
import Tokenizers

/// One template and what transformers rendered with it.
public struct TransformersTemplate: Decodable {
    /// One conversation rendered with or without the generation prompt.
    public struct Rendering: Decodable {
        public let messages: [ChatMessage]
        public let add_generation_prompt: Bool
        public let rendered: String
    }
    public let name: String
    public let template: String
    public let bos_token: String
    public let renderings: [Rendering]

    /// Every template of the fixture file (read from its one place, never copied).
    public static func all() throws -> [TransformersTemplate] {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("TokenizersTests/Fixtures/chat-templates.json")
        return try JSONDecoder().decode([TransformersTemplate].self, from: Data(contentsOf: url))
    }
}
