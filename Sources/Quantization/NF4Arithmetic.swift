// NF4Arithmetic.swift — where the workbook plugs into NF4: the per-block quantizer.
//
// Teaches: an injection point (the pattern of PEFT's LoRAArithmetic). `NF4Weight` quantizes a matrix
// block by block — absmax, nearest of the 16 levels, two codes per byte; a caller may substitute its
// own block quantizer, typically the learner's solution of task 12.1 (see the WorkbookBridge module),
// so that QLoRA then trains on a base quantized by the learner's code. The choice is a @TaskLocal
// value: it applies only inside `NF4Arithmetic.$current.withValue(…)`.
// Leaves out: substituting double quantization or the dequantizing GEMM.

/// The arithmetic NF4 quantization uses; nil means the library's own.
public struct NF4Arithmetic: Sendable {
    /// One block of values → its codes packed two per byte (first code in the high nibble; an odd count
    /// leaves the last low nibble 0) and the block's absmax.
    public typealias BlockQuantizer = @Sendable (_ values: [Float]) throws -> (packed: [UInt8], absmax: Float)

    /// The block quantizer (nil: the library's).
    public var quantizeBlock: BlockQuantizer?

    /// A substitution; nil keeps the library's implementation.
    public init(quantizeBlock: BlockQuantizer? = nil) { self.quantizeBlock = quantizeBlock }

    /// The library's own code.
    public static let library = NF4Arithmetic()

    /// The arithmetic in effect for the current task (the library's unless a caller scoped another).
    @TaskLocal public static var current = NF4Arithmetic.library
}
