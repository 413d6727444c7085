// Progress.swift — a progress bar on a terminal, plain lines elsewhere; and the loss log files.
//
// Teaches: nothing deep — but a learner watching a run needs to see it move, and a log that a
// plot (or a spreadsheet) can read afterwards.
// Leaves out: ETA smoothing, colours.
import Foundation

/// Prints training progress: a redrawn bar on a TTY, a line every `every` steps otherwise.
public final class ProgressReporter {
    let label: String
    let isTerminal: Bool
    let every: Int
    let write: (String) -> Void

    /// A reporter writing to standard output (detecting a terminal) unless `write` is given.
    public init(label: String, every: Int = 10, write: ((String) -> Void)? = nil) {
        self.label = label
        self.every = max(every, 1)
        isTerminal = write == nil && isatty(STDOUT_FILENO) == 1
        self.write = write ?? { text in FileHandle.standardOutput.write(Data(text.utf8)) }
    }

    /// Shows step `step` of `total` with the entry's figures.
    public func update(step: Int, of total: Int, entry: TrainingLogEntry) {
        let figures = String(format: "loss %.4f  lr %.2e  |g| %.3f", entry.loss, entry.learningRate, entry.gradientNorm)
            + (entry.validationLoss.map { String(format: "  val %.4f", $0) } ?? "")
        if isTerminal {
            let width = 30, filled = total == 0 ? width : width * step / total
            let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
            write("\r\(label) [\(bar)] \(step)/\(total)  \(figures)\u{1B}[K")
        } else if step % every == 0 || step == total || entry.validationLoss != nil {
            write("\(label) step \(step)/\(total)  \(figures)\n")
        }
    }

    /// Ends the bar's line.
    public func finish() { if isTerminal { write("\n") } }
}

/// Writing the training log (caseless namespace).
public enum TrainingLogFile {
    /// The log as CSV: step,loss,learning_rate,gradient_norm,validation_loss,tokens,milliseconds.
    public static func csv(_ log: [TrainingLogEntry]) -> String {
        var lines = ["step,loss,learning_rate,gradient_norm,validation_loss,tokens,milliseconds"]
        for e in log {
            lines.append("\(e.step),\(e.loss),\(e.learningRate),\(e.gradientNorm),\(e.validationLoss.map { "\($0)" } ?? ""),\(e.tokens),\(e.milliseconds)")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Writes the log as CSV (`.csv`) or JSON (any other extension), atomically.
    public static func write(_ log: [TrainingLogEntry], to url: URL) throws {
        let data: Data
        if url.pathExtension == "csv" {
            data = Data(csv(log).utf8)
        } else {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            data = try encoder.encode(log)
        }
        try data.write(to: url, options: .atomic)
    }
}
