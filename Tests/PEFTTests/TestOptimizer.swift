// TestOptimizer.swift — AdamW over a model's trainable parameters, for memory tests.
import Autodiff
import NN
import Optim

/// Wraps AdamW so tests can step a model in one call.
final class AdamWForTests {
    let optimizer: AdamW
    init(_ model: GPT) { optimizer = AdamW(model.namedParameters()) }
    func step() { Tensor.withNoGrad { optimizer.step(learningRate: 1e-3) } }
}
