// GGUFTokenizerTests.swift — the tokenizer read from a GGUF file's metadata: the tiny fixture's
// hand-checkable merges, and (when models/ has it) SmolLM2's chat prompt encoded to exactly the ids
// transformers' GGUF tokenizer gave (Fixtures/gguf/smollm2-q4_1-reference.json).
import Foundation
import Testing
import Checkpoints
import Tokenizers
import TestSupport
@testable import Training

func checkpointsFixture(_ name: String) -> URL {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("CheckpointsTests/Fixtures/gguf").appendingPathComponent(name)
}

@Suite struct GGUFTokenizerTests {
    @Test func tinyFixtureMergesAndSpecialTokens() throws {
        let file = try GGUF.File(contentsOf: checkpointsFixture("tiny-llama-F32.gguf"))
        let tokenizer = try ByteLevelBPE(gguf: file)
        // Tokens 0…57 are "!"…"Z", then Ġ (58), Ġt (59), he (60), Ġthe (61), <|im_start|> (62), <|im_end|> (63);
        // merges Ġ t → Ġt, h e → he, Ġt he → Ġthe.
        #expect(tokenizer.encode(" the") == [61])
        #expect(tokenizer.encode("<|im_start|>A the<|im_end|>") == [62, 32, 61, 63])
        #expect(tokenizer.decode([62, 32, 61, 63]) == "<|im_start|>A the<|im_end|>")
    }

    @Test(.enabled(if: RealModel.hasSmolLM2GGUF, Comment(rawValue: RealModel.absentMessage)))
    func smolLM2ChatPromptIdsMatchTransformers() throws {
        let tokenizer = try ByteLevelBPE(gguf: GGUF.File(contentsOf: RealModel.smolLM2GGUF))
        let reference = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: checkpointsFixture("smollm2-q4_1-reference.json"))) as? [String: Any])
        let prompt = "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n"
            + "<|im_start|>user\nWhat is the capital of France?<|im_end|>\n<|im_start|>assistant\n"
        #expect(tokenizer.encode(prompt) == (reference["tokens"] as? [Int]))
        #expect(tokenizer.decode((reference["greedy"] as? [Int]) ?? []) == (reference["greedy_text"] as? String))
    }
}
