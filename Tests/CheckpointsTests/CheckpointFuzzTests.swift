// CheckpointFuzzTests.swift — thousands of damaged safetensors files, config.json files and HF model
// directories: every reader succeeds with sane values or throws a named error; none crashes, hangs
// or allocates what the file cannot back. Plus the specific defects of issue 18, each pinned by a test.
import Foundation
import Kernels
import Testing
import Autodiff
import NN
import TestSupport
@testable import Checkpoints

@Suite struct CheckpointFuzzTests {
    static let gpt2 = GPTConfig.gpt2(vocabularySize: 11, contextLength: 6, embeddingSize: 8, layers: 2, heads: 2)
    static let llama = GPTConfig.llama(vocabularySize: 11, contextLength: 6, embeddingSize: 8, layers: 2, heads: 2,
                                       kvHeads: 1, mlpSize: 12)

    /// A valid model's config.json text and model.safetensors bytes.
    static func files(_ config: GPTConfig) throws -> (config: String, weights: Data) {
        var rng = RNG(seed: 3)
        let model = GPT(config: config, rng: &rng)
        let weights = try SafeTensors.encode(try ModelCheckpoint.tensors(of: model), metadata: ["format": "pt"])
        return (String(decoding: try ModelCheckpoint.configJSON(config), as: UTF8.self), weights)
    }

    /// Loads a config + weights pair the way `ModelCheckpoint.load(directory:)` does, from memory.
    static func load(config: Data, weights: Data) throws -> GPT {
        let architecture = try HFConfig.Architecture(json: config)
        let file = try SafeTensors.File(bytes: weights)
        return try ModelCheckpoint.model(from: HFCheckpoint(architecture: architecture, file: file))
    }

    /// What a successful load must satisfy: a valid config, every parameter finite, every size the
    /// same as a tensor of the file.
    static func expectSane(_ model: GPT, weights: Data) throws {
        #expect(model.config.validationError() == nil)
        #expect(model.config.normEpsilon > 0 && model.config.normEpsilon <= 1, "ε \(model.config.normEpsilon)")
        #expect(model.config.ropeTheta >= 1 && model.config.ropeTheta.isFinite, "θ \(model.config.ropeTheta)")
        #expect(model.namedParameters().allSatisfy { $0.tensor.values.allSatisfy(\.isFinite) })
        #expect(model.parameterCount() * 4 <= weights.count * 8)  // no dtype widens by more than 8x
    }

    @Test func damagedSafetensorsFilesParseSanelyOrThrow() throws {
        let (_, weights) = try Self.files(Self.gpt2)
        var mutator = FileMutator(seed: 1801)
        var (accepted, refused) = (0, 0)
        for _ in 0..<3000 {
            let (bytes, _) = mutator.mutate(weights)
            do {
                let file = try SafeTensors.File(bytes: bytes)
                for (name, info) in file.tensors {
                    #expect(info.dataOffsets.upperBound <= file.dataSection.count)
                    if info.dtype != .bool { #expect(try file.floats(of: name).count == info.elementCount) }
                }
                accepted += 1
            } catch is SafeTensors.Error {
                refused += 1
            }
        }
        // Flips inside tensor data are harmless, flips in the header mostly fatal: both must occur.
        #expect(accepted > 100 && refused > 100, "accepted \(accepted), refused \(refused)")
    }

    @Test(arguments: [gpt2, llama])
    func damagedConfigsLoadSanelyOrThrow(config: GPTConfig) throws {
        let (text, weights) = try Self.files(config)
        var mutator = FileMutator(seed: 1802)
        var accepted = 0
        for _ in 0..<2000 {
            let (json, _) = mutator.mutateText(text)
            do {
                try Self.expectSane(try Self.load(config: json, weights: weights), weights: weights)
                accepted += 1
            } catch is HFConfig.Error {
            } catch is TensorNameMap.Mismatch {
            } catch is TensorNameMap.TooFewTensors {
            } catch is ModelCheckpoint.Error {}
        }
        #expect(accepted > 50, "accepted \(accepted)")
    }

    @Test(arguments: [gpt2, llama])
    func damagedWeightsLoadSanelyOrThrow(config: GPTConfig) throws {
        let (text, weights) = try Self.files(config)
        var mutator = FileMutator(seed: 1803)
        for _ in 0..<2000 {
            let (bytes, _) = mutator.mutate(weights)
            do {
                try Self.expectSane(try Self.load(config: Data(text.utf8), weights: bytes), weights: bytes)
            } catch is SafeTensors.Error {
            } catch is TensorNameMap.Mismatch {
            } catch is TensorNameMap.TooFewTensors {
            } catch is ModelCheckpoint.Error {}
        }
    }

    @Test func crlfConfigLoadsLikeLF() throws {
        let (text, weights) = try Self.files(Self.llama)
        let lf = try Self.load(config: Data(text.utf8), weights: weights)
        let crlf = try Self.load(config: Data(text.replacingOccurrences(of: "\n", with: "\r\n").utf8), weights: weights)
        let bom = try Self.load(config: Data(("\u{FEFF}" + text).utf8), weights: weights)
        #expect(crlf.config == lf.config && bom.config == lf.config)
    }
}

// MARK: - The defects of issue 18, one by one

@Suite struct CheckpointDefectTests {
    /// The config text with `key`'s value replaced by `value`.
    static func config(_ base: GPTConfig, _ key: String, _ value: String) throws -> Data {
        var json = try JSONSerialization.jsonObject(with: ModelCheckpoint.configJSON(base)) as! [String: Any]
        json[key] = 0  // placeholder, replaced textually so that values JSONSerialization cannot write survive
        var text = String(decoding: try JSONSerialization.data(withJSONObject: json, options: [.sortedKeys]), as: UTF8.self)
        text = text.replacingOccurrences(of: "\"\(key)\":0", with: "\"\(key)\":\(value)")
        return Data(text.utf8)
    }

