// AdapterFilesTests.swift — PEFT parity of adapter files, against adapters and logits PEFT produced
// (Fixtures/, written by scripts/peft/make_fixtures.py on the tiny checkpoints of CheckpointsTests),
// and the refusals: every bad config is an error naming the field, and leaves the model unchanged.
import Foundation
import Testing
@testable import Autodiff
import NN
import Checkpoints
@testable import PEFT

/// Where the committed fixtures live (read from the source tree: they are shared with CheckpointsTests).
enum PEFTFixtures {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
    static let checkpoints = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("CheckpointsTests/Fixtures")

    struct Expected: Decodable {
        var tokens: [Int]
        var logits_shape: [Int]
        var logits: [Float]
        var warnings: [String]
    }

    static func expected(_ name: String) throws -> Expected {
        try JSONDecoder().decode(Expected.self, from: Data(contentsOf: root.appendingPathComponent(name).appendingPathComponent("expected.json")))
    }

    static func base(_ kind: String) throws -> GPT {
        try ModelCheckpoint.load(directory: checkpoints.appendingPathComponent("tiny-\(kind)"))
    }
}

/// Every parameter of `model` (adapters included) with its values and trainability.
func fingerprint(_ model: GPT) -> [String: ([Float], Bool)] {
    Dictionary(uniqueKeysWithValues: model.namedParameters().map { ($0.name, ($0.tensor.values, $0.tensor.requiresGrad)) })
}

func sameFingerprint(_ a: [String: ([Float], Bool)], _ b: [String: ([Float], Bool)]) -> Bool {
    a.count == b.count && a.allSatisfy { key, value in b[key].map { $0.0 == value.0 && $0.1 == value.1 } ?? false }
}

@Suite struct AdapterFilesParityTests {
    /// Adapters written by PEFT with full-path, suffix, regex, layers_to_transform, rank/alpha patterns,
    /// rsLoRA, DoRA and exclude_modules give PEFT's logits.
    @Test(arguments: ["gpt2-fullpath", "gpt2-suffix", "gpt2-regex", "gpt2-layers", "llama-fullpath", "llama-regex", "llama-exclude"])
    func peftAdapterGivesPEFTsLogits(_ name: String) throws {
        let kind = name.hasPrefix("gpt2") ? "gpt2" : "llama"
        let model = try PEFTFixtures.base(kind)
        let expected = try PEFTFixtures.expected(name)
        let before = model(expected.tokens.map(Int32.init), batch: 1, steps: expected.tokens.count)
        try AdapterFiles.load("default", into: model, from: PEFTFixtures.root.appendingPathComponent(name))
        let logits = model(expected.tokens.map(Int32.init), batch: 1, steps: expected.tokens.count)
        #expect(logits.shape == expected.logits_shape)
        let worst = zip(logits.values, expected.logits).map { abs($0 - $1) / max(1, abs($1)) }.max() ?? .infinity
        #expect(worst <= 1e-4, "\(name): worst relative difference \(worst)")
        // The adapter must matter, or the comparison above would not test it.
        let moved = zip(before.values, expected.logits).map { abs($0 - $1) }.max() ?? 0
        #expect(moved > 1e-2, "\(name): the adapter changes the logits by only \(moved)")
    }

    @Test func layersFollowPEFTsRules() throws {
        let model = try PEFTFixtures.base("gpt2")
        try AdapterFiles.load("default", into: model, from: PEFTFixtures.root.appendingPathComponent("gpt2-suffix"))
        // "c_attn" as a suffix (both blocks) and "h.1.mlp.c_proj" (one block); rank_pattern gives h.0's c_attn
        // r = 2, alpha_pattern gives every c_proj α = 3.
        let adapted = Dictionary(uniqueKeysWithValues: LoRA.loraLayers(of: model).compactMap { path, _, lora in
            lora.weights("default").map { (path, ($0.config.rank, $0.config.alpha)) }
        })
        #expect(Set(adapted.keys) == ["h.0.attn.c_attn", "h.1.attn.c_attn", "h.1.mlp.c_proj"])
        #expect(adapted["h.0.attn.c_attn"]! == (2, 8) && adapted["h.1.attn.c_attn"]! == (4, 8) && adapted["h.1.mlp.c_proj"]! == (4, 3))
    }

