// GradientChecking.swift — gradient checks of whole modules: every parameter and every input.
//
// Teaches: a composite check is only as good as the point it is taken at. A freshly initialised model
// has weights of 0.02, LoRA's B and Houlsby's `up` start at 0, IA3's scales at 1: there most terms of the
// chain rule are zero or linear, and a wrong gradient of the terms behind them is invisible. So the
// checks first redraw every parameter at order-one scale (`randomize`), then compare backward with
// finite differences for the module's inputs and all of its trainable parameters (`check`), and the
// tests assert that the number of checked scalars is the module's whole trainable count — so no
// parameter can silently drop out of the check.
// Leaves out: the check itself (Autodiff/GradientCheck.swift) and Double twins (DoubleReference.swift).
import Kernels
import Autodiff
import NN

/// Gradient checks over a module's inputs and trainable parameters (caseless namespace).
public enum ModuleGradientCheck {
    /// Redraws every parameter of `module` (trainable or frozen) from N(0, std²), in
    /// `namedParameters` order from `seed`. Placeholders of packed weights (0 elements) stay empty.
    public static func randomize(_ module: any Module, std: Float = 0.3, seed: UInt64) {
        var rng = RNG(seed: seed)
        for (_, tensor) in module.namedParameters() {
            for i in 0..<tensor.count { tensor.data[i] = std * rng.normal() }
        }
    }

    /// The Float32 check of `forward` w.r.t. `inputs` followed by every trainable parameter of `module`.
    /// `forward` reads the inputs and parameters it closes over (the check perturbs them in place).
    public static func check(_ module: any Module, inputs: [Tensor], seed: UInt64 = 1,
                             _ forward: () -> Tensor) -> GradientCheckResult {
        GradientCheck.check(inputs + module.trainableParameters, seed: seed) { _ in forward() }
    }

    /// Scalars the check should compare: the inputs that require a gradient plus `module`'s trainable
    /// parameters. A test asserts `result.checked` equals this.
    public static func scalarCount(_ module: any Module, inputs: [Tensor]) -> Int {
        inputs.filter(\.requiresGrad).map(\.count).reduce(0, +) + module.parameterCount(trainableOnly: true)
    }
}
