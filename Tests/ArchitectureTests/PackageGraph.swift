// PackageGraph.swift — the module graph twice: as Package.swift declares it and as the files import it.
//
// Teaches: a dependency list is a claim about the code, and claims drift. This reads Package.swift as
// text (every `.target`, `.executableTarget` and `.testTarget` with its name, path, excludes and
// `dependencies:`) and the `import` lines of every Swift file each target compiles, so the tests can
// compare the two. It runs no SwiftPM command (that would lock the build directory `swift test` holds).
// Leaves out: conditional target dependencies and products of other packages (TinyTune has none).
import Foundation

/// One target of Package.swift and the modules its files import.
struct PackageTarget {
    enum Kind: String { case library = "target", executable = "executableTarget", test = "testTarget" }
    let name: String
    let kind: Kind
    /// `dependencies:` in the order written.
    let declared: [String]
    /// Folders (relative to the package root) whose Swift files the target compiles.
    let paths: [String]
    let excluded: [String]
    /// Module names imported by those files (`import X`, `@testable import X`), self-imports left out.
    let imported: Set<String>
}

/// Package.swift's targets, in the order declared, with their imports.
struct PackageGraph {
    /// Modules that are not targets of this package and may be imported anyway.
    static let platformModules: Set<String> = ["Foundation", "Dispatch", "Testing", "XCTest", "Glibc", "Musl", "Darwin",
                                               "Synchronization", "PackageDescription"]

    let root: URL
    let targets: [PackageTarget]

    /// The package that contains this file (three folders up: Tests/ArchitectureTests/PackageGraph.swift).
    static func load(root: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
                        .deletingLastPathComponent().deletingLastPathComponent()) throws -> PackageGraph {
        let manifest = try String(contentsOf: root.appendingPathComponent("Package.swift"), encoding: .utf8)
        let declaration = try NSRegularExpression(pattern: #"\.(target|executableTarget|testTarget)\(\s*name:\s*"([^"]+)""#)
        let whole = NSRange(manifest.startIndex..., in: manifest)
        let matches = declaration.matches(in: manifest, range: whole)
        var targets: [PackageTarget] = []
        for (index, match) in matches.enumerated() {
            // A target's text runs to the next declaration (or the end of the file).
            let end = index + 1 < matches.count ? matches[index + 1].range.location : whole.length
            let text = (manifest as NSString).substring(with: NSRange(location: match.range.location, length: end - match.range.location))
            let kind = PackageTarget.Kind(rawValue: (manifest as NSString).substring(with: match.range(at: 1)))!
            let name = (manifest as NSString).substring(with: match.range(at: 2))
            let declared = quoted(in: firstList(named: "dependencies", in: text) ?? "")
            let excluded = quoted(in: firstList(named: "exclude", in: text) ?? "")
            var paths: [String]
            if text.contains("path: workbookPath") {
                paths = ["Exercises", "Solutions"]    // SOLUTIONS=1 swaps the folder; both must import the same
            } else if let path = firstMatch(#"path:\s*"([^"]+)""#, in: text) {
                paths = [path]
            } else {
                paths = [(kind == .test ? "Tests/" : "Sources/") + name]
            }
            var imported = Set<String>()
            for path in paths {
                imported.formUnion(try imports(under: root.appendingPathComponent(path), excluding: excluded))
            }
            imported.remove(name)
            targets.append(PackageTarget(name: name, kind: kind, declared: declared, paths: paths, excluded: excluded, imported: imported))
        }
        return PackageGraph(root: root, targets: targets)
    }

    /// Position of each target in Package.swift.
    var order: [String: Int] { Dictionary(uniqueKeysWithValues: targets.enumerated().map { ($1.name, $0) }) }

    /// The modules imported by the Swift files under `folder` (sub-folders named in `excluding` skipped).
    static func imports(under folder: URL, excluding: [String]) throws -> Set<String> {
        var modules = Set<String>()
        guard let files = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: nil) else { return modules }
        for case let file as URL in files where file.pathExtension == "swift" {
            let relative = file.path.dropFirst(folder.path.count + 1)
            if excluding.contains(where: { relative.hasPrefix($0 + "/") }) { continue }
            for line in try String(contentsOf: file, encoding: .utf8).split(separator: "\n") {
                if let module = firstMatch(#"^\s*(?:@testable\s+)?import\s+(\w+)"#, in: String(line)) { modules.insert(module) }
            }
        }
        return modules
    }

    /// The bracketed text after `name:` (e.g. a dependency list), without the brackets.
    static func firstList(named name: String, in text: String) -> String? {
        firstMatch(name + #":\s*\[([^\]]*)\]"#, in: text)
    }

    /// Every double-quoted string in `text`.
    static func quoted(in text: String) -> [String] {
        let regex = try! NSRegularExpression(pattern: #""([^"]+)""#)
        return regex.matches(in: text, range: NSRange(text.startIndex..., in: text)).map { (text as NSString).substring(with: $0.range(at: 1)) }
    }

    /// The first capture group of `pattern` in `text`.
    static func firstMatch(_ pattern: String, in text: String) -> String? {
        let regex = try! NSRegularExpression(pattern: pattern)
        guard let match = regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) else { return nil }
        return (text as NSString).substring(with: match.range(at: 1))
    }
}
