// QuantizeCommand.swift — `tinytune quantize`: store a checkpoint's linear weights in 4 or 8 bits.
import Foundation
import CommandLineOptions
import NN
import Tokenizers
import Datasets
import Checkpoints
import Training
import Quantization

enum QuantizeCommand {
    static let command = Command(
        name: "quantize", summary: "quantize a checkpoint's linear weights (NF4 file, or int8/int4 on the grid)",
        help: """
        Usage: tinytune quantize --out DIR [--model DIR] [--format nf4|int8|int4] [options]

        Post-training quantization of every linear weight except the output head.
          nf4        writes model.nf4.safetensors: packed 4-bit codes + (double-quantized) block scales,
                     the real bytes (~4.127 bits per weight); `tinytune qlora --base DIR` trains on it.
          int8/int4  writes an ordinary checkpoint whose weights lie on the integer grid (absmax, one scale
                     per output channel or per block): every tool reads it; the packed size is reported.

          --model DIR        checkpoint to quantize (default: the built-in base model)
          --out DIR          output directory (required)
          --format F         nf4 (default), int8 or int4
          --block-size N     values per scale block (nf4 default 64; int: 0 = per channel, the default)
          --no-double-quant  nf4: keep the block scales in fp32
          --data FILE        a JSONL file: report the response loss before and after
        """,
        run: run)

    static func run(_ arguments: [String]) throws {
        let options = try Options(arguments, valued: ["model", "out", "format", "block-size", "data"], switches: ["no-double-quant"])
        guard let outPath = options.string("out") else { throw UsageError(description: "--out DIR is required") }
        let format = options.string("format") ?? "nf4"
        guard ["nf4", "int8", "int4"].contains(format) else { throw UsageError(description: "--format must be nf4, int8 or int4, not '\(format)'") }
        let examples = try options.existingPath("data").map { try JSONLines.load($0) } ?? []
        let (model, tokenizer) = try FinetuneCommand.loadBase(options.existingPath("model"))
        let out = URL(fileURLWithPath: outPath)
        let lossBefore = examples.isEmpty ? nil : TaskEvaluator.responseLoss(model, tokenizer: tokenizer, examples: examples)
        // Everything goes into a staging directory that replaces `out` as a whole at the end.
        let quantized: GPT = try AtomicDirectory.write(to: out) { staging in
            let quantized: GPT
            if format == "nf4" {
                let blockSize = try options.int("block-size", default: 64, in: 2...65536)
                guard blockSize % 2 == 0 else { throw UsageError(description: "--block-size must be even for nf4") }
                let bytes = try QuantizedCheckpoint.save(model, to: staging, blockSize: blockSize, doubleQuantize: !options.flag("no-double-quant"))
                quantized = try QuantizedCheckpoint.load(directory: staging)
                let weights = QLoRA.quantizedWeights(of: quantized)
                let fp32 = weights.map { $0.weight.rows * $0.weight.columns * 4 }.reduce(0, +)
                let packed = weights.map(\.weight.byteCount).reduce(0, +)
                print(String(format: "NF4: %d linear weights, %.1f KB fp32 → %.1f KB (%.3f bits per weight); file %.1f KB",
                             weights.count, Double(fp32) / 1e3, Double(packed) / 1e3, Double(packed * 8) / Double(fp32 / 4), Double(bytes) / 1e3))
            } else {
                let blockSize = try options.int("block-size", default: 0, in: 0...65536)
                let config = WeightQuantizationConfig(bits: format == "int8" ? 8 : 4, granularity: blockSize == 0 ? .channel : .block(blockSize))
                quantized = model
                let summary = try WeightQuantization.quantize(quantized, config: config)
                try ModelCheckpoint.save(quantized, to: staging, metadata: ["quantization": "\(format) absmax \(config.granularity)"])
                print(String(format: "%@ %@: %d linear weights, %.1f KB fp32 → %.1f KB if packed; weight error %@", format,
                             config.granularity.description, summary.layers, Double(summary.fp32Bytes) / 1e3,
                             Double(summary.packedBytes) / 1e3, summary.error.description))
            }
            try FinetuneCommand.saveTokenizer(tokenizer, to: staging)
            return quantized
        }
        if let lossBefore {
            let after = TaskEvaluator.responseLoss(quantized, tokenizer: tokenizer, examples: examples)
            print(String(format: "response loss on %d examples: %.4f → %.4f", examples.count, lossBefore, after))
        }
        print("wrote \(out.path)")
    }
}
