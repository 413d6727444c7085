// Chapter15RealThing+Report.swift — the chapter's tables, its computed conclusions and its JSON lines.
//
// Teaches: a claim is only as good as the comparison behind it. Every sentence of the conclusions is
// computed from the measured rows against the book's claim (LoRA ≥ 90% of full fine-tuning's score,
// QLoRA within 3 points of LoRA, LoRA forgets less, memory full > LoRA > QLoRA, the base < 20%), and
// says "contradicts the book" when the numbers do.
// Leaves out: significance tests — with a test set of a few dozen, a few points are one or two answers.
import Foundation
import Autodiff
import Datasets
import FullFineTuning
import Experiments

extension Chapter15RealThing {
    /// Megabytes, one decimal.
    static func mb(_ bytes: Double) -> String { String(format: "%.1f", bytes / 1e6) }
    static func mb(_ bytes: Int?) -> String { bytes.map { mb(Double($0)) } ?? "n/a" }
    static func percent(_ share: Double) -> String { String(format: "%.0f%%", 100 * share) }

    /// The conclusions, each computed from the numbers.
    static func conclusions(base: Scores, rows: [Row], exports: [ExportCheck.Result] = [], target: Double,
                            validationCount: Int) -> [String] {
        var lines: [String] = []
        // The learning-rate rule, as it played out for each method that swept a grid.
        for row in rows where row.trials.count > 1 || !row.method.hasPrefix("QLoRA") {
            let tried = row.trials.map { String(format: "%.0e → %.0f%%", $0.learningRate, 100 * $0.validation.accuracy) }
            if row.trials.count == 1 {
                // One rate: the one `chapter15 --sweep` chose for this method; the run checks it again.
                lines.append("\(row.method) at " + String(format: "%.0e", row.learningRate) + " (validation " + tried.joined()
                             + "): " + (row.reachedTarget ? "the sweep's rate reaches the \(percent(target)) bar again."
                                                          : "below the \(percent(target)) bar in this run — the sweep's choice does not hold here."))
                continue
            }
            lines.append("Rule (lowest rate of the grid reaching \(percent(target)) exact on the \(validationCount) validation cards): "
                         + "\(row.method) at " + String(format: "%.0e", row.learningRate) + " (tried " + tried.joined(separator: ", ") + ")"
                         + (!row.reachedTarget ? " — no rate reached the bar: the highest is reported." : "."))
        }
        for export in exports {
            let prompts = base.shownAnswers.count
            lines.append("Exported \(export.format): same greedy answers \(export.same)/\(prompts) as the in-memory LoRA fine-tune"
                         + (export.same == prompts ? "." : " — the export does not reproduce what the model says."))
        }
        let n = base.task.count
        lines.append("The base answers \(percent(base.task.accuracy)) of \(n) test cards exactly"
                     + (base.task.accuracy < 0.2 ? " — below 20%: a task it cannot do before fine-tuning."
                                                 : " — not below 20%, so this task does not show what fine-tuning adds (contradicts the premise)."))
        func row(_ prefix: String) -> Row? { rows.first { $0.method.hasPrefix(prefix) } }
        guard let lora = row("LoRA"), let full = row("full") else { return lines }
        let (l, f) = (lora.scores.task.accuracy, full.scores.task.accuracy)
        let share = f > 0 ? l / f : (l > 0 ? .infinity : 1)
        lines.append("LoRA scores \(percent(l)) and full fine-tuning \(percent(f)) (n = \(n)): LoRA reaches "
                     + (share.isFinite ? percent(share) : "more than any multiple") + " of full fine-tuning's score"
                     + (share >= 0.9 ? ", as the book says (≥ 90%)." : " — below the book's ≥ 90%: contradicts the book at this budget.")
                     + String(format: " It trains %.2f%% of the parameters.", 100 * Double(lora.trainable) / Double(max(full.trainable, 1))))
        for qlora in rows where qlora.method.hasPrefix("QLoRA") {
            let gap = 100 * (l - qlora.scores.task.accuracy)
            lines.append("\(qlora.method): \(percent(qlora.scores.task.accuracy)), "
                         + String(format: "%.0f points %@ LoRA", abs(gap), gap >= 0 ? "below" : "above")
                         + (abs(gap) <= 3 || gap < 0 ? " — within the book's 3 points." : " — more than 3 points below: contradicts the book."))
        }
        let loraRise = lora.scores.perplexity - base.perplexity, fullRise = full.scores.perplexity - base.perplexity
        lines.append(String(format: "Forgetting: general-text perplexity %.2f → %.2f with LoRA (%+.2f) and → %.2f with full fine-tuning (%+.2f); ",
                            base.perplexity, lora.scores.perplexity, loraRise, full.scores.perplexity, fullRise)
                     + (loraRise < fullRise ? "LoRA forgets less, as the book says."
                                            : "LoRA does not forget less here: contradicts the book.")
                     + forgettingScale(loraRise, fullRise, base: base.perplexity)
                     + distanceClause(lora: lora.weightDistance, full: full.weightDistance, loraForgotMore: loraRise >= fullRise)
                     + " Everyday questions: base \(base.questionsCorrect), LoRA \(lora.scores.questionsCorrect), full \(full.scores.questionsCorrect) "
                     + "of \(base.replies.count) (\(lora.repliesUnchanged) and \(full.repliesUnchanged) replies unchanged).")
        let qloras = rows.filter { $0.method.hasPrefix("QLoRA") }
        var memory = "Peak training memory (meter): full \(mb(full.peakBytes)) MB, LoRA \(mb(lora.peakBytes)) MB"
        memory += qloras.map { ", \($0.method) \(mb($0.peakBytes)) MB" }.joined() + ": "
        let loraBelowFull = lora.peakBytes < full.peakBytes
        let qloraBelowLoRA = qloras.allSatisfy { $0.peakBytes < lora.peakBytes }
        memory += loraBelowFull ? "LoRA < full" : "LoRA is NOT below full (contradicts the book)"
        if !qloras.isEmpty { memory += qloraBelowLoRA ? ", QLoRA < LoRA, as the book says." : ", QLoRA is NOT below LoRA (contradicts the book)." }
        lines.append(memory)
        let ratios = rows.map { Double($0.peakBytes) / max($0.estimate.total, 1) }
        lines.append("The memory equation is within " + percent((ratios.map { abs($0 - 1) }.max() ?? 0))
                     + " of the meter's peak for every method (measured / estimated: "
                     + ratios.map { String(format: "%.2f", $0) }.joined(separator: ", ") + ").")
        return lines
    }

