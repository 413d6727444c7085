// Plots.swift — loss curves as a standalone SVG file and as a sketch in the terminal.
//
// Teaches: look at the curve. A loss that falls fast then flattens, a validation loss that turns up
// (overfitting), a spike (learning rate too high) — all are obvious in a picture and invisible in a
// table of numbers.
// Leaves out: axes with nice tick values, legends beyond a label per series, interactivity.
import Foundation

/// Line plots without external assets (caseless namespace).
public enum Plots {
    /// One line: a label, a colour, and (x, y) points.
    public struct Series: Sendable {
        public var label: String
        public var colour: String
        public var points: [(x: Double, y: Double)]
        /// A series.
        public init(label: String, colour: String, points: [(x: Double, y: Double)]) {
            self.label = label
            self.colour = colour
            self.points = points
        }
    }

    /// An SVG document with the series drawn in a `width`×`height` box, axes labelled with their ranges.
    public static func svg(title: String, series: [Series], xLabel: String, yLabel: String,
                           width: Int = 640, height: Int = 360) -> String {
        let all = series.flatMap(\.points)
        guard let minX = all.map(\.x).min(), let maxX = all.map(\.x).max(),
              let minY = all.map(\.y).min(), let maxY = all.map(\.y).max() else {
            return "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(width)\" height=\"\(height)\"></svg>"
        }
        let (left, right, top, bottom) = (60.0, 20.0, 30.0, 40.0)
        let plotWidth = Double(width) - left - right, plotHeight = Double(height) - top - bottom
        func px(_ x: Double) -> Double { left + (maxX == minX ? 0.5 : (x - minX) / (maxX - minX)) * plotWidth }
        func py(_ y: Double) -> Double { top + (maxY == minY ? 0.5 : 1 - (y - minY) / (maxY - minY)) * plotHeight }
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(width)\" height=\"\(height)\" font-family=\"sans-serif\" font-size=\"12\">\n"
        svg += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
        svg += "<text x=\"\(left)\" y=\"18\" font-size=\"14\">\(escape(title))</text>\n"
        svg += "<line x1=\"\(left)\" y1=\"\(top + plotHeight)\" x2=\"\(left + plotWidth)\" y2=\"\(top + plotHeight)\" stroke=\"black\"/>\n"
        svg += "<line x1=\"\(left)\" y1=\"\(top)\" x2=\"\(left)\" y2=\"\(top + plotHeight)\" stroke=\"black\"/>\n"
        svg += String(format: "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"end\">%.3g</text>\n", left - 4, top + 4, maxY)
        svg += String(format: "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"end\">%.3g</text>\n", left - 4, top + plotHeight, minY)
        svg += String(format: "<text x=\"%.0f\" y=\"%.0f\">%.0f</text>\n", left, top + plotHeight + 16, minX)
        svg += String(format: "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"end\">%.0f</text>\n", left + plotWidth, top + plotHeight + 16, maxX)
        svg += "<text x=\"\(left + plotWidth / 2)\" y=\"\(Double(height) - 6)\" text-anchor=\"middle\">\(escape(xLabel))</text>\n"
        svg += "<text x=\"14\" y=\"\(top + plotHeight / 2)\" transform=\"rotate(-90 14 \(top + plotHeight / 2))\" text-anchor=\"middle\">\(escape(yLabel))</text>\n"
        for (index, line) in series.enumerated() {
            let path = line.points.map { String(format: "%.1f,%.1f", px($0.x), py($0.y)) }.joined(separator: " ")
            svg += "<polyline fill=\"none\" stroke=\"\(line.colour)\" stroke-width=\"1.5\" points=\"\(path)\"/>\n"
            svg += "<text x=\"\(left + plotWidth - 150)\" y=\"\(top + 16 + 16 * Double(index))\" fill=\"\(line.colour)\">\(escape(line.label))</text>\n"
        }
        return svg + "</svg>\n"
    }

    /// A `height`-row character sketch of `values` (downsampled to `width` columns), min and max marked.
    public static func terminalSketch(_ values: [Double], width: Int = 60, height: Int = 10) -> [String] {
        guard let low = values.min(), let high = values.max(), !values.isEmpty else { return [] }
        let columns = (0..<min(width, values.count)).map { column -> Double in
            let start = column * values.count / min(width, values.count)
            let end = max((column + 1) * values.count / min(width, values.count), start + 1)
            return values[start..<end].reduce(0, +) / Double(end - start)
        }
        var grid = [[Character]](repeating: [Character](repeating: " ", count: columns.count), count: height)
        for (column, value) in columns.enumerated() {
            let level = high == low ? 0 : Int(((value - low) / (high - low) * Double(height - 1)).rounded())
            grid[height - 1 - level][column] = "•"
        }
        return grid.enumerated().map { row, characters in
            let label = row == 0 ? String(format: "%7.3f ┤", high) : row == height - 1 ? String(format: "%7.3f ┤", low) : "        │"
            return label + String(characters)
        }
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }
}

extension Plots {
    /// One horizontal bar made of coloured segments (e.g. memory by role).
    public struct StackedBar: Sendable {
        public var label: String
        /// (segment name, value, colour), drawn left to right.
        public var segments: [(name: String, value: Double, colour: String)]
        /// A bar.
        public init(label: String, segments: [(name: String, value: Double, colour: String)]) {
            self.label = label
            self.segments = segments
        }
    }

    /// An SVG of horizontal stacked bars sharing one scale, each with its total, and a legend of segments.
    public static func stackedBars(title: String, bars: [StackedBar], unit: String, width: Int = 640) -> String {
        let rowHeight = 26.0, left = 170.0, right = 90.0, top = 50.0
        let height = Int(top + rowHeight * Double(bars.count) + 20)
        let maxTotal = max(bars.map { $0.segments.map(\.value).reduce(0, +) }.max() ?? 1, 1e-12)
        let scale = (Double(width) - left - right) / maxTotal
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(width)\" height=\"\(height)\" font-family=\"sans-serif\" font-size=\"12\">\n"
        svg += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n<text x=\"10\" y=\"18\" font-size=\"14\">\(escape(title))</text>\n"
        // Legend from the first bar's segment names and colours.
        var x = 10.0
        for segment in bars.first?.segments ?? [] {
            svg += String(format: "<rect x=\"%.0f\" y=\"26\" width=\"12\" height=\"12\" fill=\"%@\"/>", x, segment.colour)
            svg += String(format: "<text x=\"%.0f\" y=\"36\">%@</text>\n", x + 16, escape(segment.name))
            x += 24 + 7 * Double(segment.name.count)
        }
        for (row, bar) in bars.enumerated() {
            let y = top + rowHeight * Double(row)
            svg += String(format: "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"end\">%@</text>\n", left - 6, y + 15, escape(bar.label))
            var offset = left
            for segment in bar.segments where segment.value > 0 {
                svg += String(format: "<rect x=\"%.1f\" y=\"%.0f\" width=\"%.1f\" height=\"18\" fill=\"%@\"/>\n",
                              offset, y + 2, segment.value * scale, segment.colour)
                offset += segment.value * scale
            }
            svg += String(format: "<text x=\"%.1f\" y=\"%.0f\">%.3g %@</text>\n", offset + 6, y + 15,
                          bar.segments.map(\.value).reduce(0, +), escape(unit))
        }
        return svg + "</svg>\n"
    }
}
