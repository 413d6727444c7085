// Measure.swift — timing helpers shared by the benchmarks: medians, JSON lines.
import Foundation

enum Measure {
    /// Median wall-clock milliseconds of `repetitions` runs of `body` (after one warm-up run).
    static func medianMilliseconds(repetitions: Int, _ body: () -> Void) -> Double {
        body()
        var times: [Double] = []
        for _ in 0..<repetitions {
            let start = DispatchTime.now().uptimeNanoseconds
            body()
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
        }
        times.sort()
        return times[times.count / 2]
    }

    /// Prints one measurement as a JSON object on its own line.
    static func emitJSON(_ fields: [String: Any]) {
        if let data = try? JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys]) {
            print(String(decoding: data, as: UTF8.self))
        }
    }

    /// Left-aligned column.
    static func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count)
    }
}
