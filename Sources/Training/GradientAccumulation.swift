// GradientAccumulation.swift — where the workbook plugs into the trainer: combining micro-batch gradients.
//
// Teaches: an injection point (the pattern of PEFT's LoRAArithmetic). The trainer normally gets the
// large-batch gradient for free: each micro-batch's loss is divided by the whole step's weight, so the
// summed backward passes *are* the combined gradient. With a substitute set, the trainer instead
// keeps each micro-batch's own mean gradient and asks the substitute to combine them — typically the
// learner's solution of task 6.1 (see the WorkbookBridge module), so a wrong combination (say a plain
// average of the means) visibly changes training. The choice is a @TaskLocal value: it applies only
// inside `GradientAccumulation.$current.withValue(…)`.
// Leaves out: substituting clipping or the optimizer step.

/// How the trainer combines micro-batch gradients; nil means the library's normalised summation.
public struct GradientAccumulation: Sendable {
    /// Micro-batch mean gradients of one parameter (each flattened, equal lengths) and each micro-batch's
    /// token weight → the gradient of the mean loss over all tokens of the step.
    public typealias Combine = @Sendable (_ gradients: [[Float]], _ tokenWeights: [Float]) -> [Float]

    /// The combination (nil: the library's).
    public var combine: Combine?

    /// A substitution; nil keeps the library's implementation.
    public init(combine: Combine? = nil) { self.combine = combine }

    /// The library's own code.
    public static let library = GradientAccumulation()

    /// The combination in effect for the current task (the library's unless a caller scoped another).
    @TaskLocal public static var current = GradientAccumulation.library
}
