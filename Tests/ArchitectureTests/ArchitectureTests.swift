// ArchitectureTests.swift — the module map tells the truth: declarations, imports, the README, the chapters.
//
// Teaches: keeping documentation honest by testing it. Four claims, each checked from the files:
// 1. Package.swift lists exactly the modules each target's files import — no more, no fewer.
// 2. The declared graph points down: every dependency is declared above its user (reading order), and
//    the fine-tuning methods stay independent of full fine-tuning and of the experiments.
// 3. The README's module table is the graph: one row per library module under Sources/, in
//    Package.swift's order, with its imports.
// 4. The README's chapter table, `swift run chapters` (ChapterCatalogue) and the chapters' file headers agree.
// When one fails, the message says which file to fix; Package.swift is the one place a new import is declared.
// Leaves out: checking what a module *uses* beyond its import lines (Swift already refuses undeclared names).
import Foundation
import Testing
import ChapterCatalogue

@Suite struct ArchitectureTests {
    let graph: PackageGraph

    init() throws { graph = try PackageGraph.load() }

    @Test func packageDeclaresExactlyWhatEachTargetImports() {
        let targetNames = Set(graph.targets.map(\.name))
        for target in graph.targets {
            let declared = Set(target.declared)
            let internalImports = target.imported.intersection(targetNames)
            let missing = internalImports.subtracting(declared).sorted()
            let unused = declared.subtracting(internalImports).sorted()
            let foreign = target.imported.subtracting(targetNames).subtracting(PackageGraph.platformModules).sorted()
            #expect(missing.isEmpty, "Package.swift: \(target.name) imports \(missing) — add them to its dependencies")
            #expect(unused.isEmpty, "Package.swift: \(target.name) declares \(unused) but no file under \(target.paths) imports them — remove them")
            #expect(foreign.isEmpty, "\(target.name) imports \(foreign), which are neither targets nor platform modules (no package dependencies)")
            #expect(declared.count == target.declared.count, "Package.swift: \(target.name) lists a dependency twice: \(target.declared)")
        }
    }

    @Test func dependenciesPointDownInReadingOrder() {
        let order = graph.order
        for target in graph.targets {
            for dependency in target.declared {
                guard let position = order[dependency] else {
                    Issue.record("Package.swift: \(target.name) depends on \(dependency), which is not a target")
                    continue
                }
                #expect(position < order[target.name]!, "Package.swift: \(target.name) depends on \(dependency), declared below it — move \(dependency) up")
            }
        }
    }

    @Test func methodModulesStayIndependent() {
        let declared = Dictionary(uniqueKeysWithValues: graph.targets.map { ($0.name, Set($0.declared)) })
        // PEFT sits on the model, not on other fine-tuning methods.
        #expect(declared["PEFT", default: []].isSubset(of: ["Kernels", "Autodiff", "NN", "Checkpoints"]),
                "PEFT depends on \(declared["PEFT", default: []].sorted())")
        for method in ["PEFT", "Quantization", "Merging"] {
            #expect(declared[method, default: []].isDisjoint(with: ["FullFineTuning", "Experiments", "Tour"]),
                    "\(method) must not depend on full fine-tuning or the experiments: \(declared[method, default: []].sorted())")
        }
    }

    @Test func readmeModuleTableIsTheGraph() throws {
        let rows = try table(in: readme(), header: "| Module | Imports |")
        let libraries = graph.targets.filter { $0.kind == .library && $0.paths == ["Sources/" + $0.name] }
        #expect(rows.map { $0[0].trimmingCharacters(in: ["`"]) } == libraries.map(\.name),
                "README.md: the module table must list every library under Sources/ in Package.swift's order")
        for (row, target) in zip(rows, libraries) {
            let listed = row[1] == "—" ? [] : row[1].components(separatedBy: ", ")
            #expect(listed == target.declared, "README.md: \(target.name) imports \(target.declared), the table says \(listed)")
        }
    }

    @Test func chapterCatalogueReadmeAndHeadersAgree() throws {
        let rows = try table(in: readme(), header: "| Chapter | Title |")
        let chapters = ChapterCatalogue.chapters
        #expect(rows.count == chapters.count, "README.md lists \(rows.count) chapters, ChapterCatalogue \(chapters.count)")
        for (row, chapter) in zip(rows, chapters) {
            #expect(row == ["\(chapter.number)", chapter.title, chapter.claim, "`\(chapter.executable)`"],
                    "README.md's row for chapter \(chapter.number) differs from ChapterCatalogue.swift")
        }
        let folders = try FileManager.default.contentsOfDirectory(atPath: graph.root.appendingPathComponent("Chapters").path)
            .filter { $0.hasPrefix("Chapter") }.sorted()
        #expect(folders == chapters.map(\.name), "Chapters/ holds \(folders); ChapterCatalogue lists \(chapters.map(\.name))")
        for chapter in chapters {
            let file = graph.root.appendingPathComponent("Chapters/\(chapter.name)/\(chapter.name).swift")
            let header = try String(contentsOf: file, encoding: .utf8).prefix { $0 != "\n" }
            #expect(header.lowercased().contains("chapter \(chapter.number): \(chapter.title.lowercased())"),
                    "\(chapter.name).swift opens with \"\(header)\"; ChapterCatalogue's title is \"\(chapter.title)\"")
            #expect(graph.targets.contains { $0.name == chapter.executable && $0.kind == .executable },
                    "Package.swift has no executable \(chapter.executable)")
        }
    }

    /// README.md's text.
    func readme() throws -> String {
        try String(contentsOf: graph.root.appendingPathComponent("README.md"), encoding: .utf8)
    }

    /// The cells of the markdown table whose header row starts with `header` (header and rule left out).
    func table(in text: String, header: String) throws -> [[String]] {
        let lines = text.components(separatedBy: "\n")
        guard let start = lines.firstIndex(where: { $0.hasPrefix(header) }) else {
            Issue.record("README.md has no table starting \(header)")
            return []
        }
        return lines[(start + 2)...].prefix { $0.hasPrefix("|") }.map { line in
            line.split(separator: "|", omittingEmptySubsequences: false).dropFirst().dropLast()
                .map { $0.trimmingCharacters(in: .whitespaces) }
        }
    }
}
