// MLP.swift — neurons, layers and a multi-layer perceptron made of scalar Values.
//
// Teaches: a neural network is just arithmetic on Values: a neuron computes tanh(w·x + b), a layer is
// neurons side by side, an MLP is layers in sequence. Training is: forward, loss, backward, nudge
// every parameter against its gradient.
// Leaves out: batching, any speed (see the Tensor engine for that).

/// A seeded linear-congruential generator, so this module needs nothing else (weights in [−1, 1]).
public struct ScalarRandom: Sendable {
    var state: UInt64
    /// A generator for `seed`.
    public init(seed: UInt64) { state = seed &* 6364136223846793005 &+ 1442695040888963407 }
    /// Uniform in [−1, 1).
    public mutating func next() -> Double {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return Double(state >> 11) / Double(1 << 53) * 2 - 1
    }
}

/// One neuron: activation(Σ wᵢxᵢ + b).
public final class Neuron {
    public let weights: [Value]
    public let bias: Value
    public let nonlinear: Bool

    /// A neuron with `inputs` weights drawn from `rng`.
    public init(inputs: Int, nonlinear: Bool = true, rng: inout ScalarRandom) {
        weights = (0..<inputs).map { _ in Value(rng.next()) }
        bias = Value(0)
        self.nonlinear = nonlinear
    }

    /// The neuron's output for `x`.
    public func callAsFunction(_ x: [Value]) -> Value {
        let sum = zip(weights, x).reduce(bias) { $0 + $1.0 * $1.1 }
        return nonlinear ? sum.tanh() : sum
    }

    public var parameters: [Value] { weights + [bias] }
}

/// A fully connected layer of neurons.
public final class Layer {
    public let neurons: [Neuron]
    /// `outputs` neurons over `inputs` inputs.
    public init(inputs: Int, outputs: Int, nonlinear: Bool = true, rng: inout ScalarRandom) {
        var neurons: [Neuron] = []
        for _ in 0..<outputs { neurons.append(Neuron(inputs: inputs, nonlinear: nonlinear, rng: &rng)) }
        self.neurons = neurons
    }
    /// Every neuron's output.
    public func callAsFunction(_ x: [Value]) -> [Value] { neurons.map { $0(x) } }
    public var parameters: [Value] { neurons.flatMap(\.parameters) }
}

/// A multi-layer perceptron: tanh hidden layers and a linear output layer.
public final class ScalarMLP {
    public let layers: [Layer]
    /// Sizes, e.g. [2, 4, 1]: 2 inputs, a hidden layer of 4, 1 output.
    public init(sizes: [Int], seed: UInt64) {
        var rng = ScalarRandom(seed: seed)
        var layers: [Layer] = []
        for i in 0..<(sizes.count - 1) {
            layers.append(Layer(inputs: sizes[i], outputs: sizes[i + 1], nonlinear: i < sizes.count - 2, rng: &rng))
        }
        self.layers = layers
    }
    /// The network's outputs for `x`.
    public func callAsFunction(_ x: [Double]) -> [Value] {
        layers.reduce(x.map { Value($0) }) { $1($0) }
    }
    public var parameters: [Value] { layers.flatMap(\.parameters) }
}

/// Finite differences in Double (caseless namespace): the oracle for scalar and tensor gradients.
public enum NumericalGradient {
    /// ∂f/∂xᵢ for every i by central differences (f(x + h·eᵢ) − f(x − h·eᵢ)) / 2h; error O(h²).
    public static func centralDifference(_ f: ([Double]) -> Double, at x: [Double], step h: Double = 1e-6) -> [Double] {
        (0..<x.count).map { i in
            var plus = x, minus = x
            plus[i] += h
            minus[i] -= h
            return (f(plus) - f(minus)) / (2 * h)
        }
    }
}
