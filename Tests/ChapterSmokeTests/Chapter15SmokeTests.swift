// Chapter15SmokeTests.swift — chapter 15 runs end to end on the synthetic stand-in (no models/ needed),
// and the tour's real-model segment says how to fetch the model when it is absent.
import Testing
import Foundation
@testable import Chapter15RealThing
import Tour

@Suite struct Chapter15SmokeTests {
    @Test func realThingRunsOnTheSyntheticModel() throws {
        var lines: [String] = []
        let report = try Chapter15RealThing.run(.tiny) { lines.append($0) }
        // LoRA, QLoRA on the packed Q4_1 GGUF, QLoRA on NF4, full fine-tuning.
        #expect(report.rows.map(\.method).count == 4)
        #expect(report.rows.last?.method == "full fine-tuning")
        let full = try #require(report.rows.last), lora = report.rows[0], packed = report.rows[1]
        // Full trains every parameter; LoRA a small fraction of them.
        #expect(full.trainable == report.parameters && lora.trainable > 0 && lora.trainable < full.trainable / 4)
        #expect(packed.trainable == lora.trainable)
        // The meter saw gradients and Adam states only for what trains: 4 and 8 bytes per trainable parameter.
        #expect(full.peakByRole[.optimizerState] == 8 * full.trainable)
        #expect(lora.peakByRole[.optimizerState] == 8 * lora.trainable)
        #expect(report.base.task.count == 3 && report.base.shownAnswers.count == 3 && report.base.replies.count == 2)
        #expect(report.base.perplexity.isFinite && report.base.perplexity > 1)
        #expect(report.padding.bucketed <= report.padding.plain)
        #expect(!report.conclusions.isEmpty)
        // The learning-rate rule: LoRA's two-rate grid is swept (the random model passes neither), QLoRA takes
        // LoRA's rate, full fine-tuning has one rate.
        #expect(lora.trials.map(\.learningRate) == [1e-4, 2e-3] && lora.learningRate == 2e-3 && !lora.reachedTarget)
        #expect(lora.trials.allSatisfy { $0.validation.count == 2 })
        #expect(packed.trials.map(\.learningRate) == [2e-3] && full.trials.map(\.learningRate) == [1e-3])
        #expect(report.conclusions.contains { $0.contains("tried 1e-04 → 0%, 2e-03 → 0%") && $0.contains("no rate reached the bar") })
        // The merged LoRA fine-tune, exported and loaded back, answers like the in-memory one (F32 and HF
        // hold the same fp32 weights; ExportCheckTests checks F16 on a trained model).
        #expect(report.exports.map(\.format) == ["GGUF F32", "GGUF F16", "HF safetensors F32"])
        #expect(report.exports[0].same == 3 && report.exports[2].same == 3)
        #expect(lines.contains { $0.contains("same greedy answers 3/3 as the in-memory fine-tune") })
        // The equation's gradients: 4 bytes per trainable parameter plus the logits' gradient.
        #expect(lora.estimate.gradients > 4 * Double(lora.trainable) + 4 * Double(report.base.task.count))
        // The --json lines: the base, one per method, one per export.
        #expect(lines.filter { $0.hasPrefix("{\"chapter\":15") }.count == 8)
        #expect(lines.contains { $0.hasPrefix("{\"chapter\":15,\"export\":\"GGUF F16\"") && $0.contains("\"same_greedy_answers\"") })
        #expect(lines.contains { $0.contains("Chapter 15 took") })
    }

    @Test func aMissingModelNamesTheFetchCommand() throws {
        var config = Chapter15RealThing.Config.tiny
        config.model = .gguf("/nonexistent/SmolLM2.gguf")
        let error = #expect(throws: (any Error).self) { try Chapter15RealThing.run(config) { _ in } }
        let message = error.map { "\($0)" } ?? ""
        #expect(message.contains("/nonexistent/SmolLM2.gguf not found") && message.contains("scripts/fetch-smollm2.sh"), "\(message)")
        var lines: [String] = []
        var tour = Tour.RealModelConfig.quick
        tour.path = "/nonexistent/SmolLM2.gguf"
        #expect(try Tour.realModelSegment(tour) { lines.append($0) } == nil)
        #expect(lines.count == 1 && lines[0].contains("scripts/fetch-smollm2.sh"))
    }

    @Test func tourSegmentTrainsLoRAOnTheSyntheticModel() throws {
        var config = Tour.RealModelConfig.quick
        config.path = nil
        var lines: [String] = []
        let result = try #require(try Tour.realModelSegment(config) { lines.append($0) })
        #expect(result.trainable > 0 && result.trainable < result.parameters)
        #expect(result.scoreBefore.count == 2 && lines.contains { $0.hasPrefix("  before:") } && lines.contains { $0.hasPrefix("  after:") })
    }
}
