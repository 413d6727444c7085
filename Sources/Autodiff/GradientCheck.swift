// GradientCheck.swift — testing backward against the definition of a derivative, in two precisions.
//
// Teaches: the gradient check. For a function f of tensors, project the output onto a fixed random
// direction R to get a scalar L = Σ f(x)⊙R (a random R catches errors a plain sum would hide), then
// compare ∂L/∂x from backward with the fourth-order central difference
//     (−L(x+2h) + 8L(x+h) − 8L(x−h) + L(x−2h)) / 12h,
// whose truncation error is O(h⁴). Two versions:
// - `check(_:_:)`, the Float32 check: L is the op's own Float32 forward, accumulated in Double. Float32
//   forward passes carry relative rounding noise ≈ 1e-7·|L|/h, so h = 1e-2 (inputs of order 1) balances
//   the two errors and the check holds to ~1e-3 relative, with a 1e-2 tolerance. It needs nothing but
//   the op, so it runs on any composite (a whole block, a model's loss) — but a gradient that is wrong
//   by less than ~1% (a scale of 1.005, a missing small term) passes it.
// - `check(_:reference:_:)`, the Double check: L is computed by a Double twin of the forward (an
//   independent reference implementation taking the same inputs as [[Double]]). Double rounding noise is
//   ≈ 1e-16·|L|/h, so h = 1e-4 gives a numeric gradient good to ~1e-10, and the comparison is limited
//   only by the Float32 backward's own rounding (~1e-6): the tolerance drops to 1e-4 relative, and a
//   0.5% error fails it by a factor of ~50. The twin's forward must agree with the op's forward (the op
//   catalogue tests that separately, to 1e-5) — otherwise this checks the gradient of another function.
//   ScalarAutograd is the Double oracle for chapter 1's scalar graphs; for tensor ops the twin is the
//   op's Double reference (Tests/AutodiffTests/OpCatalogue+Cases.swift), written without Tensor.
// Leaves out: complex-step derivatives, second derivatives, functions that are not smooth at the
// inputs (a staircase such as fake quantization has no useful Double derivative: its straight-through
// gradient is checked with the Float check on a grid much finer than h).
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
    /// The Float32 check: backward's gradient of `function` against finite differences of `function` itself.
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
        let (direction, analytic) = analyticGradients(inputs, seed: seed, function)
        // L(x) from a Float32 forward pass, projected in Double.
        func projected() -> Double {
            let out = Tensor.withNoGrad { function(inputs) }
            var total = 0.0
            for i in 0..<out.count { total += Double(out.data[i]) * direction[i] }
            return total
        }
        return compare(inputs, analytic, absoluteTolerance: absoluteTolerance, relativeTolerance: relativeTolerance) { index, element in
            let x = inputs[index]
            let original = x.data[element]
            return fourthOrderDifference(step: Double(step)) { offset in
                x.data[element] = original + Float(offset)
                defer { x.data[element] = original }
                return projected()
            }
        }
    }

    /// The Double check: backward's gradient of `function` (Float32) against finite differences of
    /// `reference`, a Double twin of `function` (flat input values in the order of `inputs` → flat output
    /// values in `function`'s row-major order).
    ///
    /// - Parameters:
    ///   - inputs: leaves; those with `requiresGrad` are checked (all their elements). Their Float values,
    ///     widened to Double, are the point at which both gradients are taken.
    ///   - step: h in Double (1e-4: truncation O(h⁴) ≈ 1e-16, rounding ≈ 1e-12).
    ///   - absoluteTolerance, relativeTolerance: as in the Float check, 100x tighter by default — the
    ///     remaining error is the Float32 backward's rounding.
    public static func check(_ inputs: [Tensor], reference: ([[Double]]) -> [Double], step: Double = 1e-4,
                             absoluteTolerance: Double = 1e-5, relativeTolerance: Double = 1e-4, seed: UInt64 = 1,
                             _ function: ([Tensor]) -> Tensor) -> GradientCheckResult {
        let (direction, analytic) = analyticGradients(inputs, seed: seed, function)
        var point = inputs.map { $0.values.map(Double.init) }
        func projected() -> Double {
            let out = reference(point)
            // A twin with the wrong output size cannot be compared: make every element fail loudly.
            guard out.count == direction.count else { return .nan }
            var total = 0.0
            for i in 0..<out.count { total += out[i] * direction[i] }
            return total
        }
        return compare(inputs, analytic, absoluteTolerance: absoluteTolerance, relativeTolerance: relativeTolerance) { index, element in
            let original = point[index][element]
            defer { point[index][element] = original }
            return fourthOrderDifference(step: step) { offset in
                point[index][element] = original + offset
                return projected()
            }
        }
    }

    /// (−L(+2h) + 8L(+h) − 8L(−h) + L(−2h)) / 12h, with `value(offset)` = L at the perturbed point.
    static func fourthOrderDifference(step h: Double, _ value: (Double) -> Double) -> Double {
        (-value(2 * h) + 8 * value(h) - 8 * value(-h) + value(-2 * h)) / (12 * h)
    }

    /// Fixes the projection R from one forward pass and runs backward with upstream gradient R.
    /// Returns R and each input's analytic gradient (zeros for inputs that got none).
    static func analyticGradients(_ inputs: [Tensor], seed: UInt64, _ function: ([Tensor]) -> Tensor)
        -> (direction: [Double], gradients: [[Float]]) {
        let probe = Tensor.withNoGrad { function(inputs) }
        var rng = RNG(seed: seed)
        let direction = (0..<probe.count).map { _ in Double(rng.uniform(-1, 1)) }
        for x in inputs { x.zeroGrad() }
        let output = function(inputs)
        output.backward(gradient: Tensor(direction.map(Float.init), shape: output.shape))
        return (direction, inputs.map { $0.grad?.values ?? [Float](repeating: 0, count: $0.count) })
    }

    /// Compares analytic gradients with `numeric(input, element)` over every element of every input
    /// that requires a gradient, keeping the worst ratio.
    static func compare(_ inputs: [Tensor], _ analytic: [[Float]], absoluteTolerance: Double, relativeTolerance: Double,
                        numeric: (Int, Int) -> Double) -> GradientCheckResult {
        var result = GradientCheckResult(worstRatio: 0, maxAbsoluteError: 0, worst: nil, checked: 0)
        for (index, x) in inputs.enumerated() where x.requiresGrad {
            for element in 0..<x.count {
                let estimate = numeric(index, element)
                let difference = abs(Double(analytic[index][element]) - estimate)
                // NaN (a broken twin or forward) must fail, not compare false and pass.
                let ratio = difference.isNaN ? .infinity : difference / (absoluteTolerance + relativeTolerance * abs(estimate))
                result.checked += 1
                result.maxAbsoluteError = max(result.maxAbsoluteError, difference.isNaN ? .infinity : difference)
                if ratio > result.worstRatio || result.worst == nil {
                    result.worstRatio = max(ratio, result.worstRatio)
                    result.worst = (index, element, Double(analytic[index][element]), estimate)
                }
            }
        }
        return result
    }
}
