// ThreadDeterminismTests.swift — a real training step gives the same bits at 1 and at 2 threads.
//
// The shapes are chosen so that the second thread is really used (GEMMs, attention heads, norms,
// activations and the optimizer all split their work): a counter of threaded kernel calls proves
// it, so this test can fail if any threaded kernel sums in a thread-dependent order.
import Foundation
import Testing
import Kernels
@testable import Autodiff
@testable import NN

@Suite struct ThreadDeterminismTests {
    /// Two AdamW steps of a small model (GPT-2 or Llama flavour, batch 8 × 64 tokens, width 128) at
    /// `threads` threads; returns every parameter's values afterwards and the number of threaded kernel calls.
    func train(_ config: GPTConfig, threads: Int) -> (weights: [String: [Float]], splits: Int) {
        var rng = RNG(seed: 5)
        let model = GPT(config: config, rng: &rng)
        let (batch, steps) = (8, 64)
        let ids = (0..<(batch * steps)).map { _ in Int32(rng.below(config.vocabularySize)) }
        let targets = (0..<(batch * steps)).map { _ in Int32(rng.below(config.vocabularySize)) }
        let parameters = model.namedParameters()
        // AdamW moments, updated by the same kernel the optimizer uses.
        var firstMoments = parameters.map { [Float](repeating: 0, count: $0.tensor.count) }
        var secondMoments = firstMoments
        let counter = SplitCounter()
        Parallelism.$splitCounter.withValue(counter) {
            Parallelism.$threads.withValue(threads) {
                for step in 1...2 {
                    for (_, p) in parameters { p.zeroGrad() }
                    Tensor.crossEntropy(model(ids, batch: batch, steps: steps), targets: targets).backward()
                    for (index, (_, p)) in parameters.enumerated() {
                        guard let grad = p.grad else { continue }
                        AdamWUpdate.step(theta: p.data, gradient: grad.data, m: &firstMoments[index], v: &secondMoments[index], count: p.count,
                                         beta1: 0.9, beta2: 0.999, epsilon: 1e-8, stepSize: 1e-3 / (1 - Foundation.pow(Float(0.9), Float(step))),
                                         rootCorrection2: (1 - Foundation.pow(Float(0.999), Float(step))).squareRoot(), decay: 1 - 1e-5)
                    }
                }
            }
        }
        return (Dictionary(uniqueKeysWithValues: parameters.map { ($0.name, $0.tensor.values) }), counter.count)
    }

    @Test(arguments: [
        GPTConfig.gpt2(vocabularySize: 96, contextLength: 64, embeddingSize: 128, layers: 2, heads: 4),
        GPTConfig.llama(vocabularySize: 96, contextLength: 64, embeddingSize: 128, layers: 2, heads: 4, kvHeads: 2, mlpSize: 256),
    ])
    func trainingStepIsBitwiseIdenticalAtOneAndTwoThreads(config: GPTConfig) {
        let one = train(config, threads: 1), two = train(config, threads: 2)
        #expect(one.splits == 0)
        // Dozens of kernel calls per step must have used the second thread, or the comparison proves nothing.
        #expect(two.splits > 50, "only \(two.splits) threaded kernel calls")
        #expect(one.weights.count == two.weights.count)
        for (name, values) in one.weights {
            #expect(two.weights[name] == values, "\(name) differs between 1 and 2 threads")
        }
        // And training moved the weights (the step was real).
        var rng = RNG(seed: 5)
        let initial = GPT(config: config, rng: &rng).namedParameters()
        #expect(initial.contains { one.weights[$0.name] != $0.tensor.values })
    }
}
