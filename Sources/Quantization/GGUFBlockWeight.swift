// GGUFBlockWeight.swift — a GGUF matrix kept in its llama.cpp blocks (Q4_0, Q4_1, Q8_0, …) and decoded
// panel by panel inside the GEMM, so a 4-bit GGUF model runs without ever existing in fp32.
//
// Teaches: why the packed path is the same idea whatever the format. `DequantizingWeight` asks for one
// thing — decode rows start..<start+count into floats — and ggml's block formats make that easy:
// a row of a [rows, columns] weight is columns / 32 whole blocks (the reader checks that blocks never
// straddle rows), so row r starts at byte r · rowBytes and decodes on its own. Q4_1 costs 20 bytes per
// 32 weights (5 bits each, 0.156× fp32), Q8_0 34 bytes (8.5 bits, 0.266×).
// The Q/K rows llama.cpp permuted for its RoPE are moved back here as whole packed rows: a row
// permutation commutes with row-wise decoding, so no value is decoded to do it.
// `GGUFPackedModel.load` builds a GPT whose projections (and output head) hold one of these as their
// `Linear.packedWeight` (exactly where QLoRA's NF4 base sits), so generation, `tinytune qlora` and
// LoRA adapters on top all work unchanged on the packed model.
// The token table stays packed too: the embedding decodes only the rows of the ids it looks up, and a
// tied model's output head becomes a Linear over the same packed table (so `config.tiedEmbeddings` is
// false in the loaded model, though no weight is duplicated).
// Leaves out: decoding straight into the GEMM's tiles, and training the packed table.
import Foundation
import Kernels
import Autodiff
import NN
import Checkpoints

/// A [rows, columns] matrix stored as ggml blocks of one decodable type.
public final class GGUFBlockWeight: DequantizingWeight, PackedLinearWeight, @unchecked Sendable {
    public let rows: Int
    public let columns: Int
    /// The storage type (one of `GGUF.TensorType.decodable`).
    public let type: GGUF.TensorType
    /// Bytes per row: columns / values-per-block × bytes-per-block.
    public let rowBytes: Int
    /// rows × rowBytes packed bytes (counted by the memory meter as `weights`).
    let packed: MeteredAllocation<UInt8>

    /// Copies tensor `name` of `file` ([rows, columns], rows outermost). With `ropeHeads`, undoes
    /// llama.cpp's Q/K row permutation for that many heads (moving packed rows). Throws for a tensor that
    /// is not a matrix or whose type cannot be decoded.
    public init(_ file: GGUF.File, tensor name: String, ropeHeads: Int? = nil) throws {
        let info = try file.info(name)
        guard info.shape.count == 2, GGUF.TensorType.decodable.contains(info.type) else {
            throw GGUF.Error(file: file.label, problem: .unsupportedTensorType(tensor: name, type: "\(info.type.name) \(info.shape)"))
        }
        (rows, columns, type) = (info.shape[0], info.shape[1], info.type)
        rowBytes = columns / type.blockLayout.values * type.blockLayout.bytes
        packed = MeteredAllocation(count: rows * rowBytes, zero: 0, role: .weights)
        let bytes = try file.bytes(of: name)
        let (rows, rowBytes, destination) = (rows, rowBytes, packed.pointer)
        bytes.withUnsafeBytes { raw in
            guard let source = raw.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return }
            // Row order: HF row of each stored row (identity unless the rows were permuted for RoPE).
            let order = ropeHeads.map { GGUFBlockWeight.huggingFaceRowOrder(rows: rows, heads: $0) } ?? Array(0..<rows)
            for (stored, target) in order.enumerated() {
                (destination + target * rowBytes).update(from: source + stored * rowBytes, count: rowBytes)
            }
        }
        // Copied: the file's pages for this tensor can go (a mapped file would otherwise hold a second copy).
        file.releasePages(of: name)
    }

    /// For each stored (llama.cpp) row, the Hugging Face row it holds: within each head of D rows,
    /// stored row 2i + j is HF row j·D/2 + i (see GGUF+Llama.swift).
    static func huggingFaceRowOrder(rows: Int, heads: Int) -> [Int] {
        let d = rows / max(heads, 1), half = d / 2
        return (0..<rows).map { row in
            let (head, within) = (row / max(d, 1), row % max(d, 1))
            return head * d + (within % 2) * half + within / 2
        }
    }

    public func dequantizeRows(_ start: Int, count: Int, into destination: UnsafeMutablePointer<Float>) {
        require(start >= 0 && count >= 0 && start + count <= rows, "GGUFBlockWeight: rows \(start)..<\(start + count) of \(rows)")
        let blocks = count * columns / type.blockLayout.values
        GGUF.decodeBlocks(type, UnsafeRawPointer(packed.pointer + start * rowBytes), blocks: blocks, into: destination)
    }

    /// y = x·Ŵᵀ + b (+ s·(x·Aᵀ)·Bᵀ), Ŵ decoded block by block inside the GEMM.   x: [rows, in] → [rows, out]
    public func linear(_ x: Tensor, bias: Tensor?, a: Tensor?, b: Tensor?, scaling: Float) -> Tensor {
        Tensor.quantizedLinear(x, weight: self, bias: bias, a: a, b: b, scaling: scaling)
    }

    /// The whole matrix decoded (tests; the GEMM never calls this).
    public func dequantized() -> [Float] {
        var result = [Float](repeating: 0, count: rows * columns)
        result.withUnsafeMutableBufferPointer { dequantizeRows(0, count: rows, into: $0.baseAddress!) }
        return result
    }

    /// Stored bytes.
    public var byteCount: Int { packed.byteCount }
}

