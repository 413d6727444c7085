// Chapter07SmokeTests.swift — chapter 7 runs every method's sweep on its tiny configuration, and the zoo
// on the real-model path (the synthetic stand-in); its learning-rate choice and its closing sentences,
// including the toy-vs-pretrained gap comparison, follow the numbers (hand-made rows).
import Testing
@testable import Training
import PEFT
@testable import Chapter07PEFTZoo

@Suite struct Chapter07SmokeTests {
    @Test func everyMethodSweepsAndTrainsFewerParametersThanFullFineTuning() throws {
        var lines: [String] = []
        let report = try Chapter07PEFTZoo.run(.tiny) { lines.append($0) }
        let rows = report.rows
        #expect(rows.count == 7)
        #expect(rows[0].fraction == 1)
        #expect(rows.dropFirst().allSatisfy { $0.trainable < rows[0].trainable && $0.trainable > 0 })
        #expect(rows[1].extraInferenceMultiplyAdds == 0)   // LoRA, merged
        // LoRA sweeps two rates in the tiny config; both are printed and one is marked as chosen.
        #expect(rows[1].sweep.map(\.learningRate) == [3e-3, 1e-2])
        let loraLine = try #require(lines.first { $0.hasPrefix("  LoRA r=2") })
        #expect(loraLine.contains("lr 3e-3") && loraLine.contains("lr 0.01") && loraLine.contains("←"))
        #expect(!report.conclusions.isEmpty && report.conclusions.allSatisfy { lines.contains($0) })
        // Every chosen run measured its forgetting, and the sentence about it is printed.
        #expect(rows.allSatisfy { $0.chosen.corpusLoss.map { $0.isFinite && $0 > 0 } ?? false })
        #expect(report.conclusions.contains { $0.hasPrefix("Forgetting at the chosen rates") })
    }

    /// With replay every run (soft prompts too) trains on task rows mixed with pretraining windows as long
    /// as the context less the longest soft prompt, and the chapter says so.
    @Test func replayMixesWindowsAPromptShorterThanTheContextIntoEveryRun() throws {
        var config = Chapter07PEFTZoo.Config.tiny
        config.replayShare = 0.25
        let replay = try #require(config.replay)
        #expect(replay.share == 0.25 && replay.characters == config.base.model.contextLength - 2 && config.recipe(1e-3).bucketed)
        var lines: [String] = []
        let report = try Chapter07PEFTZoo.run(config) { lines.append($0) }
        #expect(report.rows.count == 7 && report.rows.allSatisfy { $0.chosen.corpusLoss != nil })
        #expect(lines.contains("Every run's examples: " + replay.description + "."))
        #expect(report.conclusions.contains { $0.contains("every run with replay") })
    }