    /// How large the two perplexity changes are next to the base's perplexity, in one computed clause:
    /// under 1% each, "neither moved far" — the comparison is then about small differences.
    static func forgettingScale(_ lora: Double, _ full: Double, base: Double) -> String {
        let largest = max(abs(lora), abs(full)) / base
        return largest < 0.01
            ? String(format: " Both changes are under 1%% of the base's perplexity (largest %.2f%%): at these rates neither method forgets much.", 100 * largest)
            : String(format: " The larger change is %.1f%% of the base's perplexity.", 100 * largest)
    }

    /// How far each fine-tune moved the linear weights, in one computed clause: the distance ratio, and
    /// whether it ranks the methods as their forgetting does ("" when either distance is missing).
    static func distanceClause(lora: Double?, full: Double?, loraForgotMore: Bool) -> String {
        guard let lora, let full, full > 0 else { return "" }
        let loraMovedMore = lora > full
        return String(format: " The linear weights moved %.2e (LoRA) and %.2e (full fine-tuning) of their norm, ‖ΔW‖/‖W‖: LoRA moved them %.1f× as far as full fine-tuning",
                      lora, full, lora / full)
            + (loraMovedMore == loraForgotMore ? " — the distance ranks the two as their forgetting does." : " — the distance does not explain the forgetting here.")
    }

