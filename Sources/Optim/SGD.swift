// SGD.swift — stochastic gradient descent, with optional momentum.
//
// Teaches: the simplest update, θ ← θ − η·g, and momentum, v ← μ·v + g; θ ← θ − η·v, which costs
// one state value per parameter.
// Leaves out: Nesterov momentum, dampening.
import Autodiff

/// Plain SGD (momentum 0) or SGD with heavy-ball momentum.
public final class SGD: Optimizer {
    public let parameters: [(name: String, tensor: Tensor)]
    /// μ; 0 disables the velocity buffers entirely.
    public let momentum: Float
    /// Decoupled weight decay λ: θ ← θ − η·λ·θ.
    public let weightDecay: Float
    public private(set) var stepCount = 0
    private let velocity: [Tensor]

    /// SGD over the *trainable* parameters of `parameters`.
    public init(_ parameters: [(name: String, tensor: Tensor)], momentum: Float = 0, weightDecay: Float = 0) {
        self.parameters = parameters.filter { $0.tensor.requiresGrad }
        self.momentum = momentum
        self.weightDecay = weightDecay
        velocity = momentum == 0 ? [] : makeState(like: self.parameters)
    }

    public var stateValuesPerParameter: Int { momentum == 0 ? 0 : 1 }

    public func step(learningRate: Float) {
        stepCount += 1
        for (index, (_, p)) in parameters.enumerated() {
            guard let grad = p.grad else { continue }
            let (theta, g) = (p.data, grad.data)
            if momentum == 0 {
                for i in 0..<p.count { theta[i] -= learningRate * (g[i] + weightDecay * theta[i]) }
            } else {
                let v = velocity[index].data
                for i in 0..<p.count {
                    v[i] = momentum * v[i] + g[i]
                    theta[i] -= learningRate * (v[i] + weightDecay * theta[i])
                }
            }
        }
    }

    public func stateTensors() -> [(name: String, tensor: Tensor)] {
        zip(parameters, velocity).map { ($0.0.name + ".momentum", $0.1) }
    }

    public func loadState(_ tensors: [String: [Float]], stepCount: Int) throws {
        try OptimizerStateError.checkStepCount(stepCount)
        try restore(momentum == 0 ? [] : [("momentum", velocity)], parameters: parameters, from: tensors)
        self.stepCount = stepCount
    }
}
