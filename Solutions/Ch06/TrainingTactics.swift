// TrainingTactics.swift — Chapter 6 exercises: gradient accumulation and the cosine schedule (solved).
import ExerciseKit
import Foundation

/// Task 6.1 — combine micro-batch gradients into the large-batch gradient.
///
/// Each micro-batch gradient is the *mean* over its tokens; `tokenCounts[i]` is how many tokens
/// micro-batch i had. Return the gradient of the mean loss over all tokens of all micro-batches.
public func accumulatedGradient(_ gradients: [[Float]], tokenCounts: [Float]) throws -> [Float] {
    // mean over all tokens = Σᵢ (nᵢ · meanᵢ) / Σᵢ nᵢ. A plain average of the means would overweight
    // small micro-batches — which is why the Trainer normalises every micro-batch by the step's total.
    let total = tokenCounts.reduce(0, +)
    var result = [Float](repeating: 0, count: gradients.first?.count ?? 0)
    for (gradient, count) in zip(gradients, tokenCounts) {
        for j in result.indices { result[j] += gradient[j] * count / total }
    }
    return result
}

/// Task 6.2 — warmup then cosine decay.
///
/// For 1-based `step`: during the first `warmup` steps rise linearly to `peak` (peak·step/warmup);
/// afterwards decay from `peak` to `minimum` along half a cosine over the remaining `total − warmup`
/// steps: minimum + (peak − minimum)·½·(1 + cos(π·progress)), progress = (step − warmup)/(total − warmup).
public func cosineLearningRate(step: Int, peak: Float, warmup: Int, total: Int, minimum: Float) throws -> Float {
    if step <= warmup { return peak * Float(step) / Float(max(warmup, 1)) }
    let progress = min(Float(step - warmup) / Float(max(total - warmup, 1)), 1)
    return minimum + (peak - minimum) * 0.5 * (1 + cos(Float.pi * progress))
}