    /// The adapter in our layout (ours-gpt2) loaded in PEFT with no warnings and these logits; our
    /// save of it reproduces its config and tensors, so what `tinytune lora` writes is what PEFT read.
    @Test func ourLayoutLoadsInPEFT() throws {
        let folder = PEFTFixtures.root.appendingPathComponent("ours-gpt2")
        let expected = try PEFTFixtures.expected("ours-gpt2")
        #expect(expected.warnings.isEmpty, "PEFT warned: \(expected.warnings)")
        let model = try PEFTFixtures.base("gpt2")
        try AdapterFiles.load("default", into: model, from: folder)
        let logits = model(expected.tokens.map(Int32.init), batch: 1, steps: expected.tokens.count)
        let worst = zip(logits.values, expected.logits).map { abs($0 - $1) / max(1, abs($1)) }.max() ?? .infinity
        #expect(worst <= 1e-4, "worst relative difference \(worst)")

        let out = FileManager.default.temporaryDirectory.appendingPathComponent("tinytune-ours-\(UUID())")
        defer { try? FileManager.default.removeItem(at: out) }
        try AdapterFiles.save("default", of: model, to: out, baseModel: "tiny-gpt2")
        let ours = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("adapter_config.json"))) as? NSDictionary
        let theirs = try JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent("adapter_config.json"))) as? NSDictionary
        #expect(ours == theirs, "config written: \(String(describing: ours))")
        #expect(AdapterConfig.isBoolean(ours?["init_lora_weights"]) && ours?["init_lora_weights"] as? Bool == true)
        let written = try SafeTensors.File(contentsOf: out.appendingPathComponent("adapter_model.safetensors"))
        let reference = try SafeTensors.File(contentsOf: folder.appendingPathComponent("adapter_model.safetensors"))
        #expect(written.names.sorted() == reference.names.sorted())
        for name in reference.names { #expect(try written.floats(of: name) == reference.floats(of: name), "\(name)") }
    }

    @Test func unevenRanksAreSavedAsPatterns() throws {
        let model = try PEFTFixtures.base("gpt2")
        try AdapterFiles.load("default", into: model, from: PEFTFixtures.root.appendingPathComponent("gpt2-suffix"))
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("tinytune-patterns-\(UUID())")
        defer { try? FileManager.default.removeItem(at: out) }
        try AdapterFiles.save("default", of: model, to: out)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("adapter_config.json"))) as? [String: Any])
        // The first layer (h.0's c_attn) sets r = 2, α = 8; the others differ and get full-path patterns.
        #expect(json["r"] as? Int == 2)
        #expect((json["rank_pattern"] as? [String: Int]) == ["transformer.h.1.attn.c_attn": 4, "transformer.h.1.mlp.c_proj": 4])
        #expect((json["alpha_pattern"] as? [String: Double]) == ["transformer.h.1.mlp.c_proj": 3])
        // c_proj of h.0 is not adapted, so the short name would over-match: full paths are written.
        #expect((json["target_modules"] as? [String]) == ["transformer.h.0.attn.c_attn", "transformer.h.1.attn.c_attn", "transformer.h.1.mlp.c_proj"])
        let reloaded = try PEFTFixtures.base("gpt2")
        try AdapterFiles.load("default", into: reloaded, from: out)
        let ids: [Int32] = [3, 1, 4, 1, 5, 9]
        #expect(model(ids, batch: 1, steps: 6).values == reloaded(ids, batch: 1, steps: 6).values)
    }
}

@Suite struct AdapterFilesRefusalTests {
    /// A copy of the ours-gpt2 fixture with its config edited by `edit` (and tensors by `tensors`).
    func adapter(edit: (inout [String: Any]) -> Void, tensors: ((inout [SafeTensors.NamedTensor]) throws -> Void)? = nil) throws -> URL {
        let source = PEFTFixtures.root.appendingPathComponent("ours-gpt2")
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("tinytune-bad-adapter-\(UUID())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        var json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: source.appendingPathComponent("adapter_config.json"))) as? [String: Any])
        edit(&json)
        try JSONSerialization.data(withJSONObject: json).write(to: folder.appendingPathComponent("adapter_config.json"))
        let file = try SafeTensors.File(contentsOf: source.appendingPathComponent("adapter_model.safetensors"))
        var named = try file.names.sorted().map { try SafeTensors.NamedTensor(name: $0, shape: file.tensors[$0]!.shape, floats: file.floats(of: $0)) }
        try tensors?(&named)
        try SafeTensors.write(named, metadata: ["format": "pt"], to: folder.appendingPathComponent("adapter_model.safetensors"))
        return folder
    }

    /// Loading `folder` onto a model that already carries another adapter throws an error containing
    /// `words`, and leaves every parameter (values and trainability) as it was.
    func expectRefused(_ folder: URL, _ words: [String]) throws {
        defer { try? FileManager.default.removeItem(at: folder) }
        let model = try PEFTFixtures.base("gpt2")
        try LoRA.add("other", to: model, config: LoRAConfig(rank: 2, targets: ["c_proj"]), seed: 1)
        let before = fingerprint(model)
        #expect { try AdapterFiles.load("default", into: model, from: folder) } throws: { error in
            let text = "\(error)"
            return words.allSatisfy { text.contains($0) } || { Issue.record("message: \(text)"); return false }()
        }
        #expect(sameFingerprint(before, fingerprint(model)), "a failed load changed the model")
    }

