// Chapter14Stacking+Adapters.swift — Chapter 14, part 2: combining two LoRA adapters.
//
// The claim: adapters trained from a shared checkpoint that already has some of both skills can be
// combined into one model that does both tasks. Here the shared checkpoint is chapter 13's generalist
// (a brief multi-task fine-tune of the base); adapter A is trained on task A, adapter B on task B, each
// from that checkpoint. Then, on both test sets:
//   - each adapter alone, and the two summed (both active) — the naive combination;
//   - concatenation (A = [A₁; A₂], B = [w₁s₁B₁ | w₂s₂B₂]): exactly the weighted sum, checked on logits,
//     at a few weights (w₁, w₂) — summing at weight 1 each double-counts whatever the updates share;
//   - TIES on the two ΔWs and an SVD squeeze back to rank 8 (the merges of chapter 13, per layer);
//   - per-request routing (chapter 9's mixed batches): every request runs with its own task's adapter.
// Why summing can fail is measured, not asserted: the cosine of the two updates ΔW = s·B·A per layer.
// Leaves out: learned routers (the request names its adapter here), LoRA-Hub-style weight search.
import Foundation
import Autodiff
import NN
import Tokenizers
import Datasets
import Training
import PEFT
import Merging
import Experiments

extension Chapter14Stacking {
    /// One way of serving both tasks, scored on each.
    public struct CombinationRow: Sendable {
        /// `combination`: one model (adapters combined in weight space); `routed`: both adapters kept, each
        /// request served with its own — it needs no combining, so it is not counted as one.
        public enum Kind: Sendable { case checkpoint, single, combination, routed }
        public var setup: String
        public var accuracyA: Double, accuracyB: Double
        public var kind: Kind
        /// The worse of the two tasks — what "does both" means.
        public var worst: Double { min(accuracyA, accuracyB) }
    }

    /// Part 2's measurements.
    public struct AdapterReport: Sendable {
        public var taskA: String, taskB: String
        public var rows: [CombinationRow]
        /// Per layer: how the two adapters' updates overlap.
        public var overlaps: [UpdateOverlap]
        /// Largest |logit difference| between concatenation (weights 1, 1) and both adapters active.
        public var concatenationError: Float
        /// The one-model combination with the best worse-task score (routing excluded).
        public var best: CombinationRow? { rows.filter { $0.kind == .combination }.max { $0.worst < $1.worst } }
        /// The per-request routing row, when measured.
        public var routed: CombinationRow? { rows.first { $0.kind == .routed } }
    }

