// MergekitParityTests.swift — every merge method and config field we accept gives mergekit's tensors.
//
// Fixtures/ (written by scripts/mergekit/make_fixtures.py with mergekit 0.1.5) holds tiny GPT-2 and
// Llama checkpoints — a base and three fine-tunes each — and, per merge, the config and the tensors
// mergekit wrote. Each test runs the same config through ModelMerge and compares every tensor,
// relative to the tensor's largest magnitude, at 1e-5.
import Foundation
import Testing
import Autodiff
import NN
import Checkpoints
@testable import Merging

enum MergeFixtures {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
    static let names: [String] = {
        guard let data = try? Data(contentsOf: root.appendingPathComponent("merges/index.json")),
              let names = try? JSONDecoder().decode([String].self, from: data) else { return [] }
        return names
    }()

    static func model(_ name: String) throws -> GPT {
        try ModelCheckpoint.load(directory: root.appendingPathComponent("models").appendingPathComponent(name))
    }

    static func config(_ merge: String) throws -> MergeConfig {
        let url = root.appendingPathComponent("merges/\(merge)/config.json")
        return try MergeConfig(json: Data(contentsOf: url), file: url.lastPathComponent)
    }

    /// Largest |ours − mergekit| / max|mergekit| over the tensors of `model`, with the worst tensor's name;
    /// also checks that the file and the model hold the same tensors.
    static func worstDifference(_ model: GPT, against merge: String, in folder: String = "merges") throws -> (Float, String) {
        let file = try SafeTensors.File(contentsOf: root.appendingPathComponent("\(folder)/\(merge)/model.safetensors"))
        var seen = Set<String>(), worst: (Float, String) = (0, "")
        for (name, tensor) in model.namedParameters() {
            let hf = ModelCheckpoint.huggingFaceName(of: name, flavour: model.config.flavour)
            let key = [hf.name, "transformer." + hf.name].first { file.tensors[$0] != nil }
            let fileName = try #require(key, "mergekit's output has no tensor \(hf.name)")
            seen.insert(fileName)
            var values = try file.floats(of: fileName)
            if hf.transposed {
                // GPT-2 Conv1D: stored [in, out], ours [out, in].
                let (inputs, outputs) = (tensor.shape[1], tensor.shape[0])
                let stored = values
                values = (0..<stored.count).map { stored[($0 % inputs) * outputs + $0 / inputs] }
            }
            #expect(values.count == tensor.count, "\(name)")
            let scale = max(values.map(abs).max() ?? 0, 1e-12)
            let difference = zip(tensor.values, values).map { abs($0 - $1) }.max() ?? 0
            if difference / scale > worst.0 { worst = (difference / scale, name) }
        }
        #expect(Set(file.names) == seen, "tensors only in mergekit's output: \(Set(file.names).subtracting(seen).sorted())")
        return worst
    }
}

@Suite struct MergekitParityTests {
    @Test func everyFixtureIsListed() {
        #expect(MergeFixtures.names.count >= 16, "merges/index.json lists \(MergeFixtures.names)")
    }

    @Test(arguments: MergeFixtures.names)
    func matchesMergekit(_ merge: String) throws {
        let config = try MergeFixtures.config(merge)
        let merged = try ModelMerge.run(config) { try MergeFixtures.model($0) }
        let (worst, name) = try MergeFixtures.worstDifference(merged, against: merge)
        #expect(worst <= 1e-5, "\(merge): worst relative difference \(worst) in \(name)")
    }

    /// Every field `MergeConfig` accepts — top-level, and each method's parameters — is set in at least
    /// one mergekit fixture config (merges/ or dare/), so each is compared with mergekit's tensors. (Our own
    /// `seed` and `drop_probability` are not mergekit's: DAREParityTests covers the alias.) A new field
    /// accepted without a fixture fails here; every other field is refused (MergeConfigTests).
    @Test func everyAcceptedFieldIsInAFixture() throws {
        var topLevel = Set<String>(), parameters: [String: Set<String>] = [:]
        let configs = MergeFixtures.names.map { MergeFixtures.root.appendingPathComponent("merges/\($0)/config.json") }
            + DAREFixtures.names.map { DAREFixtures.root.appendingPathComponent("\($0)/config.json") }
        for url in configs {
            let root = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
            topLevel.formUnion(root.keys)
            let method = try #require(root["merge_method"] as? String)
            var names = Set(((root["parameters"] as? [String: Any]) ?? [:]).keys)
            for entry in (root["models"] as? [[String: Any]]) ?? [] { names.formUnion(((entry["parameters"] as? [String: Any]) ?? [:]).keys) }
            parameters[method, default: []].formUnion(names)
        }
        let acceptedTopLevel: Set<String> = ["merge_method", "base_model", "models", "slices", "parameters", "dtype", "out_dtype",
                                             "tokenizer_source", "tokenizer", "chat_template", "modules"]
        #expect(acceptedTopLevel.subtracting(topLevel).isEmpty, "top-level fields in no fixture: \(acceptedTopLevel.subtracting(topLevel).sorted())")
        for method in MergeConfig.methods.sorted() {
            let accepted = Set(MergeConfig.parameterSpec(method).keys).subtracting(["drop_probability"])
            let missing = accepted.subtracting(parameters[method] ?? [])
            #expect(missing.isEmpty, "\(method): parameters in no mergekit fixture: \(missing.sorted())")
        }
        // And the accepted top-level list is what MergeConfig accepts: one more field is refused by name.
        for field in acceptedTopLevel.subtracting(["merge_method", "models", "base_model", "slices", "parameters"]) {
            let json = #"{"merge_method": "linear", "models": [{"model": "a"}], "\#(field)": null}"#
            #expect(throws: Never.self) { try MergeConfig(json: Data(json.utf8)) }
        }
    }

    /// The comparison can tell methods apart: mergekit's TIES output is far from our task arithmetic on
    /// the same models, so a wrong method or parameter would not pass by accident.
    @Test func theComparisonSeesADifferentMerge() throws {
        var config = try MergeFixtures.config("ties")
        config.method = "task_arithmetic"
        let merged = try ModelMerge.run(config) { try MergeFixtures.model($0) }
        let (worst, _) = try MergeFixtures.worstDifference(merged, against: "ties")
        #expect(worst > 1e-2)
    }
}
