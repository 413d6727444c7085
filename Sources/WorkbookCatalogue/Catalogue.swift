// Catalogue.swift — every exercise, where it lives, and a probe that calls its stub once.
//
// Teaches: nothing new — it is the table of contents of the workbook. A probe calls the exercise with
// a trivial input: while the stub still throws `Unimplemented` the task is pending.
import ExerciseKit
import Workbook

/// The list of all exercises (caseless namespace).
public enum Catalogue {
    public static let exercises: [Exercise] = [
        Exercise(id: "1.1", title: "tanh's local backward", file: "Exercises/Ch01/LocalGradients.swift") {
            _ = try tanhBackward(x: 0, outputGradient: 1) },
        Exercise(id: "1.2", title: "central-difference gradient", file: "Exercises/Ch01/LocalGradients.swift") {
            _ = try centralDifferenceGradient({ $0[0] }, at: [0], step: 1e-3) },
        Exercise(id: "1.3", title: "topological order for backward", file: "Exercises/Ch01/LocalGradients.swift") {
            _ = try topologicalOrder(inputs: [:], output: 0) },
        Exercise(id: "2.1", title: "broadcast shape", file: "Exercises/Ch02/Broadcasting.swift") {
            _ = try broadcastShape([1], [1]) },
        Exercise(id: "2.2", title: "unbroadcast a gradient", file: "Exercises/Ch02/Broadcasting.swift") {
            _ = try unbroadcast([1], from: [1], to: [1]) },
        Exercise(id: "2.3", title: "tiled matrix multiply", file: "Exercises/Ch02/Broadcasting.swift") {
            _ = try tiledMatmul([1], [1], m: 1, n: 1, k: 1, tile: 1) },
        Exercise(id: "3.1", title: "causal mask", file: "Exercises/Ch03/LanguageModelling.swift") {
            _ = try causalMask(steps: 1) },
        Exercise(id: "3.2", title: "next-token pairs", file: "Exercises/Ch03/LanguageModelling.swift") {
            _ = try nextTokenPairs([1, 2]) },
        Exercise(id: "4.1", title: "serving memory", file: "Exercises/Ch04/MemoryMath.swift") {
            _ = try inferenceBytes(parameters: 1, bytesPerParameter: 1) },
        Exercise(id: "4.2", title: "training memory with Adam", file: "Exercises/Ch04/MemoryMath.swift") {
            _ = try adamTrainingBytes(parameters: 1, trainable: 1, bytesPerValue: 1) },
        Exercise(id: "5.1", title: "response loss weights", file: "Exercises/Ch05/FineTuningRules.swift") {
            _ = try responseWeights(promptLength: 1, responseLength: 1, promptLossWeight: 0) },
        Exercise(id: "5.2", title: "the partial-freeze rule", file: "Exercises/Ch05/FineTuningRules.swift") {
            _ = try isTrainable(parameter: "h.0.ln_1.weight", layers: 1, trainLast: 1) },
        Exercise(id: "6.1", title: "gradient accumulation", file: "Exercises/Ch06/TrainingTactics.swift") {
            _ = try accumulatedGradient([[1]], tokenCounts: [1]) },
        Exercise(id: "6.2", title: "warmup + cosine schedule", file: "Exercises/Ch06/TrainingTactics.swift") {
            _ = try cosineLearningRate(step: 1, peak: 1, warmup: 1, total: 2, minimum: 0) },
        Exercise(id: "7.1", title: "IA3's rescaling of keys and values", file: "Exercises/Ch07/PEFTByHand.swift") {
            _ = try ia3Attention(x: [1], w: [1, 1, 1], bias: [0, 0, 0], scales: [1, 1], inFeatures: 1, width: 1) },
        Exercise(id: "8.1", title: "the LoRA forward pass", file: "Exercises/Ch08/LoRAByHand.swift") {
            _ = try loraForward(x: [1], w: [1], a: [1], b: [1], inFeatures: 1, outFeatures: 1, rank: 1, scaling: 1) },
        Exercise(id: "8.2", title: "LoRA's parameter count", file: "Exercises/Ch08/LoRAByHand.swift") {
            _ = try loraParameterCount(layers: [(1, 1)], rank: 1) },
        Exercise(id: "8.3", title: "merging an adapter", file: "Exercises/Ch08/LoRAByHand.swift") {
            _ = try mergedWeight(w: [1], a: [1], b: [1], inFeatures: 1, outFeatures: 1, rank: 1, scaling: 1) },
        Exercise(id: "8.4", title: "a mixed-adapter batch", file: "Exercises/Ch08/LoRAByHand.swift") {
            _ = try mixedBatch(x: [1], w: [1], adapters: [], choices: [nil], inFeatures: 1, outFeatures: 1, rank: 1) },
        Exercise(id: "9.1", title: "segments of a mixed-adapter batch", file: "Exercises/Ch09/ServingByHand.swift") {
            _ = try adapterSegments([nil]) },
        Exercise(id: "10.1", title: "bf16 rounding", file: "Exercises/Ch10/FormatsByHand.swift") {
            _ = try bf16Round(1) },
        Exercise(id: "10.2", title: "absmax int8 quantize/dequantize", file: "Exercises/Ch10/FormatsByHand.swift") {
            _ = try absmaxQuantize([1], bits: 8)
            _ = try absmaxDequantize([1], scale: 1) },
        Exercise(id: "11.1", title: "the straight-through estimator", file: "Exercises/Ch11/QuantizationByHand.swift") {
            _ = try straightThroughGradient(x: [1], scale: 1, qmin: -1, qmax: 1, upstream: [1]) },
        Exercise(id: "12.1", title: "NF4 block quantization and packing", file: "Exercises/Ch11/QuantizationByHand.swift") {
            _ = try nf4QuantizeBlock([1, -1]) },
        Exercise(id: "13.1", title: "SLERP", file: "Exercises/Ch13/MergingByHand.swift") {
            _ = try slerp([1, 0], [0, 1], t: 0.5) },
        Exercise(id: "13.2", title: "TIES sign election", file: "Exercises/Ch13/MergingByHand.swift") {
            _ = try electAndAverage([[1]]) },
        Exercise(id: "13.3", title: "DARE's rescale", file: "Exercises/Ch13/MergingByHand.swift") {
            _ = try dareRescale([1], keep: [true], dropProbability: 0.5) },
        Exercise(id: "13.4", title: "task-vector negation", file: "Exercises/Ch13/MergingByHand.swift") {
            _ = try subtractTask(other: [1], tuned: [1], base: [1], lambda: 1) },
        Exercise(id: "14.1", title: "LoRA concatenation", file: "Exercises/Ch14/CombiningByHand.swift") {
            _ = try concatenateAdapters([([1], [1], 1, 1)], weights: [1], inFeatures: 1, outFeatures: 1) },
    ]

    /// Whether the learner has attempted task `id` (its stub no longer throws `Unimplemented`).
    public static func isImplemented(_ id: String) -> Bool {
        exercises.first { $0.id == id }?.status == .attempted
    }

    /// Whether this build compiled the solutions (`SOLUTIONS=1`).
    public static var isSolutionsBuild: Bool { Workbook.isSolutions }
}
