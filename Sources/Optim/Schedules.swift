// Schedules.swift — learning-rate schedules and gradient clipping.
//
// Teaches: warmup (small steps while Adam's moment estimates are still noisy), cosine or linear
// decay towards a floor, and clipping the global gradient norm so one bad batch cannot blow up a
// fine-tune.
// Leaves out: cyclic schedules, per-parameter clipping.
import Foundation
import Autodiff

/// A learning rate as a function of the step (1-based: the first update is step 1).
public struct LearningRateSchedule: Codable, Sendable, Equatable {
    /// The shape of the decay after warmup.
    public enum Decay: String, Codable, Sendable { case constant, linear, cosine }
    /// Peak learning rate, reached at the end of warmup.
    public var peak: Float
    /// Steps of linear warmup from peak/warmup to peak.
    public var warmupSteps: Int
    /// Total steps; decay reaches `minimum` here.
    public var totalSteps: Int
    public var decay: Decay
    /// The floor the decay ends at (as an absolute rate).
    public var minimum: Float

    /// A schedule; `minimum` defaults to 10% of the peak.
    public init(peak: Float, warmupSteps: Int = 0, totalSteps: Int, decay: Decay = .cosine, minimum: Float? = nil) {
        self.peak = peak
        self.warmupSteps = warmupSteps
        self.totalSteps = totalSteps
        self.decay = decay
        self.minimum = minimum ?? peak * 0.1
    }

    /// The rate for `step` (1-based).
    public func rate(at step: Int) -> Float {
        if step <= warmupSteps { return peak * Float(step) / Float(max(warmupSteps, 1)) }
        if decay == .constant { return peak }
        let span = max(totalSteps - warmupSteps, 1)
        let progress = min(Float(step - warmupSteps) / Float(span), 1)
        switch decay {
        case .constant: return peak
        case .linear: return minimum + (peak - minimum) * (1 - progress)
        case .cosine: return minimum + (peak - minimum) * 0.5 * (1 + Foundation.cos(Float.pi * progress))
        }
    }
}

/// Gradient clipping (caseless namespace).
public enum GradientClipping {
    /// The L2 norm of all gradients together, √(Σ g²), accumulated in Double.
    public static func globalNorm(_ parameters: [Tensor]) -> Float {
        var total = 0.0
        for p in parameters {
            guard let g = p.grad else { continue }
            for i in 0..<g.count { total += Double(g.data[i]) * Double(g.data[i]) }
        }
        return Float(total.squareRoot())
    }

    /// Scales all gradients by maxNorm/norm when the global norm exceeds `maxNorm`; returns the norm
    /// before clipping.
    @discardableResult
    public static func clip(_ parameters: [Tensor], maxNorm: Float) -> Float {
        let norm = globalNorm(parameters)
        if norm > maxNorm && norm > 0 {
            let scale = maxNorm / norm
            for p in parameters {
                guard let g = p.grad else { continue }
                for i in 0..<g.count { g.data[i] *= scale }
            }
        }
        return norm
    }
}
