// Chapter15SmokeTests.swift — chapter 15 runs end to end on the synthetic stand-in (no models/ needed),
// and the tour's real-model segment says how to fetch the model when it is absent.
import Testing
import Foundation
@testable import Chapter15RealThing
import Tour
@testable import Training
import Kernels
import NN
import PEFT

@Suite struct Chapter15SmokeTests {
    @Test func theWeightDistanceIsTheRelativeFrobeniusNormOfTheLinearLayersChange() throws {
        let config = GPTConfig.llama(vocabularySize: 11, contextLength: 8, embeddingSize: 8, layers: 1, heads: 2, kvHeads: 1, mlpSize: 16)
        var rng = RNG(seed: 4)
        let base = GPT(config: config, rng: &rng)
        let tuned = GPT(config: config, rng: &rng)
        for ((_, to), (_, from)) in zip(tuned.namedParameters(), base.namedParameters()) { to.assign(from) }
        let layers = LoRA.linearLayers(of: base)
        // ‖W‖ over every linear weight, by a plain sum; then one weight of the first layer moved by 0.3.
        let norm = layers.map { $0.layer.weight.values.map { Double($0 * $0) }.reduce(0, +) }.reduce(0, +).squareRoot()
        #expect(try Chapter15RealThing.linearWeightDistance(tuned, base: base) == 0)
        let first = LoRA.linearLayers(of: tuned)[0].layer.weight
        let original = first.data[5]
        first.data[5] += 0.3
        let moved = try #require(try Chapter15RealThing.linearWeightDistance(tuned, base: base))
        #expect(abs(moved - 0.3 / norm) < 1e-6)
        // A LoRA adapter counts as s·B·A: B = 0 (its start) adds nothing; set, it adds ‖s·B·A‖ on its layer,
        // and the layer's weight is left as it was.
        first.data[5] = original
        let targets = [String(layers[0].path.split(separator: ".").last ?? "")]
        try LoRA.add("default", to: tuned, config: LoRAConfig(rank: 1, alpha: 2, targets: targets), seed: 3)
        #expect(try Chapter15RealThing.linearWeightDistance(tuned, base: base) == 0)
        let (path, layer, lora) = try #require(LoRA.loraLayers(of: tuned).first { $0.path == layers[0].path })
        let weights = try #require(lora.weights("default"))
        let before = layer.weight.values
        weights.b.data.update(repeating: 0, count: weights.b.count)
        weights.b.data[0] = 0.5                                   // B = 0.5·e₀, A's row as initialised
        let a = weights.a.values
        // s·B·A has one non-zero row, 2 · 0.5 · A: its norm is ‖A‖ (per other adapted layer: B = 0, nothing).
        let expected = a.map { Double($0 * $0) }.reduce(0, +).squareRoot() / norm
        #expect(abs(try #require(try Chapter15RealThing.linearWeightDistance(tuned, base: base)) - expected) < 1e-6, "\(path)")
        #expect(zip(layer.weight.values, before).allSatisfy { abs($0 - $1) <= 1e-6 })
    }

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
        // Both comparable fine-tunes moved their linear weights; the packed base's distance is not measured.
        #expect((lora.weightDistance ?? 0) > 0 && (full.weightDistance ?? 0) > 0 && packed.weightDistance == nil)
        #expect(report.conclusions.contains { $0.contains("The linear weights moved") })
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
        // Full fine-tuning's single rate (the sweep's choice in the default run) is checked again, not assumed.
        #expect(report.conclusions.contains { $0.hasPrefix("full fine-tuning at 1e-03 (validation 1e-03 → 0%): below the 90% bar") })
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

