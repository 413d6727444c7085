// GGUFBlockWeightTests.swift — a GGUF Llama kept packed gives the logits of the same file decoded to
// fp32 (and so transformers' logits, see CheckpointsTests/GGUFReaderTests), while holding only the
// packed bytes; packed rows moved for RoPE equal the decoded-then-permuted rows.
import Foundation
import Testing
import Autodiff
import NN
import Checkpoints
@testable import Quantization

/// The GGUF fixtures written by scripts/gguf/make_fixtures.py (they live with the Checkpoints tests).
func ggufFixtureFile(_ name: String) throws -> GGUF.File {
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("CheckpointsTests/Fixtures/gguf").appendingPathComponent(name)
    return try GGUF.File(contentsOf: url)
}

@Suite struct GGUFBlockWeightTests {
    @Test(arguments: ["Q8_0", "Q4_0", "Q4_1"])
    func packedModelMatchesTheDecodedModel(type: String) throws {
        let file = try ggufFixtureFile("tiny-llama-\(type).gguf")
        let dense = try ModelCheckpoint.model(from: file)
        let (packed, packedBytes) = try GGUFPackedModel.load(file)
        let tokens: [Int32] = [1, 17, 42, 5, 63, 0, 8, 29, 33, 12]
        let a = dense(tokens, batch: 1, steps: tokens.count).values
        let b = packed(tokens, batch: 1, steps: tokens.count).values
        let worst = zip(a, b).map { abs($0 - $1) }.max() ?? .infinity
        #expect(worst < 1e-5, "\(type): max |packed − decoded| = \(worst)")
        // Every projection and the token table are packed: no fp32 copy of them is left.
        #expect(WeightQuantization.layers(of: packed).allSatisfy { $0.layer.weight.count == 0 })
        #expect(packed.tokenEmbedding.weight.count == 0 && packed.tokenEmbedding.packedTable != nil)
        let matrixBytes = file.tensors.filter { $0.dimensions.count == 2 }.reduce(0) { $0 + $1.byteCount }
        #expect(packedBytes == matrixBytes)
    }

    @Test func packedRowsMovedForRoPEEqualPermutedDecodedRows() throws {
        let file = try ggufFixtureFile("tiny-llama-Q4_1.gguf")
        for (name, heads) in [("blk.0.attn_q.weight", 4), ("blk.1.attn_k.weight", 2)] {
            let weight = try GGUFBlockWeight(file, tensor: name, ropeHeads: heads)
            let expected = GGUF.permuteRoPERows(try file.floats(of: name), heads: heads, columns: weight.columns, toGGUF: false)
            #expect(weight.dequantized() == expected, "\(name)")
            // Q4_1: 20 bytes per 32 values.
            #expect(weight.byteCount == weight.rows * weight.columns / 32 * 20)
        }
        #expect(GGUFBlockWeight.huggingFaceRowOrder(rows: 8, heads: 2) == [0, 2, 1, 3, 4, 6, 5, 7])
    }

    @Test func packedWeightsAreMeasuredAsWeights() throws {
        let file = try ggufFixtureFile("tiny-llama-Q4_0.gguf")
        let (result, meter) = try MemoryMeter.measure { try GGUFBlockWeight(file, tensor: "blk.0.ffn_up.weight") }
        #expect(meter.liveBytes(.weights) == result.byteCount && result.byteCount == 64 * 32 / 32 * 18)
    }
}