/// Loading a GGUF Llama with its block-quantized matrices kept packed.
public enum GGUFPackedModel {
    /// Types kept packed (the others, e.g. F32 norms, are decoded to fp32).
    public static let packedTypes: Set<GGUF.TensorType> = [.q4_0, .q4_1, .q8_0, .q4_K, .q6_K]

    /// A GPT whose matrices stored in `packedTypes` stay packed (`Linear.packedWeight`, frozen; the token
    /// table as `Embedding.packedTable`); norms and any fp32/fp16 matrix are decoded. Returns the model
    /// and the bytes the packed matrices hold.
    public static func load(_ file: GGUF.File) throws -> (model: GPT, packedBytes: Int) {
        let isProjection: (String) -> Bool = { $0.hasPrefix("layers.") && $0.hasSuffix("_proj.weight") }
        // A packed token table serves both the lookup and (tied models) the output head.
        let tableType = try file.info("token_embd.weight").type
        let packTable = packedTypes.contains(tableType)
        let tied = !file.contains("output.weight")
        let model = try ModelCheckpoint.model(from: file, untieHead: tied && packTable) { ours, info in
            (isProjection(ours) || ours == "embed_tokens.weight" || ours == "lm_head.weight") && packedTypes.contains(info.type)
        }
        model.setTrainable(false)
        var packedBytes = 0
        if packTable {
            let table = try GGUFBlockWeight(file, tensor: "token_embd.weight")
            model.tokenEmbedding.packedTable = table
            model.tokenEmbedding.weight = makeParameter(Tensor(zeros: [0]), trainable: false)
            packedBytes += table.byteCount
            if tied, let head = model.head { QuantizedLinear.pack(head, with: table) }
        }
        if !tied, let head = model.head, packedTypes.contains(try file.info("output.weight").type) {
            let weight = try GGUFBlockWeight(file, tensor: "output.weight")
            QuantizedLinear.pack(head, with: weight)
            packedBytes += weight.byteCount
        }
        for (path, layer) in WeightQuantization.layers(of: model) {
            let ours = path + ".weight"
            guard isProjection(ours), let name = GGUF.llamaTensorName(of: ours),
                  packedTypes.contains(try file.info(name).type) else { continue }
            let weight = try GGUFBlockWeight(file, tensor: name, ropeHeads: ModelCheckpoint.ropeHeads(ours, model.config))
            guard weight.rows == layer.outFeatures, weight.columns == layer.inFeatures else {
                throw GGUF.Error(file: file.label, problem: .tensorMismatch("\(name) is [\(weight.rows), \(weight.columns)], \(path) needs [\(layer.outFeatures), \(layer.inFeatures)]"))
            }
            QuantizedLinear.pack(layer, with: weight)
            packedBytes += weight.byteCount
        }
        try ModelCheckpoint.checkFilled(model, label: file.label)
        return (model, packedBytes)
    }

    /// Reads a `.gguf` file and loads its Llama model, kept packed (`packed: true`) or decoded to fp32,
    /// with a one-line description: architecture, name, parameters, storage types, context (and the
    /// packed bytes). Throws `GGUF.Error` naming the file and the field for anything it cannot load.
    public static func loadBase(_ url: URL, packed: Bool) throws -> (model: GPT, file: GGUF.File, summary: String) {
        let file = try GGUF.File(contentsOf: url)
        let config = try ModelCheckpoint.gptConfig(gguf: file)
        let summary = "loaded \(url.lastPathComponent): " + file.summary(config: config)
        if packed {
            let (model, bytes) = try load(file)
            return (model, file, summary + String(format: ", kept packed (%.1f MB of matrices)", Double(bytes) / 1e6))
        }
        let model = try ModelCheckpoint.model(from: file)
        try ModelCheckpoint.checkFilled(model, label: file.label)
        return (model, file, summary + ", decoded to fp32")
    }
}