    @Test func sweepTrainsEveryGridPointOnTheSyntheticModel() throws {
        var config = Chapter15RealThing.Config.tiny
        config.methods = [.lora, .qlora, .full]
        config.fullRates = [3e-4, 1e-3]
        var lines: [String] = []
        let points = try Chapter15RealThing.sweep(config) { lines.append($0) }
        // QLoRA takes LoRA's rate, so only LoRA's and full fine-tuning's grids are swept, low to high.
        #expect(points.map(\.learningRate) == [1e-4, 2e-3, 3e-4, 1e-3])
        #expect(points.map(\.method) == ["LoRA r=2, fp32 base", "LoRA r=2, fp32 base", "full fine-tuning", "full fine-tuning"])
        #expect(points.allSatisfy { $0.validation.count == 2 && $0.perplexity.isFinite && $0.perplexity > 1 })
        // The random model learns nothing in 2 steps: no rate reaches the bar, and the sweep says so.
        #expect(lines.filter { $0.contains("no rate of the grid reaches 90%") }.count == 2)
        #expect(lines.filter { $0.hasPrefix("{\"chapter\":15") && $0.contains("\"sweep\":true") }.count == 4)
        // Each point's ‖ΔW‖/‖W‖ is measured, and — Adam's first steps move each weight by about the rate —
        // the higher rate of each grid has moved the linear weights farther.
        let distances = points.compactMap(\.weightDistance)
        #expect(distances.count == 4 && distances.allSatisfy { $0 > 0 })
        if distances.count == 4 { #expect(distances[1] > distances[0] && distances[3] > distances[2]) }
        #expect(lines.filter { $0.contains("\"linear_weight_distance\"") }.count == 4)
    }

    @Test func sweepConclusionsFollowTheNumbers() {
        // Hand-made points: LoRA reaches the bar first at 4e-4, full fine-tuning at 2e-5.
        func point(_ method: String, _ rate: Float, _ accuracy: Double, _ perplexity: Double) -> Chapter15RealThing.SweepPoint {
            .init(method: method, learningRate: rate, validation: TaskScore(accuracy: accuracy, loss: 0.1, count: 16),
                  perplexity: perplexity, seconds: 1)
        }
        let config = Chapter15RealThing.Config.standard
        func conclusions(fullAtPick perplexity: Double) -> [String] {
            let points = [point("LoRA", 2e-4, 0.62, 30.49), point("LoRA", 4e-4, 0.94, 30.60), point("LoRA", 6e-4, 1, 31.00),
                          point("full", 1e-5, 0.5, 30.50), point("full", 2e-5, 0.9, perplexity), point("full", 3e-5, 1, 30.52)]
            #expect(Chapter15RealThing.chosenPoint(points.filter { $0.method == "LoRA" }, target: 0.9)?.learningRate == 4e-4)
            var lines: [String] = []
            Chapter15RealThing.printSweep(points, basePerplexity: 30.57, config: config, seconds: 1) { lines.append($0) }
            return lines
        }
        // LoRA +0.03 against full +0.13: LoRA forgets less; against full −0.07 it does not.
        let less = conclusions(fullAtPick: 30.70), more = conclusions(fullAtPick: 30.50)
        #expect(less.contains { $0.contains("+0.03 with LoRA and +0.13 with full") && $0.contains("LoRA forgets less, as the book says") })
        #expect(more.contains { $0.contains("+0.03 with LoRA and -0.07 with full") && $0.contains("contradicts the book") })
        // Both changes are small next to the base's 30.57: the clause says so, with the larger one (0.13 → 0.43%).
        #expect(less.contains { $0.contains("under 1% of the base's perplexity (largest 0.43%)") })
        #expect(Chapter15RealThing.forgettingScale(0.44, -0.05, base: 30.57).contains("1.4% of the base's perplexity"))
        // LoRA's perplexity rises at both steps up its grid (30.49 → 30.60 → 31.00).
        #expect(less.contains { $0.contains("rises with the rate at 2 of 2 steps") })
        #expect(less.contains { $0.contains("LoRA: the lowest rate reaching 90% is 4e-04 (perplexity +0.03).") })
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
