// AdamWTorchParityTests.swift — our AdamW against torch.optim.AdamW where every constant matters.
//
// Fixtures/adamw.json (scripts/optim/make_adamw_fixture.py, torch 2.15) holds 12 steps of
// torch.optim.AdamW(lr 1e-2, betas (0.9, 0.999), eps 1e-8) on a [6, 7] matrix (weight decay 0.1) and a
// [7] bias (no decay) with gradients of 1e-9 … 1e-7: there √v̂ is of the order of ε, so ε = 1e-7
// instead of 1e-8 changes each update by tens of percent. The distance measured after each step is
// max |θ_ours − θ_torch| divided by how far torch's parameters have moved (max |θ_torch − θ₀|).
import Foundation
import Testing
@testable import Autodiff
import NN
@testable import Optim

enum AdamWFixture {
    struct Document: Decodable {
        let lr: Float, betas: [Float], eps: Float, weight_decay: Float, steps: Int
        let tensors: [String: [Double]]
    }

    static let document: Document? = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/adamw.json")
        return (try? Data(contentsOf: url)).flatMap { try? JSONDecoder().decode(Document.self, from: $0) }
    }()

    /// A float32 array (each Double in the file is exactly a float32 value).
    static func floats(_ name: String) throws -> [Float] {
        let fixture = try #require(document, "Fixtures/adamw.json is missing or malformed")
        let values = try #require(fixture.tensors[name], "adamw.json has no \(name)")
        return values.map(Float.init)
    }

    /// Runs our AdamW with the given constants over the fixture's gradients; returns the worst distance
    /// to torch over the steps, and the step and parameter where it was.
    static func worstDistance(beta1: Float, beta2: Float, epsilon: Float, weightDecay: Float,
                              biasCorrection: Bool = true) throws -> (Float, String) {
        let fixture = try #require(document)
        let weight = makeParameter(Tensor(try floats("weight.initial"), shape: [6, 7]))
        let bias = makeParameter(Tensor(try floats("bias.initial"), shape: [7]))
        let initial = ["weight": weight.values, "bias": bias.values]
        let optimizer = AdamW([("weight", weight), ("bias", bias)], beta1: beta1, beta2: beta2, epsilon: epsilon, weightDecay: weightDecay)
        var worst: (distance: Float, at: String) = (0, "")
        for k in 1...fixture.steps {
            weight.setGrad(Tensor(try floats("step\(k).weight.grad"), shape: [6, 7]))
            bias.setGrad(Tensor(try floats("step\(k).bias.grad"), shape: [7]))
            if !biasCorrection { optimizer.loadStateStepCountForTesting(1_000_000) }
            optimizer.step(learningRate: fixture.lr)
            for (name, p) in [("weight", weight), ("bias", bias)] {
                let reference = try floats("step\(k).\(name)")
                let moved = zip(reference, initial[name]!).map { abs($0 - $1) }.max() ?? 0
                let difference = zip(p.values, reference).map { abs($0 - $1) }.max() ?? 0
                if difference / moved > worst.distance { worst = (difference / moved, "step \(k) \(name)") }
            }
        }
        return worst
    }
}

extension AdamW {
    /// Pretends `count` steps have been taken (so 1 − βᵗ ≈ 1: no bias correction) keeping the moments.
    func loadStateStepCountForTesting(_ count: Int) {
        let state = Dictionary(uniqueKeysWithValues: stateTensors().map { ($0.name, $0.tensor.values) })
        try? loadState(state, stepCount: count)
    }
}

@Suite struct AdamWTorchParityTests {
    /// Measured: 5.7e-6. Our kernel forms 1 − β₂ in float32 (1 − 0.999f = 0.00099998713), torch in
    /// double before rounding (0.001f): v differs by 1.3e-5 relative and each update by up to ~6.5e-6.
    static let tolerance: Float = 2e-5

    @Test func matchesTorchWhereEpsilonMatters() throws {
        let (worst, at) = try AdamWFixture.worstDistance(beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0.1)
        #expect(worst <= Self.tolerance, "worst distance \(worst) at \(at)")
    }

    @Test func finalMomentsMatchTorch() throws {
        let fixture = try #require(AdamWFixture.document)
        let weight = makeParameter(Tensor(try AdamWFixture.floats("weight.initial"), shape: [6, 7]))
        let bias = makeParameter(Tensor(try AdamWFixture.floats("bias.initial"), shape: [7]))
        let optimizer = AdamW([("weight", weight), ("bias", bias)], epsilon: 1e-8, weightDecay: 0.1)
        for k in 1...fixture.steps {
            weight.setGrad(Tensor(try AdamWFixture.floats("step\(k).weight.grad"), shape: [6, 7]))
            bias.setGrad(Tensor(try AdamWFixture.floats("step\(k).bias.grad"), shape: [7]))
            optimizer.step(learningRate: fixture.lr)
        }
        for (name, tensor) in optimizer.stateTensors() {
            let reference = try AdamWFixture.floats(name)
            let scale = reference.map(abs).max() ?? 0
            let difference = zip(tensor.values, reference).map { abs($0 - $1) }.max() ?? 0
            // 1 − β in float32 (see `tolerance`): m within 3.1e-7 of torch's, v within 1.3e-5.
            let allowed: Float = name.hasSuffix("exp_avg_sq") ? 2e-5 : 1e-6
            #expect(scale > 0 && difference <= allowed * scale, "\(name): \(difference) of \(scale)")
        }
    }

    /// The fixture tells each constant apart: a wrong ε, β₁, β₂, weight decay or a missing bias
    /// correction misses torch by at least 10× the tolerance.
    @Test(arguments: [
        ("epsilon 1e-7", Float(0.9), Float(0.999), Float(1e-7), Float(0.1), true),
        ("epsilon 1e-9", 0.9, 0.999, 1e-9, 0.1, true),
        ("beta1 0.89", 0.89, 0.999, 1e-8, 0.1, true),
        ("beta2 0.998", 0.9, 0.998, 1e-8, 0.1, true),
        ("weight decay 0.09", 0.9, 0.999, 1e-8, 0.09, true),
        ("no bias correction", 0.9, 0.999, 1e-8, 0.1, false),
    ])
    func aWrongConstantIsCaught(_ label: String, beta1: Float, beta2: Float, epsilon: Float, weightDecay: Float, biasCorrection: Bool) throws {
        let (worst, at) = try AdamWFixture.worstDistance(beta1: beta1, beta2: beta2, epsilon: epsilon, weightDecay: weightDecay,
                                                         biasCorrection: biasCorrection)
        #expect(worst > 10 * AdamWTorchParityTests.tolerance, "\(label): only \(worst) at \(at)")
    }
}
