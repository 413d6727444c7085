// TrajectoryTests.swift — llm.c's test: the same tiny model, the same batch, the same optimizer, and our
// training must follow PyTorch's loss curve and gradients.
//
// scripts/trajectory/make_fixture.py builds a GPT-2 and a Llama model with transformers (randomised norms
// and biases), saves their initial weights, trains each for 10 steps of torch.optim.AdamW on one batch and
// records the losses and the step-0 gradients (Fixtures/trajectory/<flavour>/). Here the same weights are
// loaded into our GPT through Checkpoints, the same batch is trained for 10 steps by our Trainer with our
// AdamW (same lr, betas, ε, weight decay on rank ≥ 2), and we compare:
// - every loss (before each update, and after the last) within 1e-4 relative;
// - every parameter's step-0 gradient within 1e-4 of that tensor's largest |gradient| (a per-element
//   relative bound would fail on elements that are ~0 for both).
// What it shows that the gradient checks cannot: that our model computes *transformers'* function (same
// conventions: GELU variant, RoPE layout, GQA head order, norm ε, tied head) and our AdamW *torch's*
// update (bias corrections, ε placement, decoupled decay) — the whole loop, not one op at a time.
// Leaves out: dropout (0 in both: the RNGs differ), gradient accumulation and clipping (tested in TrainerTests).
import Testing
import Foundation
import Kernels
import Autodiff
import NN
import Optim
import Checkpoints
import Training
import TestSupport

/// The recorded run (trajectory.json).
struct RecordedTrajectory: Decodable {
    let flavour: String
    let inputs: [[Int32]]
    let targets: [[Int32]]
    let learning_rate: Float
    let weight_decay: Float
    let betas: [Float]
    let eps: Float
    /// The loss before each update, then after the last.
    let losses: [Double]
}

/// One fixed batch of next-token targets.
struct FixedBatch: LanguageModelBatch {
    let batchSize: Int, contextLength: Int
    let inputs: [Int32], targets: [Int32], weights: [Float]
}

@Suite struct TrajectoryTests {
    func folder(_ flavour: String) throws -> URL {
        try #require(Bundle.module.url(forResource: "Fixtures", withExtension: nil))
            .appendingPathComponent("trajectory").appendingPathComponent(flavour)
    }

    @Test(arguments: ["gpt2", "llama"])
    func trainingFollowsPyTorch(_ flavour: String) throws {
        let directory = try folder(flavour)
        let recorded = try JSONDecoder().decode(RecordedTrajectory.self,
                                                from: Data(contentsOf: directory.appendingPathComponent("trajectory.json")))
        let checkpoint = try HFCheckpoint(directory: directory)
        let model = try ModelCheckpoint.model(from: checkpoint)
        #expect(model.config.flavour.rawValue == flavour)
        let steps = recorded.losses.count - 1
        let batch = FixedBatch(batchSize: recorded.inputs.count, contextLength: recorded.inputs[0].count,
                               inputs: recorded.inputs.flatMap { $0 }, targets: recorded.targets.flatMap { $0 },
                               weights: [Float](repeating: 1, count: recorded.targets.flatMap { $0 }.count))
        let optimizer = AdamW(model.namedParameters(), beta1: recorded.betas[0], beta2: recorded.betas[1],
                              epsilon: recorded.eps, weightDecay: recorded.weight_decay)
        let trainer = Trainer(model: model, optimizer: optimizer,
                              options: TrainerOptions(steps: steps, learningRate: recorded.learning_rate, warmupSteps: 0,
                                                      decay: .constant, clipNorm: nil))
        var losses: [Double] = []
        for step in 0..<steps {
            losses.append(Double(trainer.trainStep([batch]).loss))
            if step == 0 { try expectGradientsMatch(model, directory: directory, architecture: checkpoint.architecture) }
        }
        losses.append(Double(trainer.evaluate([batch])))
        for (step, (ours, theirs)) in zip(losses, recorded.losses).enumerated() {
            #expect(abs(ours - theirs) <= 1e-4 * abs(theirs), "\(flavour) step \(step): loss \(ours), PyTorch \(theirs)")
        }
        // The run must have learned something, or matching it would prove little.
        #expect(recorded.losses[steps] < recorded.losses[0] - 0.1, "the recorded run barely moved: \(recorded.losses)")
    }

    /// Every parameter's gradient against PyTorch's (read from grads.safetensors, GPT-2's Conv1D layout
    /// transposed back to [out, in]).
    func expectGradientsMatch(_ model: GPT, directory: URL, architecture: HFConfig.Architecture) throws {
        let file = try SafeTensors.File(contentsOf: directory.appendingPathComponent("grads.safetensors"))
        let grads = try HFCheckpoint(architecture: architecture, file: file, label: "grads.safetensors")
        for (name, parameter) in model.namedParameters() {
            let (hfName, transposed) = ModelCheckpoint.huggingFaceName(of: name, flavour: model.config.flavour)
            var theirs = try grads.floats(hfName)
            if transposed {
                // [in, out] → [out, in]
                let (out, inFeatures) = (parameter.shape[0], parameter.shape[1])
                theirs = (0..<(out * inFeatures)).map { theirs[($0 % inFeatures) * out + $0 / inFeatures] }
            }
            let ours = try #require(parameter.grad, "\(name) got no gradient").values
            let scale = theirs.map { abs($0) }.max() ?? 0
            let worst = maxDifference(ours, theirs)
            #expect(scale > 0 && worst <= 1e-4 * scale, "\(name): max |Δ| \(worst), max |g| \(scale)")
        }
    }
}
