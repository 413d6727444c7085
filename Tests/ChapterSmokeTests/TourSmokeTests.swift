// TourSmokeTests.swift — the tour runs on its tiny configuration, measures every row and writes a
// self-contained HTML report.
import Foundation
import Testing
import Autodiff
import Experiments
@testable import Tour

@Suite struct TourSmokeTests {
    @Test func tinyTourComparesTheMethodsAndWritesTheReport() throws {
        var lines: [String] = []
        let report = try Tour.run(.tiny) { lines.append($0) }
        #expect(report.rows.map(\.method) == ["base model (no training)", "full fine-tuning on A", "LoRA r=2 on A",
                                             "QLoRA r=2 on A (NF4)", "full fine-tuning on B", "merge of the two (slerp)",
                                             "generalist: A ∪ B together", "generalist, then A", "generalist, then B",
                                             "merge of the last two (slerp)"])
        let byMethod = Dictionary(uniqueKeysWithValues: report.rows.map { ($0.method, $0) })
        let full = byMethod["full fine-tuning on A"]!, lora = byMethod["LoRA r=2 on A"]!, qlora = byMethod["QLoRA r=2 on A (NF4)"]!
        // Full fine-tuning trains everything; the adapters a small share, with less optimizer state.
        #expect(full.trainable == report.baseParameters && lora.trainable < full.trainable / 10 && qlora.trainable == lora.trainable)
        #expect((lora.peakByRole[.optimizerState] ?? 0) < (full.peakByRole[.optimizerState] ?? 0))
        #expect((qlora.peakByRole[.weights] ?? 0) < (lora.peakByRole[.weights] ?? 0))
        #expect(full.lossCurve.count == 8 && full.stepMilliseconds != nil && byMethod["merge of the two (slerp)"]!.lossCurve.isEmpty)
        #expect(byMethod["generalist, then B"]!.trainable == report.baseParameters && byMethod["merge of the last two (slerp)"]!.trainable == 0)
        let html = report.html
        #expect(html.contains("<svg") && html.contains("polyline") && html.contains("optimizer state"))
        // Self-contained: no scripts, stylesheets or images fetched from elsewhere.
        #expect(!html.contains("<script") && !html.contains("<link") && !html.contains("<img"))
        #expect(lines.contains { $0.hasPrefix("method") })
        // Every fine-tune mixed in replayed pretraining text; the budget line and the forgetting sentence say so.
        #expect(report.budget.contains("25% replay (24-character windows") && report.budget.contains("the generalist 8 steps × 8 on A ∪ B"))
        #expect(report.conclusions.contains { $0.contains(String(format: "unigram baseline %.3f", report.unigramBaseline)) })
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("tinytune-tour-\(UUID().uuidString)/report.html")
        defer { try? FileManager.default.removeItem(at: url.deletingLastPathComponent()) }
        try report.writeHTML(to: url)
        #expect(try String(contentsOf: url, encoding: .utf8) == html)
    }

    /// `tinytune tour --replay S`: the standard tour replays 25% of 128-character windows with bucketed
    /// batches; `--replay 0` trains on the task alone, unbucketed; another share is mixed in and buckets again.
    @Test func replayingSetsTheMixAndBucketsEveryRecipeOnlyWithAMix() {
        let standard = Tour.Config.standard
        #expect(standard.replay == ReplayMix(share: 0.25, characters: 128))
        #expect(standard.fullRecipe.bucketed && standard.adapterRecipe.bucketed && standard.generalistRecipe.bucketed)
        let alone = standard.replaying(nil)
        #expect(alone.replay == nil && !alone.fullRecipe.bucketed && !alone.adapterRecipe.bucketed && !alone.generalistRecipe.bucketed)
        let mixed = alone.replaying(ReplayMix(share: 0.05, characters: 128))
        #expect(mixed.replay == ReplayMix(share: 0.05, characters: 128))
        #expect(mixed.fullRecipe.bucketed && mixed.adapterRecipe.bucketed && mixed.generalistRecipe.bucketed)
        #expect(mixed.fullRecipe.steps == standard.fullRecipe.steps && mixed.adapterRecipe.learningRate == standard.adapterRecipe.learningRate)
    }
}
