// TrainingTactics.swift — Chapter 6 exercises: gradient accumulation and the cosine schedule.
import ExerciseKit

/// Task 6.1 — combine micro-batch gradients into the large-batch gradient.
///
/// Each micro-batch gradient is the *mean* over its tokens; `tokenCounts[i]` is how many tokens
/// micro-batch i had. Return the gradient of the mean loss over all tokens of all micro-batches.
public func accumulatedGradient(_ gradients: [[Float]], tokenCounts: [Float]) throws -> [Float] {
    // TODO: a token-weighted average of the micro-batch gradients.
    try todo("6.1")
}

/// Task 6.2 — warmup then cosine decay.
///
/// For 1-based `step`: during the first `warmup` steps rise linearly to `peak` (peak·step/warmup);
/// afterwards decay from `peak` to `minimum` along half a cosine over the remaining `total − warmup`
/// steps: minimum + (peak − minimum)·½·(1 + cos(π·progress)), progress = (step − warmup)/(total − warmup).
public func cosineLearningRate(step: Int, peak: Float, warmup: Int, total: Int, minimum: Float) throws -> Float {
    // TODO: two phases.
    try todo("6.2")
}