    /// Prints the before/after answers, the table, memory against the equation, the conclusions and
    /// (with `config.json`) one JSON line per model.
    static func printReport(_ report: Report, shown: [SFTExample], config: Config, output: (String) -> Void) {
        output("Before and after, on three test prompts (✓ = exact match):")
        for (index, example) in shown.enumerated() {
            output("  \(index + 1). \(example.messages?.last { $0.role == "user" }?.content.split(separator: "\n").last ?? "")")
            output("     expected  \(example.response)")
            let answers = [("base", report.base.shownAnswers[index])] + report.rows.map { ($0.method, $0.scores.shownAnswers[index]) }
            for (label, answer) in answers {
                let mark = SFTTask.isCorrect(generated: answer, expected: example.response) ? "✓" : "✗"
                output("     \(mark) \(label.prefix(24).padding(toLength: 24, withPad: " ", startingAt: 0)) \(answer.replacingOccurrences(of: "\n", with: "⏎"))")
            }
        }
        output("")
        output("method                                  trainable      lr   exact match   perplexity  questions  ms/step  tok/s  peak MB (meter)  RSS MB")
        func line(_ label: String, trainable: String, rate: String, scores: Scores, step: String, speed: String, peak: String, rss: String) -> String {
            label.padding(toLength: 38, withPad: " ", startingAt: 0)
                + trainable.leftPadded(11) + rate.leftPadded(8)
                + String(format: "  %5.1f%% (n=%d)", 100 * scores.task.accuracy, scores.task.count).leftPadded(14)
                + String(format: "%.2f", scores.perplexity).leftPadded(13) + "\(scores.questionsCorrect)/\(scores.replies.count)".leftPadded(11)
                + step.leftPadded(9) + speed.leftPadded(7) + peak.leftPadded(17) + rss.leftPadded(8)
        }
        output(line("base (no training)", trainable: "0", rate: "—", scores: report.base, step: "—", speed: "—", peak: "—", rss: "—"))
        for row in report.rows {
            output(line(row.method, trainable: "\(row.trainable)", rate: String(format: "%.0e", row.learningRate), scores: row.scores,
                        step: String(format: "%.0f", row.millisecondsPerStep), speed: String(format: "%.0f", row.positionsPerSecond),
                        peak: mb(row.peakBytes), rss: mb(row.peakResidentBytes)))
        }
        output("\nPeak training memory by role, measured (meter) / estimated (the memory equation), MB:")
        output("(the meter's gradients are every gradient buffer alive at the peak: the parameters' and the activations';")
        output(" the equation's are the parameters' (4 B per trainable) + the logits' [B·T, V] fp32 gradient, shown as params + logits)")
        output("method                                  weights          gradients                      Adam states      activations")
        for row in report.rows {
            func pair(_ role: MemoryRole, _ estimate: Double, width: Int = 17) -> String {
                "\(mb(row.peakByRole[role] ?? 0)) / \(mb(estimate))".padding(toLength: width, withPad: " ", startingAt: 0)
            }
            let parameterGradients = 4 * Double(row.trainable)
            let gradients = "\(mb(row.peakByRole[.gradients] ?? 0)) / \(mb(row.estimate.gradients)) "
                + "(\(mb(parameterGradients)) + \(mb(row.estimate.gradients - parameterGradients)))"
            output(row.method.padding(toLength: 40, withPad: " ", startingAt: 0) + pair(.weights, row.estimate.weights)
                   + gradients.padding(toLength: 31, withPad: " ", startingAt: 0) + pair(.optimizerState, row.estimate.optimizerState)
                   + pair(.activations, row.estimate.activations))
        }
        output("\nConclusions (computed from the numbers above):")
        for sentence in report.conclusions { output("  • " + sentence) }
        output(String(format: "\nChapter 15 took %.0f s (%.1f min).", report.seconds, report.seconds / 60))
        guard config.json else { return }
        output("")
        output(jsonLine(["chapter": 15, "model": "base", "exact_match": report.base.task.accuracy, "test_examples": report.base.task.count,
                         "perplexity": report.base.perplexity, "questions_correct": report.base.questionsCorrect,
                         "padding_share": report.padding.plain, "padding_share_bucketed": report.padding.bucketed,
                         "parameters": report.parameters, "seconds": report.seconds]))
        for row in report.rows {
            var object: [String: Any] = [
                "chapter": 15, "model": row.method, "trainable": row.trainable, "learning_rate": Double(row.learningRate),
                "exact_match": row.scores.task.accuracy, "test_examples": row.scores.task.count, "perplexity": row.scores.perplexity,
                "perplexity_base": report.base.perplexity, "questions_correct": row.scores.questionsCorrect,
                "questions_unchanged": row.repliesUnchanged, "ms_per_step": row.millisecondsPerStep,
                "tokens_per_second": row.positionsPerSecond, "peak_bytes": row.peakBytes, "estimated_bytes": row.estimate.total,
                "final_loss": Double(row.finalLoss), "reached_validation_target": row.reachedTarget,
                "validation_target": report.validationTarget, "validation_examples": report.validationCount,
                "rates_tried": row.trials.map { Double($0.learningRate) },
                "validation_exact_match_tried": row.trials.map(\.validation.accuracy),
                "estimated_parameter_gradient_bytes": 4 * row.trainable,
            ]
            for role in MemoryRole.allCases { object["peak_\(role.rawValue)_bytes"] = row.peakByRole[role] ?? 0 }
            if let rss = row.peakResidentBytes { object["peak_rss_bytes"] = rss }
            if let validation = row.validationLoss { object["validation_loss"] = Double(validation) }
            if let distance = row.weightDistance { object["linear_weight_distance"] = distance }
            output(jsonLine(object))
        }
        for export in report.exports {
            output(jsonLine(["chapter": 15, "export": export.format, "of": "LoRA merged", "path": export.path,
                             "same_greedy_answers": export.same, "prompts": report.base.shownAnswers.count]))
        }
    }

    /// One JSON object on one line, keys sorted.
    static func jsonLine(_ object: [String: Any]) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }
}

extension String {
    /// Right-aligned in `width` columns (never cut).
    func leftPadded(_ width: Int) -> String { count >= width ? " " + self : String(repeating: " ", count: width - count) + self }
}
