// OptimTests.swift — update rules against hand-derived sequences, schedules, clipping, state memory.
import Foundation
import Testing
@testable import Autodiff
import NN
@testable import Optim

@Suite struct OptimTests {
    /// A parameter with a fixed gradient.
    func parameter(_ values: [Float], grad: [Float], name: String = "w") -> (name: String, tensor: Tensor) {
        let p = makeParameter(Tensor(values, shape: [values.count]))
        p.setGrad(Tensor(grad, shape: [grad.count]))
        return (name, p)
    }

    @Test func adamWMatchesTheDefinitionInDouble() {
        // One matrix parameter (gets decay) with gradients 0.5, −1, 2 on successive steps.
        let p = makeParameter(Tensor([1], shape: [1, 1]))
        let optimizer = AdamW([("w", p)], beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0.1)
        var (theta, m, v) = (1.0, 0.0, 0.0)
        let lr = 0.01
        for (t, g) in [0.5, -1.0, 2.0].enumerated() {
            p.setGrad(Tensor([Float(g)], shape: [1, 1]))
            optimizer.step(learningRate: Float(lr))
            m = 0.9 * m + 0.1 * g
            v = 0.999 * v + 0.001 * g * g
            let mHat = m / (1 - pow(0.9, Double(t + 1))), vHat = v / (1 - pow(0.999, Double(t + 1)))
            theta = theta * (1 - lr * 0.1) - lr * mHat / (vHat.squareRoot() + 1e-8)
            #expect(abs(Double(p.data[0]) - theta) < 1e-6)
        }
        #expect(optimizer.stepCount == 3)
    }

    @Test func biasesAreNotDecayed() {
        let (name, bias) = parameter([1], grad: [0])
        AdamW([(name, bias)], weightDecay: 0.5).step(learningRate: 0.1)
        #expect(bias.data[0] == 1)  // zero gradient and no decay: unchanged
    }

    @Test func sgdWithMomentum() {
        let (name, p) = parameter([1], grad: [1])
        let optimizer = SGD([(name, p)], momentum: 0.9)
        optimizer.step(learningRate: 0.1)   // v = 1, θ = 0.9
        optimizer.step(learningRate: 0.1)   // v = 1.9, θ = 0.71
        #expect(abs(p.data[0] - 0.71) < 1e-6)
        #expect(optimizer.stateValuesPerParameter == 1)
    }

    @Test func frozenParametersAreSkipped() {
        let frozen = Tensor([1], shape: [1])
        let optimizer = AdamW([("frozen", frozen)])
        #expect(optimizer.parameters.isEmpty)
        #expect(optimizer.stateBytes == 0)
    }

    @Test func optimizerStateIsMeteredAsTwoCopiesOfTheWeights() {
        let (_, meter) = MemoryMeter.measure {
            let p = makeParameter(Tensor(zeros: [10, 10]))
            let optimizer = AdamW([("w", p)])
            #expect(optimizer.stateBytes == 800)
            #expect(MemoryMeter.current!.liveBytes(.optimizerState) == 800)
            #expect(MemoryMeter.current!.liveBytes(.weights) == 400)
        }
        #expect(meter.liveTotalBytes == 0)  // everything released
        #expect(meter.peakBytes(.optimizerState) == 800)
    }

    @Test func stateRoundTrip() throws {
        let (name, p) = parameter([1, 2], grad: [0.3, -0.2])
        let a = AdamW([(name, p)])
        a.step(learningRate: 0.1)
        let saved = Dictionary(uniqueKeysWithValues: a.stateTensors().map { ($0.name, $0.tensor.values) })
        let b = AdamW([(name, p)])
        try b.loadState(saved, stepCount: a.stepCount)
        #expect(b.stateTensors().map(\.tensor.values) == a.stateTensors().map(\.tensor.values))
        #expect(throws: OptimizerStateError.self) { try b.loadState([:], stepCount: 1) }
    }

    @Test func schedules() {
        let cosine = LearningRateSchedule(peak: 1, warmupSteps: 10, totalSteps: 110, decay: .cosine, minimum: 0)
        #expect(cosine.rate(at: 5) == 0.5)
        #expect(cosine.rate(at: 10) == 1)
        #expect(abs(cosine.rate(at: 60) - 0.5) < 1e-6)   // halfway through the decay
        #expect(abs(cosine.rate(at: 110)) < 1e-6)
        let linear = LearningRateSchedule(peak: 2, totalSteps: 4, decay: .linear, minimum: 0)
        #expect(linear.rate(at: 1) == 1.5)
        #expect(linear.rate(at: 3) == 0.5)
    }

    @Test func globalNormClipping() {
        let (_, a) = parameter([0, 0], grad: [3, 0])
        let (_, b) = parameter([0], grad: [4])
        let norm = GradientClipping.clip([a, b], maxNorm: 1)
        #expect(norm == 5)
        #expect(abs(GradientClipping.globalNorm([a, b]) - 1) < 1e-6)
        #expect(abs(a.grad!.data[0] - 0.6) < 1e-6)
    }
}
