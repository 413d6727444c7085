// Optimizer.swift — the update rule, and the state it keeps per parameter.
//
// Teaches: why optimizers cost memory. SGD keeps nothing; momentum keeps one value per parameter;
// Adam keeps two (first and second moment). For a model with N trainable parameters in fp32, AdamW
// therefore adds 8N bytes — twice the weights — which is the largest term in the training-memory
// equation and the one PEFT shrinks by shrinking N.
// Leaves out: per-parameter-group hyperparameters (one learning rate and decay for all).
import Autodiff

/// Updates parameters in place from their gradients.
public protocol Optimizer: AnyObject {
    /// The parameters being trained, with names (used to save and restore state).
    var parameters: [(name: String, tensor: Tensor)] { get }
    /// Number of optimizer-state values kept per parameter (SGD 0, momentum 1, Adam 2).
    var stateValuesPerParameter: Int { get }
    /// Steps taken so far.
    var stepCount: Int { get }
    /// Applies one update with learning rate `learningRate` and increments `stepCount`.
    func step(learningRate: Float)
    /// The state tensors by "<parameter name>.<slot>" (e.g. "h.0.attn.c_attn.weight.exp_avg").
    func stateTensors() -> [(name: String, tensor: Tensor)]
    /// Restores state saved by `stateTensors()` and the step count; throws naming a missing, mis-shaped
    /// or out-of-range entry, and then leaves the optimizer exactly as it was.
    func loadState(_ tensors: [String: [Float]], stepCount: Int) throws
}

/// A problem restoring optimizer state.
public struct OptimizerStateError: Error, CustomStringConvertible {
    /// What went wrong, naming the state entry.
    public let description: String

    /// An error with the given message (for optimizers defined in other modules).
    public init(description: String) { self.description = description }
}

extension Optimizer {
    /// Clears the gradients of every trained parameter.
    public func zeroGrad() { for (_, p) in parameters { p.zeroGrad() } }

    /// Bytes of optimizer state (what the memory meter should see under `optimizerState`).
    public var stateBytes: Int { stateTensors().map(\.tensor.byteCount).reduce(0, +) }
}

/// Builds one zeroed state tensor per parameter under the `optimizerState` memory role.
func makeState(like parameters: [(name: String, tensor: Tensor)]) -> [Tensor] {
    parameters.map { Tensor(zeros: $0.tensor.shape, role: .optimizerState) }
}

/// Copies saved values into state tensors, checking names, sizes and values first: a throwing call
/// leaves every state tensor as it was. Values must be finite; slots named in `nonNegative` (a second
/// moment is a running mean of squares) must also be ≥ 0 — a negative one makes √v NaN on the next step.
func restore(_ slots: [(suffix: String, tensors: [Tensor])], parameters: [(name: String, tensor: Tensor)],
             from saved: [String: [Float]], nonNegative: Set<String> = []) throws {
    // 1. Check everything.
    var copies: [(values: [Float], state: Tensor)] = []
    for (suffix, tensors) in slots {
        for (parameter, state) in zip(parameters, tensors) {
            let key = parameter.name + "." + suffix
            guard let values = saved[key] else { throw OptimizerStateError(description: "optimizer state: missing \(key)") }
            guard values.count == state.count else {
                throw OptimizerStateError(description: "optimizer state: \(key) has \(values.count) values, expected \(state.count)")
            }
            if let bad = values.firstIndex(where: { !$0.isFinite || (nonNegative.contains(suffix) && $0 < 0) }) {
                throw OptimizerStateError(description: "optimizer state: \(key) holds \(values[bad]) at element \(bad)"
                                          + (nonNegative.contains(suffix) ? " (must be finite and ≥ 0)" : " (must be finite)"))
            }
            copies.append((values, state))
        }
    }
    // 2. Apply (nothing below can fail).
    for (values, state) in copies {
        values.withUnsafeBufferPointer { state.data.update(from: $0.baseAddress!, count: values.count) }
    }
}

extension OptimizerStateError {
    /// Throws unless `stepCount` is a possible step counter (0 ≤ n < 2⁴⁰: bias corrections use β^n,
    /// and a counter near `Int.max` would overflow on the next step).
    public static func checkStepCount(_ stepCount: Int) throws {
        guard (0..<(1 << 40)).contains(stepCount) else {
            throw OptimizerStateError(description: "optimizer state: step count \(stepCount) is not in 0..<2⁴⁰")
        }
    }
}