    /// Trains the generalist and two adapters on it, then scores every combination.
    static func adapters(_ base: BaseModel, config: Config, output: (String) -> Void) throws -> AdapterReport {
        let tokenizer = CharTokenizer.builtIn
        let (taskA, taskB) = (config.tasks.0.rawValue, config.tasks.1.rawValue)
        let data = MultiTaskExperiment.TaskData(tasks: config.tasks, world: base.world, trainExamples: config.trainExamples,
                                                testExamples: config.testExamples)
        output("2. Two LoRA adapters (r = \(config.adapterRank)) trained from a shared generalist checkpoint (the base after "
               + "\(config.generalistRecipe.steps) multi-task steps on \(taskA) ∪ \(taskB), as in chapter 13), "
               + "\(config.adapterRecipe.steps) steps each at lr \(config.adapterRecipe.learningRate).")
        let generalist = MultiTaskExperiment.generalist(base: base.model, tokenizer: tokenizer, data: data, recipe: config.generalistRecipe)
        let model = generalist.copy()
        for (index, (name, examples)) in [(taskA, data.trainA), (taskB, data.trainB)].enumerated() {
            try LoRA.add(name, to: model, config: LoRAConfig(rank: config.adapterRank, alpha: Float(2 * config.adapterRank)),
                     seed: 3 + UInt64(index))
            _ = FineTuning.train(model, tokenizer: tokenizer, examples: examples, recipe: config.adapterRecipe,
                                 progress: config.showProgress ? ProgressReporter(label: "   adapter \(name)", every: 100) : nil)
        }

        // Every combination becomes one more named adapter on the same layers.
        let names = [taskA, taskB]
        var candidates: [(label: String, active: [String], kind: CombinationRow.Kind)] = [
            ("generalist (no adapter)", [], .checkpoint), ("\(taskA) adapter only", [taskA], .single),
            ("\(taskB) adapter only", [taskB], .single), ("both active (sum 1 / 1)", names, .combination)]
        AdapterMerge.combine(names, weights: [1, 1], using: .concatenation, into: "concatenated", model: model)
        candidates.append(("concatenated (rank \(2 * config.adapterRank))", ["concatenated"], .combination))
        for (wA, wB) in config.sumWeights {
            let name = "sum \(wA) / \(wB)"
            AdapterMerge.combine(names, weights: [wA, wB], using: .concatenation, into: name, model: model)
            candidates.append(("weighted sum \(format(wA)) / \(format(wB))", [name], .combination))
        }
        AdapterMerge.combine(names, weights: [1, 1], using: .ties(rank: 2 * config.adapterRank, density: 0.5), into: "ties", model: model)
        candidates.append(("TIES (density 0.5, rank \(2 * config.adapterRank))", ["ties"], .combination))
        AdapterMerge.combine(names, weights: [1, 1], using: .svd(rank: config.adapterRank), into: "svd", model: model)
        candidates.append(("SVD of the sum (rank \(config.adapterRank))", ["svd"], .combination))

        var rows = candidates.map { candidate -> CombinationRow in
            LoRA.setActive(candidate.active, on: model)
            let scores = [data.testA, data.testB].map {
                TaskEvaluator.score(model, tokenizer: tokenizer, examples: $0, check: .teacherForced).accuracy
            }
            return CombinationRow(setup: candidate.label, accuracyA: scores[0], accuracyB: scores[1], kind: candidate.kind)
        }
        let concatenationError = largestLogitDifference(model, tokenizer: tokenizer, prompts: (data.testA + data.testB).prefix(8).map(\.prompt),
                                                        first: names, second: ["concatenated"])
        rows.append(routed(model, tokenizer: tokenizer, data: data, adapters: names))
        LoRA.setActive([], on: model)
        let report = AdapterReport(taskA: taskA, taskB: taskB, rows: rows, overlaps: AdapterMerge.overlap(taskA, taskB, in: model),
                                   concatenationError: concatenationError)
        printCombinations(report, output: output)
        return report
    }

    /// Per-request routing: one mixed batch of both test sets, each row served with its task's adapter.
    static func routed(_ model: GPT, tokenizer: CharTokenizer, data: MultiTaskExperiment.TaskData, adapters: [String]) -> CombinationRow {
        let requests = data.testA.map { ($0, adapters[0]) } + data.testB.map { ($0, adapters[1]) }
        let newline = tokenizer.encode("\n").first
        let budget = requests.map { tokenizer.encode($0.0.response).count + 2 }.max() ?? 1
        let produced = MultiAdapterServing.generate(model, prompts: requests.map { tokenizer.encode($0.0.prompt) },
                                                    adapters: requests.map(\.1), maxNewTokens: budget, stop: tokenizer.endOfText)
        let correct = zip(requests, produced).map { request, tokens in
            let answer = tokenizer.decode(Array(tokens.prefix { $0 != tokenizer.endOfText && $0 != newline }))
            return SFTTask.isCorrect(generated: answer, expected: request.0.response)
        }
        func share(_ slice: ArraySlice<Bool>) -> Double { slice.isEmpty ? 0 : Double(slice.filter { $0 }.count) / Double(slice.count) }
        return CombinationRow(setup: "routed per request (mixed batch)", accuracyA: share(correct.prefix(data.testA.count)),
                              accuracyB: share(correct.dropFirst(data.testA.count)), kind: .routed)
    }