    @Test func theForgettingSentenceNamesTheRunsAboveTheUnigramBaseline() throws {
        var kept = Self.point(1e-3, validation: 1, test: 1), wrecked = Self.point(1e-3, validation: 1, test: 1)
        kept.corpusLoss = 0.4
        wrecked.corpusLoss = 3.5
        let sentence = try #require(Chapter07PEFTZoo.forgetting([Self.row("full", [wrecked]), Self.row("BitFit", [kept])],
                                                                baseCorpusLoss: 0.25, unigramBaseline: 3.274))
        #expect(sentence.contains("base 0.250, unigram baseline 3.274") && sentence.contains("full 3.500, BitFit 0.400"))
        #expect(sentence.contains("lost: full (") && !sentence.contains("lost: full, BitFit"))
        let allKept = try #require(Chapter07PEFTZoo.forgetting([Self.row("BitFit", [kept])], baseCorpusLoss: 0.25, unigramBaseline: 3.274))
        #expect(allKept.hasSuffix("Every run kept it below the unigram baseline."))
        #expect(Chapter07PEFTZoo.forgetting([Self.row("full", [Self.point(1e-3, validation: 1, test: 1)])], baseCorpusLoss: 0.25,
                                            unigramBaseline: 3.274) == nil)
    }

    @Test func theEqualScoreSentenceComparesOnlyMethodsThatMatchedFullFineTuning() throws {
        func scored(_ test: Double, corpus: Float) -> Chapter07PEFTZoo.SweepPoint {
            var point = Self.point(1e-3, validation: test, test: test)
            point.corpusLoss = corpus
            return point
        }
        let full = Self.row("full", [scored(1, corpus: 0.444)])
        let lora = Self.row("LoRA", [scored(1, corpus: 0.355)]), ia3 = Self.row("IA3", [scored(0.97, corpus: 2.103)])
        let bitFit = Self.row("BitFit", [scored(0.09, corpus: 1.874)])
        let sentence = try #require(Chapter07PEFTZoo.forgettingAtEqualScore([full, lora, ia3, bitFit]))
        // BitFit (91 points behind) is left out; IA3 (3 behind) is in, and forgot more than full fine-tuning.
        #expect(sentence == "At an equal task score (within 5 points of full fine-tuning's 100%), corpus loss against full fine-tuning's 0.444: "
                + "LoRA 0.355 (100%), IA3 2.103 (97%). Forgot less than full fine-tuning: LoRA; forgot as much or more: IA3 — training "
                + "fewer parameters did not by itself keep more of the base.")
        #expect(Chapter07PEFTZoo.forgettingAtEqualScore([full, bitFit]) == nil)
        #expect(Chapter07PEFTZoo.forgettingAtEqualScore([full, lora]) == "At an equal task score (within 5 points of full fine-tuning's 100%), "
                + "corpus loss against full fine-tuning's 0.444: LoRA 0.355 (100%). Forgot less than full fine-tuning: LoRA.")
    }

    static func point(_ rate: Float, validation: Double, loss: Float = 1, test: Double) -> Chapter07PEFTZoo.SweepPoint {
        .init(learningRate: rate, validation: TaskScore(accuracy: validation, loss: loss, count: 10),
              test: TaskScore(accuracy: test, loss: loss, count: 10), medianStepMilliseconds: 1)
    }

    static func row(_ name: String, _ points: [Chapter07PEFTZoo.SweepPoint], extra: Int = 0) -> Chapter07PEFTZoo.Row {
        .init(method: name, peft: name == "full" ? nil : .bitFit, trainable: 1, fraction: name == "full" ? 1 : 0.01, sweep: points,
              chosen: Chapter07PEFTZoo.choose(points), extraInferenceMultiplyAdds: extra, seconds: 0)
    }

    @Test func theRateIsChosenOnValidationNotOnTest() {
        // Test accuracy would pick 1e-3; validation picks 3e-3; a validation tie goes to the lower loss.
        let chosen = Chapter07PEFTZoo.choose([Self.point(1e-3, validation: 0.5, test: 0.9), Self.point(3e-3, validation: 0.7, test: 0.6)])
        #expect(chosen.learningRate == 3e-3)
        let tie = Chapter07PEFTZoo.choose([Self.point(1e-3, validation: 0.5, loss: 0.4, test: 0), Self.point(3e-3, validation: 0.5, loss: 0.3, test: 0)])
        #expect(tie.learningRate == 3e-3)
    }

    @Test func conclusionsFollowTheNumbersAndSayWhenTheBookIsContradicted() {
        let rows = [Self.row("full", [Self.point(5e-4, validation: 1, test: 1)]),
                    Self.row("close", [Self.point(1e-3, validation: 0.9, test: 0.95), Self.point(3e-3, validation: 0.8, test: 0.9)]),
                    Self.row("behind", [Self.point(1e-2, validation: 0.1, test: 0.1)], extra: 64)]
        let grows = Chapter07PEFTZoo.WidthTrend(method: "behind", widths: [128, 256], fullAccuracy: [1, 1], methodAccuracy: [0.3, 0.1])
        let lines = Chapter07PEFTZoo.conclusions(rows, trend: [grows])
        #expect(lines.contains("close reached 95% of full fine-tuning's test accuracy (95% vs 100%) training 1.00% of the parameters, at lr 1e-3."))
        #expect(lines.contains("At ≥ 90% of full fine-tuning at the same budget: close."))
        #expect(lines.contains { $0.hasPrefix("More than 20 points behind: behind") })
        #expect(lines.contains { $0.contains("from 70 points at width 128 to 90 at width 256") && $0.contains("contradicts the book") })
        #expect(lines.contains("Chosen at the edge of its sweep (a wider sweep might do better): close."))
        // At 100% validation an edge choice cannot be beaten by a wider sweep, so it is not flagged.
        let perfect = [Self.row("full", [Self.point(5e-4, validation: 1, loss: 0.2, test: 1), Self.point(1e-3, validation: 1, loss: 0.1, test: 1)]),
                       rows[1]]
        #expect(perfect[0].chosen.learningRate == 1e-3)
        #expect(Chapter07PEFTZoo.conclusions(perfect, trend: []).contains("Chosen at the edge of its sweep (a wider sweep might do better): close."))
        let shrinks = Chapter07PEFTZoo.WidthTrend(method: "behind", widths: [128, 256], fullAccuracy: [1, 1], methodAccuracy: [0.1, 0.5])
        #expect(Chapter07PEFTZoo.conclusions(rows, trend: [shrinks]).contains { $0.contains("shrinks, as the book claims") })
        // Nothing to compare against when full fine-tuning failed.
        let failed = [Self.row("full", [Self.point(5e-4, validation: 0, test: 0)]), rows[1]]
        #expect(Chapter07PEFTZoo.conclusions(failed, trend: []).count == 1)
    }

    @Test func theZooRunsOnTheRealModelPathWithEveryMethod() throws {
        var lines: [String] = []
        let report = try #require(try Chapter07PEFTZoo.runRealModel(.tiny, toyRows: nil) { lines.append($0) })
        #expect(report.rows.map { $0.peft?.kind } == [nil, "LoRA", "Houlsby", "IA3", "BitFit", "prefix", "prompt"])
        #expect(report.rows.dropFirst().allSatisfy { $0.trainable > 0 && $0.trainable < report.rows[0].trainable })
        // The synthetic Llama has no biases: BitFit trains the zero biases it adds to the 7 linears of each of
        // its 2 blocks (width 64, 2 KV heads of 16, MLP 128): q 64 + k 32 + v 32 + o 64 + gate 128 + up 128 + down 64.
        #expect(report.rows[4].trainable == 2 * (64 + 32 + 32 + 64 + 128 + 128 + 64))
        #expect(report.rows.allSatisfy { $0.score.count == 3 })
        #expect(report.gaps.isEmpty && report.conclusions.allSatisfy { lines.contains($0) })
    }

    @Test func withoutTheModelFileTheRealModelZooSaysHowToFetchIt() throws {
        var zoo = Chapter07PEFTZoo.RealModelZoo.tiny
        zoo.source = .gguf("/nonexistent/model.gguf")
        var lines: [String] = []
        #expect(try Chapter07PEFTZoo.runRealModel(zoo, toyRows: nil) { lines.append($0) } == nil)
        #expect(lines.count == 1 && lines[0].contains("sh scripts/fetch-smollm2.sh"), "\(lines)")
    }

    /// Gaps are matched by method (the size knob aside) and the verdict follows them: 100 → 10 points is
    /// "within 20", 100 → 60 "narrows but stays above 20", 20 → 40 "wider", 50 → 52 "about the same".
    @Test func theToyAndPretrainedGapsAreComparedMethodByMethod() {
        func row(_ peft: PEFTMethod?, _ accuracy: Double) -> Chapter07PEFTZoo.Row {
            .init(method: peft?.description ?? "full", peft: peft, trainable: 1, fraction: 0.01,
                  sweep: [Self.point(1e-3, validation: accuracy, test: accuracy)], chosen: Self.point(1e-3, validation: accuracy, test: accuracy),
                  extraInferenceMultiplyAdds: 0, seconds: 0)
        }
        let toy = [row(nil, 1), row(.promptTuning(tokens: 8), 0), row(.bitFit, 0), row(.ia3, 0.8), row(.houlsby(bottleneck: 16), 0.5)]
        let real = [row(nil, 0.9), row(.promptTuning(tokens: 4), 0.8), row(.bitFit, 0.3), row(.ia3, 0.5), row(.houlsby(bottleneck: 8), 0.38),
                    row(.prefixTuning(tokens: 8), 0.1)]
        let gaps = Chapter07PEFTZoo.realModelGaps(toy: toy, real: real)
        #expect(gaps.map(\.method) == ["prompt tuning (4 tokens)", "BitFit", "IA3", "Houlsby adapters (m=8)"])   // no toy prefix row
        #expect(zip(gaps.map(\.toy), [1, 1, 0.2, 0.5]).allSatisfy { abs($0 - $1) < 1e-9 })
        #expect(zip(gaps.map(\.real), [0.1, 0.6, 0.4, 0.52]).allSatisfy { abs($0 - $1) < 1e-9 })
        let lines = Chapter07PEFTZoo.gapConclusions(gaps)
        #expect(lines[0] == "prompt tuning (4 tokens): 100 points behind full fine-tuning on the toy base, 10 on SmolLM2-135M — on the "
                + "pretrained base it is within 20 points: the method works where there are pretrained features to steer.")
        #expect(lines[1].hasSuffix("it narrows on the pretrained base but stays above 20 points."))
        #expect(lines[2].hasSuffix("it is wider on the pretrained base: the toy's gap is not explained by the base being untrained."))
        #expect(lines[3].hasSuffix("about the same on both bases: pretraining does not explain this gap."))
    }
}
