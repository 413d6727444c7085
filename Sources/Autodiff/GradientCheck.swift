// GradientCheck.swift — testing backward against the definition of a derivative.
//
// Teaches: the gradient check. For a function f of tensors, project the output onto a fixed random
// direction R to get a scalar L = Σ f(x)⊙R (a random R catches errors a plain sum would hide), then
// compare ∂L/∂x from backward with the fourth-order central difference
//     (−L(x+2h) + 8L(x+h) − 8L(x−h) + L(x−2h)) / 12h,
// whose truncation error is O(h⁴). L is accumulated in Double. Float32 forward passes carry
// relative rounding noise ≈ 1e-7·|L|/h, so h = 1e-2 (inputs of order 1) balances the two errors:
// expect agreement to ~1e-3 relative. Where an op needs tighter checks, compare against a Double
// implementation (ScalarAutograd) instead.
// Leaves out: complex-step derivatives, second derivatives.
import Kernels

/// The outcome of a gradient check: the worst disagreement found.
public struct GradientCheckResult: Sendable, CustomStringConvertible {
    /// max over checked elements of |analytic − numeric| / (atol + rtol·|numeric|); ≤ 1 passes.
    public var worstRatio: Double
    /// The largest absolute difference seen.
    public var maxAbsoluteError: Double
    /// Where the worst ratio occurred: (input index, flat element index, analytic, numeric).
    public var worst: (input: Int, element: Int, analytic: Double, numeric: Double)?
    /// Elements compared.
    public var checked: Int
    /// Whether every element was within tolerance.
    public var passed: Bool { worstRatio <= 1 }

    public var description: String {
        let location = worst.map { "input \($0.input)[\($0.element)]: analytic \($0.analytic), numeric \($0.numeric)" } ?? "-"
        return "gradient check \(passed ? "passed" : "FAILED"): worst ratio \(worstRatio), max |Δ| \(maxAbsoluteError) at \(location)"
    }
}

/// Central-difference gradient checking (caseless namespace).
public enum GradientCheck {
    /// Compares backward's gradient of `function` with finite differences at `inputs`.
    ///
    /// - Parameters:
    ///   - inputs: leaves; those with `requiresGrad` are checked (all their elements).
    ///   - step: h, the finite-difference step.
    ///   - absoluteTolerance, relativeTolerance: an element passes when
    ///     |analytic − numeric| ≤ atol + rtol·|numeric|.
    ///   - seed: seeds the random projection R.
    public static func check(_ inputs: [Tensor], step: Float = 1e-2, absoluteTolerance: Double = 1e-3,
                             relativeTolerance: Double = 1e-2, seed: UInt64 = 1,
                             _ function: ([Tensor]) -> Tensor) -> GradientCheckResult {
        // 1. Fix the projection direction from one forward pass.
        let probe = Tensor.withNoGrad { function(inputs) }
        var rng = RNG(seed: seed)
        let direction = (0..<probe.count).map { _ in Double(rng.uniform(-1, 1)) }
        func projected() -> Double {
            let out = Tensor.withNoGrad { function(inputs) }
            var total = 0.0
            for i in 0..<out.count { total += Double(out.data[i]) * direction[i] }
            return total
        }
        // 2. Analytic gradient: backward of f with upstream gradient R.
        for x in inputs { x.zeroGrad() }
        let output = function(inputs)
        let seedGradient = Tensor(direction.map(Float.init), shape: output.shape)
        output.backward(gradient: seedGradient)
        // 3. Numeric gradient element by element.
        var result = GradientCheckResult(worstRatio: 0, maxAbsoluteError: 0, worst: nil, checked: 0)
        for (index, x) in inputs.enumerated() where x.requiresGrad {
            let analytic = x.grad?.values ?? [Float](repeating: 0, count: x.count)
            for element in 0..<x.count {
                let original = x.data[element]
                func value(at offset: Float) -> Double {
                    x.data[element] = original + offset
                    defer { x.data[element] = original }
                    return projected()
                }
                let numeric = (-value(at: 2 * step) + 8 * value(at: step) - 8 * value(at: -step) + value(at: -2 * step))
                    / (12 * Double(step))
                let difference = abs(Double(analytic[element]) - numeric)
                let ratio = difference / (absoluteTolerance + relativeTolerance * abs(numeric))
                result.checked += 1
                result.maxAbsoluteError = max(result.maxAbsoluteError, difference)
                if ratio > result.worstRatio || result.worst == nil {
                    result.worstRatio = max(ratio, result.worstRatio)
                    result.worst = (index, element, Double(analytic[element]), numeric)
                }
            }
        }
        return result
    }
}