    /// max |logits(first active) − logits(second active)| over `prompts`.
    static func largestLogitDifference(_ model: GPT, tokenizer: CharTokenizer, prompts: [String], first: [String], second: [String]) -> Float {
        func logits(_ active: [String], _ ids: [Int32]) -> [Float] {
            LoRA.setActive(active, on: model)
            return Tensor.withNoGrad { model(ids, batch: 1, steps: ids.count).values }
        }
        return prompts.map { prompt in
            let ids = tokenizer.encode(prompt).map(Int32.init)
            return zip(logits(first, ids), logits(second, ids)).map { abs($0 - $1) }.max() ?? 0
        }.max() ?? 0
    }

    /// The table, the overlap per layer, and the conclusions the numbers support.
    static func printCombinations(_ r: AdapterReport, output: (String) -> Void) {
        output("   setup                                     " + r.taskA.padding(toLength: 10, withPad: " ", startingAt: 0) + r.taskB)
        for row in r.rows {
            output("   " + row.setup.padding(toLength: 40, withPad: " ", startingAt: 0)
                   + String(format: "%5.0f%%    %5.0f%%", row.accuracyA * 100, row.accuracyB * 100))
        }
        output("   (teacher-forced exact match; the routed row generates greedily.)")
        output(r.concatenationError < 1e-3
               ? String(format: "   Concatenation equals both adapters active: largest logit difference %.1e.", r.concatenationError)
               : String(format: "   Concatenation does NOT match both adapters active: largest logit difference %.3f.", r.concatenationError))

        output("\n   Why summing can fail — the two updates ΔW = s·B·A per layer:")
        output("   layer                  ‖ΔW \(r.taskA)‖   ‖ΔW \(r.taskB)‖   cos")
        for o in r.overlaps {
            output("   " + o.path.padding(toLength: 22, withPad: " ", startingAt: 0)
                   + String(format: "%10.3f %10.3f %7.3f", o.normFirst, o.normSecond, o.cosine))
        }
        let singles = r.rows.filter { $0.kind == .single }
        let sum = r.rows.first { $0.setup.hasPrefix("both active") }
        let meanCosine = r.overlaps.map { abs($0.cosine) }.reduce(0, +) / Double(max(r.overlaps.count, 1))
        if let top = r.overlaps.max(by: { abs($0.cosine) < abs($1.cosine) }), singles.count == 2, let sum {
            let lossA = singles[0].accuracyA - sum.accuracyA, lossB = singles[1].accuracyB - sum.accuracyB
            output(String(format: "   Summing at 1 / 1 changes %@ by %+.0f points and %@ by %+.0f points against each adapter alone. "
                          + "Mean |cos| over layers %.2f (largest %.2f in %@): ", r.taskA, -lossA * 100, r.taskB, -lossB * 100,
                          meanCosine, abs(top.cosine), top.path)
                   + (meanCosine > 0.3
                      ? "the updates share directions, so the sum double-counts them — scaling both down (the weight sweep) removes part of that."
                      : "the updates are nearly orthogonal, so they do not cancel each other; what hurts is that each update now also acts on "
                        + "the other task's inputs."))
        }
        if let best = r.best {
            let verdict = best.worst >= 0.8 ? "meets" : "misses"
            output(String(format: "   Best combination into one model: %@ — %.0f%% on %@ and %.0f%% on %@: it %@ the book's bar of 80%% on both "
                          + "tasks.", best.setup, best.accuracyA * 100, r.taskA, best.accuracyB * 100, r.taskB, verdict))
        }
        if let routed = r.routed {
            output(String(format: "   Routing each request to its own adapter (no combining: two adapters kept): %.0f%% on %@ and %.0f%% on %@.",
                          routed.accuracyA * 100, r.taskA, routed.accuracyB * 100, r.taskB))
        }
    }

    static func format(_ weight: Float) -> String { weight == weight.rounded() ? String(Int(weight)) : String(weight) }
}
