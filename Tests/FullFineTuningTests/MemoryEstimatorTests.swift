// MemoryEstimatorTests.swift — the book's worked numbers, and the estimate against the meter.
import Testing
import Kernels
@testable import Autodiff
import NN
import Optim
@testable import FullFineTuning

@Suite struct MemoryEstimatorTests {
    @Test func theBooksWorkedNumbers() {
        // 13B in fp16: 26 GB of weights, 31.2 GB to serve.
        #expect(MemoryEstimator.inference(parameters: 13e9, bytesPerParameter: 2, overhead: 1) == 26e9)
        #expect(abs(MemoryEstimator.inference(parameters: 13e9, bytesPerParameter: 2) - 31.2e9) < 1)
        // Adam, all trainable, fp16 gradients and states: 13B × 3 × 2 B = 78 GB; 1B trainable: 6 GB.
        let all = MemoryEstimator.training(parameters: 13e9, trainable: 13e9, weightBytes: 2, gradientBytes: 2,
                                           stateValues: 2, stateBytes: 2)
        #expect(all.gradients + all.optimizerState == 78e9)
        let some = MemoryEstimator.training(parameters: 13e9, trainable: 1e9, weightBytes: 2, gradientBytes: 2,
                                            stateValues: 2, stateBytes: 2)
        #expect(some.gradients + some.optimizerState == 6e9)
    }

    /// Measures the activation peak of a forward pass with the meter and compares it with the formula.
    func measuredActivations(_ config: GPTConfig, batch: Int, steps: Int, checkpointing: Bool) -> (Int, Double) {
        var rng = RNG(seed: 1)
        let model = GPT(config: config, rng: &rng)
        model.checkpointActivations = checkpointing
        let ids = (0..<(batch * steps)).map { Int32($0 % config.vocabularySize) }
        let meter = MemoryMeter()
        meter.install {
            let loss = Tensor.crossEntropy(model(ids, batch: batch, steps: steps), targets: ids)
            loss.backward()
        }
        let estimate = MemoryEstimator.activationBytes(config: config, batch: batch, steps: steps,
                                                       checkpointing: checkpointing)
        return (meter.peakBytes(.activations), estimate)
    }

    @Test(arguments: [false, true])
    func gpt2ActivationEstimateMatchesTheMeter(checkpointing: Bool) {
        let config = GPTConfig.gpt2(vocabularySize: 37, contextLength: 16, embeddingSize: 24, layers: 3, heads: 4)
        let (measured, estimate) = measuredActivations(config, batch: 2, steps: 16, checkpointing: checkpointing)
        // Agreement within 5%: the difference is transient buffers alive at the peak (e.g. a gradient-side temporary).
        #expect(abs(Double(measured) - estimate) / estimate < 0.05, "measured \(measured), estimated \(estimate)")
    }

    @Test(arguments: [false, true])
    func llamaActivationEstimateMatchesTheMeter(checkpointing: Bool) {
        let config = GPTConfig.llama(vocabularySize: 37, contextLength: 16, embeddingSize: 32, layers: 3, heads: 4,
                                     kvHeads: 2, mlpSize: 48)
        let (measured, estimate) = measuredActivations(config, batch: 2, steps: 16, checkpointing: checkpointing)
        #expect(abs(Double(measured) - estimate) / estimate < 0.05, "measured \(measured), estimated \(estimate)")
    }
}
