// TensorNameMap+Validation — compare a checkpoint's tensors with the expected names and shapes.
//
// What this file teaches: report *all* problems at once. A loader that stops at the first missing
// tensor makes the user fix errors one run at a time; a report listing every missing, unexpected
// and mis-shaped tensor shows the pattern (a wrong prefix, a wrong layer count, a transposed
// weight) in one glance.
//
// What it leaves out: dtype checks (any dtype `floats(of:)` converts is acceptable to a loader).

import Foundation

extension TensorNameMap {
    /// A tensor present under an expected name but with another shape.
    public struct ShapeMismatch: Sendable, Hashable {
        /// Canonical name (as in the map).
        public var name: String
        /// Name as stored in the file (possibly with a prefix).
        public var fileName: String
        /// Shape the map expects.
        public var expected: [Int]
        /// Shape found in the file.
        public var actual: [Int]
    }

    /// The outcome of a validation: empty lists mean the file matches the map.
    public struct Report: Sendable, Equatable, CustomStringConvertible {
        /// Required canonical names the file lacks, in map order.
        public var missing: [String]
        /// File names that match no required, optional or ignored name, sorted.
        public var unexpected: [String]
        /// Expected tensors with the wrong shape, in map order.
        public var wrongShapes: [ShapeMismatch]
        /// Canonical name → name in the file, for every matched required or optional tensor.
        public var fileNames: [String: String]

        /// True when nothing is missing, unexpected or mis-shaped.
        public var isValid: Bool { missing.isEmpty && unexpected.isEmpty && wrongShapes.isEmpty }

        /// One line per problem (at most 20 per kind), or "checkpoint matches".
        public var description: String {
            if isValid { return "checkpoint matches (\(fileNames.count) tensors)" }
            var lines: [String] = []
            func list(_ title: String, _ items: [String]) {
                guard !items.isEmpty else { return }
                lines.append("\(title) (\(items.count)):")
                lines += items.prefix(20).map { "  " + $0 }
                if items.count > 20 { lines.append("  … and \(items.count - 20) more") }
            }
            list("missing", missing)
            list("unexpected", unexpected)
            list("wrong shape", wrongShapes.map { "\($0.fileName): expected \($0.expected), found \($0.actual)" })
            return lines.joined(separator: "\n")
        }
    }

    /// Thrown by `HFCheckpoint` when a file does not match the map; `file` names the checkpoint.
    public struct Mismatch: Swift.Error, CustomStringConvertible {
        /// The checkpoint file that failed.
        public var file: String
        /// Every problem found.
        public var report: Report
        /// The file name followed by the report.
        public var description: String { "\(file) does not match the expected tensors:\n\(report)" }
    }

    /// Thrown by `HFCheckpoint` when the config declares more layers than the file has tensors for.
    public struct TooFewTensors: Swift.Error, CustomStringConvertible {
        /// The checkpoint file.
        public var file: String
        /// The config's layer count.
        public var layers: Int
        /// Tensors those layers need (nil: more than `Int` can count).
        public var needed: Int?
        /// Tensors in the file.
        public var present: Int
        /// One line naming the file and both counts.
        public var description: String {
            "\(file): the config declares \(layers) layers, which need \(needed.map(String.init) ?? "more than 2⁶³") tensors; "
                + "the file has \(present)"
        }
    }

    /// Validates a name → shape table (the shapes of a safetensors header, or of anything else).
    public func validate(shapes: [String: [Int]]) -> Report {
        let expected = Dictionary(uniqueKeysWithValues: (required + optional).map { ($0.name, $0.shape) })
        var fileNames: [String: String] = [:]
        var unexpected: [String] = []
        // Map every file name to a canonical one: as is, or with an accepted prefix removed.
        for fileName in shapes.keys.sorted() {
            let candidates = [fileName] + strippablePrefixes.filter { fileName.hasPrefix($0) }.map { String(fileName.dropFirst($0.count)) }
            if candidates.contains(where: ignored.contains) { continue }
            guard let canonical = candidates.first(where: { expected[$0] != nil }), fileNames[canonical] == nil else {
                unexpected.append(fileName)
                continue
            }
            fileNames[canonical] = fileName
        }
        let missing = required.map(\.name).filter { fileNames[$0] == nil }
        let wrongShapes = (required + optional).compactMap { entry -> ShapeMismatch? in
            guard let fileName = fileNames[entry.name], let actual = shapes[fileName], actual != entry.shape else { return nil }
            return ShapeMismatch(name: entry.name, fileName: fileName, expected: entry.shape, actual: actual)
        }
        return Report(missing: missing, unexpected: unexpected, wrongShapes: wrongShapes, fileNames: fileNames)
    }
}

extension SafeTensors.File {
    /// Checks this file's tensor names and shapes against `map`.
    public func validate(against map: TensorNameMap) -> TensorNameMap.Report {
        map.validate(shapes: tensors.mapValues(\.shape))
    }
}
