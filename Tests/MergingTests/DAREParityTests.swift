// DAREParityTests.swift — DARE with density < 1 against mergekit, given the masks mergekit drew.
//
// Fixtures/dare/ (scripts/mergekit/make_dare_fixtures.py, mergekit 0.1.5) holds, per merge, the config,
// mergekit's output and every torch.bernoulli mask it drew ("<tensor>|<model>", transformers layout).
// Fed those masks through `ModelMerge.run(_:dareMasks:load:)`, our dare_linear and dare_ties must give
// mergekit's tensors (≤ 1e-5 of each tensor's largest magnitude), with rescale on and off and
// densities 0.3 … 0.7; and the masks must matter (our own seeded masks give something else).
import Foundation
import Testing
import NN
import Checkpoints
@testable import Merging

enum DAREFixtures {
    static let root = MergeFixtures.root.appendingPathComponent("dare")
    static let names: [String] = {
        guard let data = try? Data(contentsOf: root.appendingPathComponent("index.json")),
              let names = try? JSONDecoder().decode([String].self, from: data) else { return [] }
        return names
    }()

    static func config(_ merge: String) throws -> MergeConfig {
        let url = root.appendingPathComponent("\(merge)/config.json")
        return try MergeConfig(json: Data(contentsOf: url), file: url.lastPathComponent)
    }

    /// Runs `config` with mergekit's recorded masks for `merge`; returns the model and the masks used.
    static func run(_ config: MergeConfig, masksOf merge: String) throws -> (GPT, used: Set<String>, recorded: Set<String>) {
        let file = try SafeTensors.File(contentsOf: root.appendingPathComponent("\(merge)/masks.safetensors"))
        var used = Set<String>()
        let merged = try ModelMerge.run(config, dareMasks: { request in
            let key = "\(request.tensor)|\(request.model)"
            used.insert(key)
            return [UInt8](try file.bytes(of: key)).map { $0 != 0 }
        }) { try MergeFixtures.model($0) }
        return (merged, used, Set(file.names))
    }
}

@Suite struct DAREParityTests {
    @Test func theFixturesCoverDensitiesAndRescale() throws {
        var seen = Set<String>()
        for merge in DAREFixtures.names {
            let config = try DAREFixtures.config(merge)
            let rescale = config.parameters["rescale"] ?? .flag(true)
            for entry in config.models { seen.insert("\(config.method) \(rescale) \(entry.parameters["density"].map { "\($0)" } ?? "")") }
        }
        for method in ["dare_linear", "dare_ties"] {
            for rescale in [true, false] {
                for density in [0.3, 0.7] {
                    #expect(seen.contains("\(method) \(MergeConfig.Setting.flag(rescale)) \(MergeConfig.Setting.number(density))"),
                            "no fixture for \(method), rescale \(rescale), density \(density): \(seen.sorted())")
                }
            }
        }
    }

    @Test(arguments: DAREFixtures.names)
    func matchesMergekitWithItsMasks(_ merge: String) throws {
        let (merged, used, recorded) = try DAREFixtures.run(DAREFixtures.config(merge), masksOf: merge)
        #expect(used == recorded, "\(merge): masks used \(used.count), recorded \(recorded.count); unused: \(recorded.subtracting(used).sorted().prefix(3))")
        let (worst, name) = try MergeFixtures.worstDifference(merged, against: merge, in: "dare")
        #expect(worst <= 1e-5, "\(merge): worst relative difference \(worst) in \(name)")
    }

    /// Our `drop_probability` alias (density = 1 − p) gives the same merge.
    @Test func dropProbabilityIsOneMinusDensity() throws {
        let url = DAREFixtures.root.appendingPathComponent("dare-linear-rescale/config.json")
        let text = try String(contentsOf: url, encoding: .utf8)
            .replacingOccurrences(of: "\"density\": 0.3", with: "\"drop_probability\": 0.7")
            .replacingOccurrences(of: "\"density\": 0.7", with: "\"drop_probability\": 0.3")
        #expect(!text.contains("density"))
        let (merged, _, _) = try DAREFixtures.run(MergeConfig(json: Data(text.utf8)), masksOf: "dare-linear-rescale")
        let (worst, name) = try MergeFixtures.worstDifference(merged, against: "dare-linear-rescale", in: "dare")
        #expect(worst <= 1e-5, "worst relative difference \(worst) in \(name)")
    }

    /// Without mergekit's masks (our seeded RNG draws others) the output is far from mergekit's, so the
    /// comparison above really depends on the masks.
    @Test func theMasksMatter() throws {
        let merged = try ModelMerge.run(DAREFixtures.config("dare-ties-rescale")) { try MergeFixtures.model($0) }
        let (worst, _) = try MergeFixtures.worstDifference(merged, against: "dare-ties-rescale", in: "dare")
        #expect(worst > 1e-2)
    }

    @Test func aMaskOfTheWrongLengthIsAnErrorNamingTheTensor() throws {
        #expect { try ModelMerge.run(DAREFixtures.config("dare-linear-rescale"), dareMasks: { _ in [true] }) { try MergeFixtures.model($0) } }
            throws: { "\($0)".contains("DARE mask for transformer.") && "\($0)".contains("1 values for") }
    }
}
