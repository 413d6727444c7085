// Module.swift — a tree of layers with named parameters, each trainable or frozen.
//
// Teaches: what "the parameters of a model" are in practice: tensors found by walking a tree of
// modules, named by their path (`h.0.attn.c_attn.weight`). Fine-tuning methods differ mostly in
// which of these tensors are trainable — full fine-tuning unfreezes all, partial fine-tuning some,
// PEFT freezes them all and adds new small ones. A frozen tensor (`requiresGrad == false`) gets no
// gradient buffer and no optimizer state, which is where the memory saving comes from.
// Leaves out: buffers that are not parameters (masks are built on the fly), hooks, devices.
import Kernels
import Autodiff

/// A node in the model tree: its own parameters plus named children.
public protocol Module: AnyObject {
    /// This module's own parameters, with local names ("weight", "bias").
    var localParameters: [(name: String, tensor: Tensor)] { get }
    /// Direct sub-modules, with local names ("attn", "0", …).
    var children: [(name: String, module: any Module)] { get }
}

extension Module {
    /// Every parameter in the tree with its dotted path, in a deterministic depth-first order.
    public func namedParameters(prefix: String = "") -> [(name: String, tensor: Tensor)] {
        var result = localParameters.map { (name: prefix + $0.name, tensor: $0.tensor) }
        for child in children {
            result += child.module.namedParameters(prefix: prefix + child.name + ".")
        }
        return result
    }

    /// Every module in the tree (self first, with path "") with its dotted path.
    public func namedModules(prefix: String = "") -> [(name: String, module: any Module)] {
        var result: [(name: String, module: any Module)] = [(prefix.isEmpty ? "" : String(prefix.dropLast()), self)]
        for child in children {
            result += child.module.namedModules(prefix: prefix + child.name + ".")
        }
        return result
    }

    /// The parameters only.
    public var parameters: [Tensor] { namedParameters().map(\.tensor) }

    /// The parameters that will receive gradients.
    public var trainableParameters: [Tensor] { parameters.filter(\.requiresGrad) }

    /// Number of scalars in all parameters (`trainableOnly`: only those that require gradients).
    public func parameterCount(trainableOnly: Bool = false) -> Int {
        parameters.filter { !trainableOnly || $0.requiresGrad }.map(\.count).reduce(0, +)
    }

    /// Freezes (or unfreezes) every parameter.
    public func setTrainable(_ trainable: Bool) {
        for p in parameters { p.requiresGrad = trainable }
    }

    /// Sets `requiresGrad` on the parameters whose path satisfies `predicate`; returns how many matched.
    @discardableResult
    public func setTrainable(_ trainable: Bool, where predicate: (String) -> Bool) -> Int {
        var matched = 0
        for (name, tensor) in namedParameters() where predicate(name) {
            tensor.requiresGrad = trainable
            matched += 1
        }
        return matched
    }

    /// Clears every parameter's gradient.
    public func zeroGrad() {
        for p in parameters { p.zeroGrad() }
    }

    /// Looks up a parameter by its full path.
    public func parameter(named name: String) -> Tensor? {
        namedParameters().first { $0.name == name }?.tensor
    }
}

/// Makes a parameter tensor: a leaf counted as `weights` by the memory meter, trainable by default.
public func makeParameter(_ tensor: Tensor, trainable: Bool = true) -> Tensor {
    tensor.storage.role = .weights
    tensor.requiresGrad = trainable
    return tensor
}
