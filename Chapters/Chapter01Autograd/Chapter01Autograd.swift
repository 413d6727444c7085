// Chapter01Autograd.swift — Chapter 1: automatic differentiation by hand.
//
// The claim: backpropagation is the chain rule applied node by node, and nothing more. We build an
// expression from scalar Values, print its graph and gradients, check them against finite
// differences, and then train a 2-layer network of Values to learn XOR — a function no linear model
// can represent — with plain gradient descent.
// Leaves out: tensors (Chapter 2) and anything about language models (Chapter 3 onwards).
import Foundation
import ScalarAutograd

/// Chapter 1 — a scalar autograd engine at work.
public enum Chapter01Autograd {
    /// The experiment's knobs.
    public struct Config: Sendable {
        /// Hidden units of the XOR network.
        public var hidden: Int
        /// Full-batch gradient-descent steps.
        public var steps: Int
        public var learningRate: Double
        public var seed: UInt64

        /// The chapter as printed in the book.
        public static let standard = Config(hidden: 8, steps: 400, learningRate: 0.1, seed: 3)
        /// A fast version for the smoke test.
        public static let tiny = Config(hidden: 4, steps: 300, learningRate: 0.15, seed: 3)
    }

    /// The chapter's numbers.
    public struct Report: Sendable {
        /// Largest |autodiff − central difference| over the example expression's inputs.
        public var gradientCheckError: Double
        /// Mean squared error on the four XOR points before and after training.
        public var initialLoss: Double, finalLoss: Double
        /// The trained network's outputs for (0,0), (0,1), (1,0), (1,1).
        public var predictions: [Double]
    }

    /// Runs the chapter, printing through `output`.
    @discardableResult
    public static func run(_ config: Config, output: (String) -> Void = { print($0) }) -> Report {
        output("Chapter 1 — Automatic differentiation by hand\n")

        // 1. One expression, its graph and its gradients.
        func expression(_ v: [Value]) -> Value { (v[0] * v[1] + v[2].tanh()) * v[0] - v[1].exp() * 0.5 }
        let point = [1.5, -0.5, 0.8]
        let inputs = zip(point, ["a", "b", "c"]).map { Value($0, label: $1) }
        let result = expression(inputs)
        result.backward()
        output("L = (a·b + tanh c)·a − ½·eᵇ at a = 1.5, b = −0.5, c = 0.8")
        output("The graph, in the order backward visits it (output first):")
        for node in result.topologicalOrder().reversed() where !node.op.isEmpty {
            output("  \(node.op.padding(toLength: 5, withPad: " ", startingAt: 0)) value \(format(node.data))  ∂L/∂node \(format(node.grad))")
        }
        let numeric = NumericalGradient.centralDifference({ expression($0.map { Value($0) }).data }, at: point)
        output("\nGradient check (autodiff vs central differences, h = 1e-6):")
        var worst = 0.0
        for (input, estimate) in zip(inputs, numeric) {
            worst = max(worst, abs(input.grad - estimate))
            output("  ∂L/∂\(input.label) = \(format(input.grad))   numeric \(format(estimate))")
        }
        output("  largest difference: \(String(format: "%.2e", worst))\n")

        // 2. XOR with a 2-layer network of Values.
        let points: [([Double], Double)] = [([0, 0], -1), ([0, 1], 1), ([1, 0], 1), ([1, 1], -1)]
        let network = ScalarMLP(sizes: [2, config.hidden, 1], seed: config.seed)
        func loss() -> Value {
            let errors = points.map { x, y in (network(x)[0] - y).pow(2) }
            return errors.dropFirst().reduce(errors[0], +) * 0.25
        }
        let initial = loss().data
        output("XOR with a 2-\(config.hidden)-1 tanh network (\(network.parameters.count) parameters), gradient descent:")
        for step in 1...config.steps {
            let l = loss()
            for p in network.parameters { p.grad = 0 }
            l.backward()
            for p in network.parameters { p.data -= config.learningRate * p.grad }
            if step == 1 || step % max(config.steps / 5, 1) == 0 { output("  step \(step): loss \(format(l.data))") }
        }
        let final = loss().data
        let predictions = points.map { network($0.0)[0].data }
        output("\nPredictions (target −1 for equal inputs, +1 for different):")
        for ((x, y), p) in zip(points, predictions) {
            output("  \(Int(x[0])) xor \(Int(x[1])) → \(format(p))   target \(Int(y))")
        }
        output("\nEvery number above came from one rule: each node adds (local derivative × its gradient) to its inputs.")
        return Report(gradientCheckError: worst, initialLoss: initial, finalLoss: final, predictions: predictions)
    }

    static func format(_ x: Double) -> String { String(format: "%+.6f", x) }
}