    @Test func targetsMatchingNoLayerAreNamedWithTheModelsLayers() throws {
        try expectRefused(adapter { $0["target_modules"] = ["q_proj"] }, ["[q_proj]", "match no Linear layer", "transformer.h.0.attn.c_attn"])
        try expectRefused(adapter { $0["target_modules"] = "model\\.layers\\..*" }, ["regex", "match no Linear layer"])
    }

    @Test func badNumbersAndTypesAreRefused() throws {
        try expectRefused(adapter { $0["r"] = -1 }, ["\"r\"", "-1"])
        try expectRefused(adapter { $0["r"] = 0 }, ["\"r\""])
        try expectRefused(adapter { $0["r"] = 1 << 31 }, ["\"r\"", "2147483648"])
        try expectRefused(adapter { $0["r"] = Int.max }, ["\"r\""])
        try expectRefused(adapter { $0["r"] = true }, ["\"r\"", "true", "not an integer"])
        try expectRefused(adapter { $0["r"] = 4.5 }, ["\"r\"", "not an integer"])
        try expectRefused(adapter { $0["r"] = "4" }, ["\"r\""])
        try expectRefused(adapter { $0["lora_alpha"] = 1e39 }, ["lora_alpha"])
        try expectRefused(adapter { $0["lora_alpha"] = true }, ["lora_alpha", "true"])
        try expectRefused(adapter { $0["use_dora"] = "yes" }, ["use_dora"])
        try expectRefused(adapter { $0["target_modules"] = 3 }, ["target_modules"])
        try expectRefused(adapter { $0["target_modules"] = "([" }, ["target_modules", "regular expression"])
        try expectRefused(adapter { $0["peft_type"] = "IA3" }, ["IA3"])
    }

    @Test func fieldsThatChangeTheMathAreRefusedByName() throws {
        try expectRefused(adapter { $0["modules_to_save"] = ["lm_head"] }, ["modules_to_save"])
        try expectRefused(adapter { $0["layer_replication"] = [[0, 1]] }, ["layer_replication"])
        try expectRefused(adapter { $0["lora_bias"] = true }, ["lora_bias"])
        try expectRefused(adapter { $0["bias"] = "all" }, ["bias"])
        try expectRefused(adapter { $0["some_future_option"] = 1 }, ["some_future_option"])
        try expectRefused(adapter { $0["target_modules"] = ["c_attn", "lm_head"] }, ["lm_head"])
    }

    @Test func badTensorsAreRefusedAfterTheFirstTensorsWereFine() throws {
        // The last tensor (in name order) is damaged: a half-applied load would show in the fingerprint.
        try expectRefused(adapter(edit: { _ in }, tensors: { named in
            let last = named.removeLast()
            named.append(try SafeTensors.NamedTensor(name: last.name, shape: [1, 4], floats: [1, 2, 3, 4]))
        }), ["transformer.h.1.mlp.c_fc.lora_B.weight", "[1, 4]"])
        try expectRefused(adapter(edit: { _ in }, tensors: { named in
            let last = named.removeLast()
            let count = last.shape.reduce(1, *)
            named.append(try SafeTensors.NamedTensor(name: last.name, shape: last.shape, floats: [Float](repeating: .nan, count: count)))
        }), ["NaN"])
        try expectRefused(adapter(edit: { _ in }, tensors: { named in named.removeLast() }), ["missing tensor", "h.1.mlp.c_fc.lora_B.weight"])
        try expectRefused(adapter(edit: { $0["target_modules"] = ["c_attn"] }), ["h.0.mlp.c_fc.lora_A.weight", "matches no layer"])
    }

    @Test func addRefusesTargetsThatMatchNothing() throws {
        let model = try PEFTFixtures.base("llama")
        let before = fingerprint(model)
        #expect { try LoRA.add("x", to: model, config: LoRAConfig(rank: 2, targets: ["c_attn"]), seed: 1) } throws: { error in
            "\(error)".contains("[\"c_attn\"]") && "\(error)".contains("layers.0.self_attn.q_proj")
        }
        #expect { try LoRA.add("x", to: model, config: LoRAConfig(rank: 0), seed: 1) } throws: { "\($0)".contains("rank 0") }
        #expect(sameFingerprint(before, fingerprint(model)))
    }
}
