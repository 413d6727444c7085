// Tour+Conclusions.swift — what the tour's table shows, in sentences computed from its rows.
//
// Teaches: a conclusion is a measurement too. Each sentence compares two rows of the table (LoRA and
// QLoRA against full fine-tuning at the same budget; each merge against the better of its parts) and
// says plainly when the numbers contradict the book — it is never a fixed string.
// Leaves out: error bars (one seeded run per row).
import Foundation
import Training
import Experiments

extension Tour.Report {
    /// The budget line: steps × batch of the full fine-tunes and of the adapters, whether they are equal, and the generalist's.
    public var budget: String {
        let (full, adapter) = (config.fullRecipe, config.adapterRecipe)
        let equal = full.steps * full.batchSize == adapter.steps * adapter.batchSize
        return "Budget: full fine-tuning \(full.steps) steps × \(full.batchSize) (lr \(full.learningRate)); LoRA and QLoRA \(adapter.steps) steps × "
            + "\(adapter.batchSize) (lr \(adapter.learningRate)) — " + (equal ? "the same number of training examples" : "NOT the same budget")
            + "; the generalist \(config.generalistRecipe.steps) steps × \(config.generalistRecipe.batchSize) on A ∪ B; every fine-tune's examples: " + (config.replay.map { $0.description } ?? "the task alone, no replay") + "."
    }

    /// The closing sentences, computed from the rows (an empty list when a row is missing).
    public var conclusions: [String] {
        func find(_ prefix: String) -> Tour.Row? { rows.first { $0.method.hasPrefix(prefix) } }
        guard let base = find("base model"), let full = find("full fine-tuning on A") else { return [] }
        var lines: [String] = []
        for adapter in [find("LoRA"), find("QLoRA")].compactMap({ $0 }) {
            guard full.accuracyA > 0 else { lines.append("Full fine-tuning scored 0% on A: nothing to compare \(adapter.method) against."); continue }
            let ratio = adapter.accuracyA / full.accuracyA
            let losses = String(format: "corpus loss %.3f vs %.3f", adapter.corpusLoss, full.corpusLoss)
            let forgetting = switch CorpusLossComparison(adapter.corpusLoss, versus: full.corpusLoss) {
            case .lower: "and forgot less (\(losses))"
            case .aboutTheSame: "and forgot about as much (\(losses), within 0.01)"
            case .higher: "but did NOT forget less (\(losses))"
            }
            lines.append(String(format: "%@ reached %.0f%% of full fine-tuning's score on A (%.0f%% vs %.0f%%) training %.1f%% of the parameters, %@.",
                                adapter.method, ratio * 100, adapter.accuracyA * 100, full.accuracyA * 100,
                                100 * Double(adapter.trainable) / Double(baseParameters), forgetting))
        }
        let wrecked = rows.filter { Double($0.corpusLoss) > unigramBaseline }.map(\.method)
        lines.append(wrecked.isEmpty
            ? String(format: "Every row kept the corpus loss below the unigram baseline %.3f (base %.3f; highest %.3f).", unigramBaseline,
                     base.corpusLoss, rows.map(\.corpusLoss).max() ?? 0)
            : String(format: "Corpus loss above the unigram baseline %.3f (base %.3f; the base's general ability lost): ", unigramBaseline,
                     base.corpusLoss) + wrecked.joined(separator: ", ") + ".")
        // Each merge against the better of the two models it merged (the rows just before it).
        for (index, row) in rows.enumerated() where row.method.hasPrefix("merge") && index >= 2 {
            let parts = row.method.hasPrefix("merge of the last two") ? [rows[index - 2], rows[index - 1]] : [full, rows[index - 1]]
            let union = (row.accuracyA + row.accuracyB) / 2
            let best = parts.map { ($0.accuracyA + $0.accuracyB) / 2 }.max() ?? 0
            lines.append(String(format: "%@: %.0f%% on A ∪ B vs %.0f%% for the better of its parts — %@.", row.method, union * 100, best * 100,
                                union > best + 0.02 ? "it keeps more of both skills than either part" : "it does not beat its parts"))
        }
        return lines
    }
}
