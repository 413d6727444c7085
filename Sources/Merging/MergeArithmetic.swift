// MergeArithmetic.swift — where the workbook plugs into merging: TIES's sign election, LoRA concatenation.
//
// Teaches: an injection point (the same pattern as PEFT's LoRAArithmetic). `MergeMath.disjointMean` —
// the sign election and disjoint mean at the heart of TIES — and the concatenation of LoRA adapters
// in `AdapterMerge.combine` can run a caller's functions instead of the library's, typically the
// learner's solutions of tasks 13.2 and 14.1 (see the WorkbookBridge module). The choice is a
// @TaskLocal value: it applies only inside `MergeArithmetic.$current.withValue(…)`.
// Leaves out: substituting the trim, DARE or SVD steps.

/// The arithmetic merges use; every field nil means the library's own code.
public struct MergeArithmetic: Sendable {
    /// Per position: elect the sign of Σᵢ xᵢ and average the nonzero entries that agree (0 when the sum
    /// is 0). All vectors have the same length; the result has that length too.
    public typealias SignElection = @Sendable (_ vectors: [[Float]]) -> [Float]
    /// Stacks adapters (A [rᵢ, in], B [out, rᵢ], scaling sᵢ) with weights wᵢ into A [Σrᵢ, in] and
    /// B [out, Σrᵢ] whose block i of columns is wᵢ·sᵢ·Bᵢ, so that B·A = Σ wᵢsᵢBᵢAᵢ.
    public typealias Concatenation = @Sendable (_ adapters: [(a: [Float], b: [Float], rank: Int, scaling: Float)], _ weights: [Float],
                                                _ inFeatures: Int, _ outFeatures: Int) -> (a: [Float], b: [Float])

    /// TIES's sign election and disjoint mean (nil: `MergeMath`'s).
    public var signElection: SignElection?
    /// LoRA concatenation (nil: `AdapterMerge`'s).
    public var concatenation: Concatenation?

    /// A substitution; nil fields keep the library's implementation.
    public init(signElection: SignElection? = nil, concatenation: Concatenation? = nil) {
        self.signElection = signElection
        self.concatenation = concatenation
    }

    /// The library's own code.
    public static let library = MergeArithmetic()

    /// The arithmetic in effect for the current task (the library's unless a caller scoped another).
    @TaskLocal public static var current = MergeArithmetic.library
}
