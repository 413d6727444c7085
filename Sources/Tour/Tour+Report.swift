// Tour+Report.swift — the tour's comparison as a text table and as a self-contained HTML page.
//
// Teaches: reporting a measurement so it can be checked — every number next to its unit, the memory
// split by role (weights, gradients, optimizer state, activations) at the moment of the peak, and the
// loss curves drawn from the training logs. The page has no external assets: SVG is inlined.
// Leaves out: interactivity, charts beyond lines and bars.
import Foundation
import Autodiff
import Training

extension Tour.Report {
    /// Memory roles in the order they are drawn, with their colours.
    static let roles: [(role: MemoryRole, name: String, colour: String)] = [
        (.weights, "weights", "#4e79a7"), (.gradients, "gradients", "#f28e2b"),
        (.optimizerState, "optimizer state", "#e15759"), (.activations, "activations", "#76b7b2"), (.other, "other", "#bab0ac"),
    ]

    /// The comparison as aligned text lines.
    public var table: [String] {
        let a = config.taskA.rawValue, b = config.taskB.rawValue
        var lines = ["method                          trainable        peak MB (w / g / opt / act)        ms/step   "
                     + "\(a.padding(toLength: 8, withPad: " ", startingAt: 0)) \(b.padding(toLength: 8, withPad: " ", startingAt: 0)) corpus loss"]
        for row in rows {
            let trainable = row.trainable == 0 ? "—" : String(format: "%d (%.1f%%)", row.trainable, 100 * Double(row.trainable) / Double(baseParameters))
            let memory = row.peakByRole.isEmpty ? "—" : String(format: "%.1f (%.1f / %.1f / %.1f / %.1f)", Double(row.peakBytes) / 1e6,
                                                                 megabytes(row, .weights), megabytes(row, .gradients),
                                                                 megabytes(row, .optimizerState), megabytes(row, .activations))
            let step = row.stepMilliseconds.map { String(format: "%.0f", $0) } ?? "—"
            lines.append(row.method.padding(toLength: 32, withPad: " ", startingAt: 0)
                         + trainable.padding(toLength: 17, withPad: " ", startingAt: 0)
                         + memory.padding(toLength: 35, withPad: " ", startingAt: 0)
                         + step.padding(toLength: 10, withPad: " ", startingAt: 0)
                         + String(format: "%5.0f%%   %5.0f%%   %.3f", row.accuracyA * 100, row.accuracyB * 100, row.corpusLoss))
        }
        return lines
    }

    func megabytes(_ row: Tour.Row, _ role: MemoryRole) -> Double { Double(row.peakByRole[role] ?? 0) / 1e6 }

    /// A standalone HTML page: the table, the training-loss curves, the peak memory by role.
    public var html: String {
        let colours = ["#4e79a7", "#f28e2b", "#e15759", "#59a14f", "#b07aa1"]
        let curves = rows.filter { !$0.lossCurve.isEmpty }.enumerated().map { index, row in
            Plots.Series(label: row.method, colour: colours[index % colours.count],
                         points: row.lossCurve.enumerated().map { (Double($0.offset + 1), Double($0.element)) })
        }
        let bars = rows.filter { !$0.peakByRole.isEmpty }.map { row in
            Plots.StackedBar(label: row.method, segments: Self.roles.map { ($0.name, Double(row.peakByRole[$0.role] ?? 0) / 1e6, $0.colour) })
        }
        let escapedTable = table.joined(separator: "\n").replacingOccurrences(of: "&", with: "&amp;")
            .replacingOccurrences(of: "<", with: "&lt;")
        return """
        <!DOCTYPE html>
        <html><head><meta charset="utf-8"><title>TinyTune tour</title>
        <style>body { font-family: sans-serif; max-width: 980px; margin: 2em auto; } pre { font-size: 12px; }</style></head>
        <body>
        <h1>TinyTune tour</h1>
        <p>One base model (\(baseParameters) parameters), fine-tuned on <b>\(config.taskA.rawValue)</b> three ways,
        and a second full fine-tune on <b>\(config.taskB.rawValue)</b> merged with the first. Accuracy is exact match
        on \(config.testExamples) held-out examples per task; corpus loss is the next-token loss on the pretraining
        text's validation split (higher = more forgetting). Peak memory is measured by the memory meter, split by
        role at the moment of the peak.</p>
        <pre>\(escapedTable)</pre>
        <h2>Training loss</h2>
        \(Plots.svg(title: "training loss per step", series: curves, xLabel: "step", yLabel: "loss"))
        <h2>Peak training memory by role</h2>
        \(Plots.stackedBars(title: "peak memory (MB)", bars: bars, unit: "MB"))
        </body></html>
        """
    }

    /// Writes the HTML page atomically to `url` (creating the folder).
    public func writeHTML(to url: URL) throws {
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(html.utf8).write(to: url, options: .atomic)
    }
}
