// WorkbookBridge.swift — the learner's solutions, run by the library: `chapterNN --use-workbook`.
//
// Teaches: that the workbook's functions are the real thing. Six exercises compute something the
// library itself computes while it trains or merges:
//   6.1 combining micro-batch gradients (Trainer)      8.1 the LoRA forward pass (LoRA layers)
//   8.3 merging an adapter into its weight (LoRA)      12.1 NF4 block quantization (NF4Weight)
//   13.2 TIES's sign election (MergeMath)              14.1 LoRA concatenation (AdapterMerge)
// Each library module exposes its computation as an injection point — a small value of closures with
// the library's own code as default, scoped with @TaskLocal (LoRAArithmetic, MergeArithmetic,
// NF4Arithmetic, GradientAccumulation). This module fills them with the workbook's functions, so a
// chapter run with `--use-workbook` fine-tunes through the learner's code: a correct solution gives
// the same figures as the library (up to float rounding), a wrong one visibly breaks the run.
// Dependency direction: this module imports the workbook and the library; neither imports it, and
// the workbook imports no chapter. Only the chapters' thin executables import it.
// Leaves out: the exercises the library has no single function for (they stay test-only).
import Foundation
import ExerciseKit
import Workbook
import WorkbookCatalogue
import Training
import PEFT
import Quantization
import Merging

/// Running library code with the workbook's solutions plugged in (caseless namespace).
public enum WorkbookBridge {
    /// The tasks whose solutions the library can run.
    public static let pluggableTasks = ["6.1", "8.1", "8.3", "12.1", "13.2", "14.1"]

    /// The command-line flag that asks a chapter to use the workbook.
    public static let flag = "--use-workbook"

    /// Thrown when a task the run needs still throws `Unimplemented`.
    public struct MissingTasks: Error, CustomStringConvertible {
        /// The unimplemented tasks.
        public let exercises: [Exercise]
        public var description: String {
            "--use-workbook needs these workbook tasks, which are not implemented yet:\n" + exercises.map {
                "  Task \($0.id) — \($0.title), in \($0.file) (then: \($0.testCommand))"
            }.joined(separator: "\n")
        }
    }

    /// Runs `body` with the workbook's solutions of `tasks` (a subset of `pluggableTasks`) in place of the
    /// library's code. Throws `MissingTasks` before running anything when one of them is unimplemented.
    public static func withWorkbook<T>(tasks: [String], _ body: () throws -> T) throws -> T {
        let unknown = tasks.filter { !pluggableTasks.contains($0) }
        guard unknown.isEmpty else {
            throw CocoaError(.featureUnsupported, userInfo: [NSLocalizedDescriptionKey: "the library cannot run workbook task(s) \(unknown)"])
        }
        let missing = Catalogue.exercises.filter { tasks.contains($0.id) && $0.status == .pending }
        guard missing.isEmpty else { throw MissingTasks(exercises: missing) }
        let has = Set(tasks)
        var lora = LoRAArithmetic.library, merging = MergeArithmetic.library
        var nf4 = NF4Arithmetic.library, accumulation = GradientAccumulation.library
        if has.contains("8.1") { lora.forward = loraForwardFromWorkbook }
        if has.contains("8.3") { lora.merge = mergeFromWorkbook }
        if has.contains("13.2") { merging.signElection = electionFromWorkbook }
        if has.contains("14.1") { merging.concatenation = concatenationFromWorkbook }
        if has.contains("12.1") { nf4.quantizeBlock = quantizerFromWorkbook }
        if has.contains("6.1") { accumulation.combine = accumulationFromWorkbook }
        return try scoped(lora, merging, nf4, accumulation, body)
    }

    /// `body` with the four injection points set.
    static func scoped<T>(_ lora: LoRAArithmetic, _ merging: MergeArithmetic, _ nf4: NF4Arithmetic,
                          _ accumulation: GradientAccumulation, _ body: () throws -> T) throws -> T {
        try LoRAArithmetic.$current.withValue(lora) { () throws -> T in
            try MergeArithmetic.$current.withValue(merging) { () throws -> T in
                try NF4Arithmetic.$current.withValue(nf4) { () throws -> T in
                    try GradientAccumulation.$current.withValue(accumulation) { () throws -> T in try body() }
                }
            }
        }
    }

    /// A chapter's entry point: runs `body` plainly, or — when `arguments` contain `--use-workbook` — with
    /// the workbook's solutions of `tasks`, saying so first through `output`.
    public static func runChapter(arguments: [String] = CommandLine.arguments, tasks: [String],
                                  output: (String) -> Void = { print($0) }, _ body: () throws -> Void) throws {
        guard arguments.contains(flag) else { return try body() }
        try withWorkbook(tasks: tasks) {
            output("Using the workbook's solutions of tasks \(tasks.joined(separator: ", ")) inside the library "
                   + "(\(Workbook.isSolutions ? "Solutions/" : "Exercises/")).\n")
            try body()
        }
    }

    // MARK: - The workbook's functions in the library's shapes

    static let loraForwardFromWorkbook: LoRAArithmetic.RowForward = { x, w, a, b, inFeatures, outFeatures, rank, scaling in
        running("8.1") { try loraForward(x: x, w: w, a: a, b: b, inFeatures: inFeatures, outFeatures: outFeatures, rank: rank, scaling: scaling) }
    }
    static let mergeFromWorkbook: LoRAArithmetic.Merge = { w, a, b, inFeatures, outFeatures, rank, scaling in
        running("8.3") { try mergedWeight(w: w, a: a, b: b, inFeatures: inFeatures, outFeatures: outFeatures, rank: rank, scaling: scaling) }
    }
    static let electionFromWorkbook: MergeArithmetic.SignElection = { vectors in running("13.2") { try electAndAverage(vectors) } }
    static let concatenationFromWorkbook: MergeArithmetic.Concatenation = { adapters, weights, inFeatures, outFeatures in
        running("14.1") { try concatenateAdapters(adapters, weights: weights, inFeatures: inFeatures, outFeatures: outFeatures) }
    }
    static let quantizerFromWorkbook: NF4Arithmetic.BlockQuantizer = { values in try nf4QuantizeBlock(values) }
    static let accumulationFromWorkbook: GradientAccumulation.Combine = { gradients, weights in
        running("6.1") { try accumulatedGradient(gradients, tokenCounts: weights) }
    }

    /// Calls a workbook function from library code that cannot throw. Every task was probed before the
    /// run started, so an error here is a bug in the learner's code (not in any input data): stop with a
    /// message naming the task rather than continue with made-up values.
    static func running<T>(_ task: String, _ body: () throws -> T) -> T {
        do {
            return try body()
        } catch {
            fatalError("--use-workbook: Task \(task) threw \(error) while the library was running it")
        }
    }
}
