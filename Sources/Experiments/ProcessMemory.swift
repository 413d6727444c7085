// ProcessMemory.swift — what the operating system says the process uses: resident set size (RSS).
//
// Teaches: the memory meter counts the tensors our code allocates, by role; the OS counts everything —
// the allocator's slack, the memory-mapped model file, buffers outside the meter, other models still
// alive. A table that shows both makes the gap visible instead of hiding it. On Linux the current RSS
// is `VmRSS` in /proc/self/status and the peak `VmHWM`; writing "5" to /proc/self/clear_refs resets the
// peak to the current RSS, so each run of a table gets its own peak.
// Leaves out: macOS (mach task_info) and Windows — the figures are then nil and printed as "n/a".
import Foundation

/// Process-level memory figures (caseless namespace).
public enum ProcessMemory {
    /// Current resident bytes (VmRSS), nil where /proc is unavailable.
    public static func residentBytes() -> Int? { statusField("VmRSS") }

    /// Peak resident bytes since the last `resetPeak` (VmHWM), nil where /proc is unavailable.
    public static func peakResidentBytes() -> Int? { statusField("VmHWM") }

    /// Resets the peak to the current RSS (Linux ≥ 4.0); does nothing where that is not possible.
    public static func resetPeak() {
        guard let handle = FileHandle(forWritingAtPath: "/proc/self/clear_refs") else { return }
        defer { try? handle.close() }
        try? handle.write(contentsOf: Data("5".utf8))
    }

    /// A "Name:   1234 kB" line of /proc/self/status, in bytes.
    static func statusField(_ name: String) -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix(name + ":") {
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard fields.count >= 2, let kilobytes = Int(fields[1]) else { return nil }
            return kilobytes * 1024
        }
        return nil
    }
}