    @Test(arguments: ["1000000", "4611686018427387904", "9223372036854775807"])
    func hugeLayerCountsAreRefusedBeforeBuildingNames(layers: String) throws {
        for (base, key) in [(CheckpointFuzzTests.gpt2, "n_layer"), (CheckpointFuzzTests.llama, "num_hidden_layers")] {
            let weightsOfBase = try CheckpointFuzzTests.files(base).weights
            #expect { try CheckpointFuzzTests.load(config: try Self.config(base, key, layers), weights: weightsOfBase) } throws: { error in
                // Either the size bound of the config reader or the tensor count of the file refuses it.
                "\(error)".contains(key) || error is TensorNameMap.TooFewTensors
            }
        }
    }

    @Test func aLayerCountTheFileCannotHoldNamesBothCounts() throws {
        let (_, weights) = try CheckpointFuzzTests.files(CheckpointFuzzTests.gpt2)
        let config = try Self.config(CheckpointFuzzTests.gpt2, "n_layer", "1000000")
        #expect { try CheckpointFuzzTests.load(config: config, weights: weights) } throws: { error in
            "\(error)".contains("1000000 layers") && "\(error)".contains("12000004 tensors") && "\(error)".contains("has 28")
        }
    }

    @Test func anOddLlamaHeadSizeIsAThrownError() throws {
        // heads 2 × head_dim 3 = hidden 6: consistent sizes; only RoPE's need of an even head size is
        // violated, and it must be a thrown error, not GPT.init's fatalError.
        var json = try JSONSerialization.jsonObject(with: ModelCheckpoint.configJSON(CheckpointFuzzTests.llama)) as! [String: Any]
        json["hidden_size"] = 6
        json["num_attention_heads"] = 2
        json["num_key_value_heads"] = 1
        json["head_dim"] = 3
        let config = try JSONSerialization.data(withJSONObject: json)
        #expect { try HFConfig.Architecture(json: config) } throws: { "\($0)".contains("even head size") }
        // The translation to our config checks what GPT.init would trap on, independently of the reader.
        let architecture = HFConfig.Architecture.llama(HFConfig.Llama(
            vocabSize: 11, hiddenSize: 6, intermediateSize: 12, numHiddenLayers: 1, numAttentionHeads: 2,
            numKeyValueHeads: 1, headDim: 3, rmsNormEps: 1e-5, maxPositionEmbeddings: 6))
        #expect { try ModelCheckpoint.gptConfig(architecture) } throws: { "\($0)".contains("even head size") }
    }

    @Test(arguments: [("rope_theta", "1e39"), ("rope_theta", "1e309"), ("rope_theta", "1e-300"), ("rope_theta", "0.5"),
                      ("rms_norm_eps", "1e39"), ("rms_norm_eps", "1e309"), ("rms_norm_eps", "1e-320"), ("rms_norm_eps", "-1e-5")])
    func outOfRangeLlamaNumbersAreRefused(key: String, value: String) throws {
        let config = try Self.config(CheckpointFuzzTests.llama, key, value)
        #expect { try HFConfig.Architecture(json: config) } throws: { "\($0)".contains(key) }
    }

    @Test(arguments: ["1e39", "1e309", "1e-320", "0", "2"])
    func outOfRangeLayerNormEpsilonsAreRefused(value: String) throws {
        let config = try Self.config(CheckpointFuzzTests.gpt2, "layer_norm_epsilon", value)
        #expect { try HFConfig.Architecture(json: config) } throws: { "\($0)".contains("layer_norm_epsilon") }
    }

    @Test func safetensorsErrorsNameTheFile() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tinytune-path-\(UUID())")
        defer { try? FileManager.default.removeItem(at: directory) }
        var rng = RNG(seed: 2)
        try ModelCheckpoint.save(GPT(config: CheckpointFuzzTests.gpt2, rng: &rng), to: directory)
        let weights = directory.appendingPathComponent("model.safetensors")
        var bytes = try Data(contentsOf: weights)
        bytes.removeLast(3)
        try bytes.write(to: weights)
        #expect { try ModelCheckpoint.load(directory: directory) } throws: { error in
            "\(error)".hasPrefix(weights.path + ": safetensors: ")
        }
        // A missing file is named too, and so is an unreadable config.
        try FileManager.default.removeItem(at: weights)
        #expect { try ModelCheckpoint.load(directory: directory) } throws: { "\($0)".contains(weights.path) }
        try FileManager.default.removeItem(at: directory.appendingPathComponent("config.json"))
        #expect { try ModelCheckpoint.load(directory: directory) } throws: { "\($0)".contains("config.json") }
    }

    @Test func nonFiniteWeightsAreRefusedByName() throws {
        var rng = RNG(seed: 4)
        let model = GPT(config: CheckpointFuzzTests.gpt2, rng: &rng)
        model.namedParameters().first { $0.name == "h.1.ln_2.bias" }!.tensor.data[3] = .nan
        let weights = try SafeTensors.encode(try ModelCheckpoint.tensors(of: model))
        #expect { try CheckpointFuzzTests.load(config: ModelCheckpoint.configJSON(model.config), weights: weights) } throws: {
            "\($0)".contains("h.1.ln_2.bias") && "\($0)".contains("element 3")
        }
    }
}
