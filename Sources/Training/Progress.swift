// Progress.swift — a progress bar on a terminal, plain lines elsewhere; and the loss log files.
//
// Teaches: nothing deep — but a learner watching a run needs to see it move, and a log that a
// plot (or a spreadsheet) can read afterwards.
// Each update shows the time left (the mean step time so far × the steps left) and the throughput in
// positions per second (B·T per step: what the model actually ran on, padding included).
// Leaves out: ETA smoothing, colours.
import Foundation

/// Prints training progress: a redrawn bar on a TTY, a line every `every` steps otherwise.
public final class ProgressReporter {
    let label: String
    let isTerminal: Bool
    let every: Int
    let write: (String) -> Void
    /// Milliseconds and positions of the steps seen so far (for the ETA and tokens per second).
    var elapsedMilliseconds: Double = 0, positionsSeen = 0, stepsSeen = 0

    /// A reporter writing to standard output (detecting a terminal) unless `write` is given.
    public init(label: String, every: Int = 10, write: ((String) -> Void)? = nil) {
        self.label = label
        self.every = max(every, 1)
        isTerminal = write == nil && isatty(STDOUT_FILENO) == 1
        self.write = write ?? { text in FileHandle.standardOutput.write(Data(text.utf8)) }
    }

    /// Shows step `step` of `total` with the entry's figures.
    public func update(step: Int, of total: Int, entry: TrainingLogEntry) {
        elapsedMilliseconds += entry.milliseconds
        positionsSeen += entry.positions ?? 0
        stepsSeen += 1
        let figures = String(format: "loss %.4f  lr %.2e  |g| %.3f", entry.loss, entry.learningRate, entry.gradientNorm)
            + (entry.validationLoss.map { String(format: "  val %.4f", $0) } ?? "")
            + "  " + ProgressReporter.speed(elapsedMilliseconds: elapsedMilliseconds, positions: positionsSeen,
                                            stepsDone: stepsSeen, stepsLeft: max(total - step, 0))
        if isTerminal {
            let width = 30, filled = total == 0 ? width : width * step / total
            let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
            write("\r\(label) [\(bar)] \(step)/\(total)  \(figures)\u{1B}[K")
        } else if step % every == 0 || step == total || entry.validationLoss != nil {
            write("\(label) step \(step)/\(total)  \(figures)\n")
        }
    }

    /// "1.2 s/step  340 tok/s  ETA 2m05s" from the totals so far (tok/s omitted when positions are unknown).
    public static func speed(elapsedMilliseconds: Double, positions: Int, stepsDone: Int, stepsLeft: Int) -> String {
        let perStep = elapsedMilliseconds / Double(max(stepsDone, 1))
        let seconds = Int((perStep * Double(stepsLeft) / 1000).rounded())
        let eta = seconds >= 60 ? String(format: "%dm%02ds", seconds / 60, seconds % 60) : "\(seconds)s"
        let rate = positions > 0 && elapsedMilliseconds > 0
            ? String(format: "  %.0f tok/s", Double(positions) / (elapsedMilliseconds / 1000)) : ""
        let step = perStep >= 1000 ? String(format: "%.2f s/step", perStep / 1000) : String(format: "%.0f ms/step", perStep)
        return step + rate + "  ETA " + eta
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
