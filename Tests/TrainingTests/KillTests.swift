// KillTests.swift — `kill -9` at random moments while a directory or a training checkpoint is being
// saved. After every kill the directory holds the old complete state or the new one, never a mix and
// never nothing; and a run resumed after each kill ends with losses bitwise equal to a run that was
// never interrupted (AdamW and 8-bit AdamW). The saving process is Tests/KillHelper.
import Foundation
import Kernels
import Testing
import Autodiff
import NN
import Checkpoints
import Tokenizers
import TestSupport

/// The kill-helper executable, built next to the test bundle by `swift build` / `swift test`.
enum KillHelper {
    static let url: URL? = {
        var directories: [URL] = []
        if let first = CommandLine.arguments.first { directories.append(URL(fileURLWithPath: first).deletingLastPathComponent()) }
        directories.append(Bundle.main.bundleURL)
        directories.append(Bundle.main.bundleURL.deletingLastPathComponent())
        return directories.map { $0.appendingPathComponent("kill-helper") }
            .first { FileManager.default.isExecutableFile(atPath: $0.path) }
    }()

    static func start(_ arguments: [String]) throws -> Process {
        let process = Process()
        process.executableURL = url
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        return process
    }

    /// Waits up to `timeout` seconds for `condition`.
    static func wait(timeout: Double, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while !condition() {
            if Date() > deadline { return false }
            usleep(2_000)
        }
        return true
    }
}

@Suite(.serialized, .enabled(if: KillHelper.url != nil, "kill-helper is not built next to the tests (run `swift build` first)"))
struct KillTests {
    static func temporaryDirectory(_ name: String) -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("tinytune-kill-\(name)-\(UUID())")
    }

    @Test func aKilledDirectoryReplacementLeavesTheOldOrTheNewStateWhole() throws {
        let root = Self.temporaryDirectory("directory")
        defer { try? FileManager.default.removeItem(at: root) }
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        let directory = root.appendingPathComponent("out")
        var random = FileMutator(seed: 1806)
        var lastGeneration = 0
        var (kills, killedMidWrite) = (0, 0)
        // On a loaded machine one write can take longer than the random pause: wait longer after a kill
        // that saw no new generation, so the directory is also replaced, not only created.
        var pause = 2_000
        for _ in 0..<20 {
            let process = try KillHelper.start(["directory", directory.path])
            // The first generation must appear; then let it run a random while and kill it.
            #expect(KillHelper.wait(timeout: 20) { FileManager.default.fileExists(atPath: directory.path) })
            usleep(UInt32(pause + random.below(60_000)))
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            kills += 1
            // A kill in the middle of a write leaves its staging directory (removed by the next write).
            let siblings = try FileManager.default.contentsOfDirectory(atPath: root.path)
            if siblings.contains(where: { $0.hasPrefix(".out.partial-") }) { killedMidWrite += 1 }
            // Whole: exactly a, b, c, all of one generation, none cut short; and never older than before.
            let names = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
            #expect(names == ["a", "b", "c"])
            let contents = try names.map { try String(contentsOf: directory.appendingPathComponent($0), encoding: .utf8) }
            let generations = contents.map { Int($0.split(separator: "\n").first ?? "") ?? -1 }
            #expect(Set(generations).count == 1 && Set(contents.map(\.utf8.count)).count == 1, "\(generations)")
            #expect(generations[0] >= lastGeneration)
            pause = generations[0] > lastGeneration ? 2_000 : min(2 * pause + 20_000, 1_000_000)
            lastGeneration = generations[0]
        }
        // The kills must really have landed inside writes, not only between them.
        #expect(kills == 20 && killedMidWrite >= 5 && lastGeneration >= 3,
                "\(lastGeneration) generations, \(killedMidWrite) of \(kills) kills inside a write")
        // Left-overs of killed writes (at most the one staging directory of the last kill) go with the next write.
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: root.path).filter { $0.hasPrefix(".out.") }
        #expect(leftovers.count <= 1, "\(leftovers)")
    }

    @Test(arguments: ["adamw", "adamw8bit"])
    func resumingAfterEachKillGivesTheUninterruptedLosses(optimizer: String) throws {
        let steps = 16
        // The reference: one run, never interrupted.
        let reference = Self.temporaryDirectory("reference")
        let killed = Self.temporaryDirectory("killed")
        defer { for url in [reference, killed] { try? FileManager.default.removeItem(at: url) } }
        for url in [reference, killed] { try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true) }
        let began = Date()
        let straight = try KillHelper.start(["train", reference.path, optimizer, "\(steps)"])
        straight.waitUntilExit()
        // Kill within the first sixth of an uninterrupted run's time, measured here: on a quiet machine the
        // whole run can be shorter than a fixed kill window, so a fixed window would rarely kill at all;
        // with a third, a run whose restarts happened to run fast could finish after only two kills.
        let window = max(Int(Date().timeIntervalSince(began) * 1e6) / 6, 1_000)
        #expect(straight.terminationStatus == 0)
        let expected = try String(contentsOf: reference.appendingPathComponent("losses.txt"), encoding: .utf8)
        #expect(expected.split(separator: "\n").count == steps)

        // The same run, killed at random moments and restarted (resuming) until it finishes.
        var random = FileMutator(seed: 1807)
        var (kills, resumedMidRun) = (0, 0)
        let losses = killed.appendingPathComponent("losses.txt")
        // A restart that saved no new step lets the next one live longer (loaded machines start slowly).
        var pause = 0
        for _ in 0..<60 where !FileManager.default.fileExists(atPath: losses.path) {
            let before = Self.savedStep(killed)
            if let step = before, step > 0 && step < steps { resumedMidRun += 1 }
            let process = try KillHelper.start(["train", killed.path, optimizer, "\(steps)"])
            usleep(UInt32(pause + random.below(window)))
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            if process.terminationReason == .exit { #expect(process.terminationStatus == 0, "a resume failed") } else { kills += 1 }
            pause = Self.savedStep(killed) == before ? min(2 * pause + 20_000, 2_000_000) : 0
        }
        if !FileManager.default.fileExists(atPath: losses.path) {
            let last = try KillHelper.start(["train", killed.path, optimizer, "\(steps)"])
            last.waitUntilExit()
            #expect(last.terminationStatus == 0)
        }
        #expect(try String(contentsOf: losses, encoding: .utf8) == expected, "after \(kills) kills")
        #expect(kills >= 3 && resumedMidRun >= 1, "\(kills) kills, \(resumedMidRun) resumes in the middle of the run")
    }

    /// The step of the checkpoint in `directory`, if there is one.
    static func savedStep(_ directory: URL, name: String = "checkpoint") -> Int? {
        let url = directory.appendingPathComponent(name).appendingPathComponent("trainer.json")
        guard let data = try? Data(contentsOf: url), let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return nil }
        return json["step"] as? Int
    }
}

// MARK: - The command line: `tinytune finetune|lora|qlora --save-every 1`, killed and resumed

/// The tinytune executable, next to kill-helper.
enum TinyTuneExecutable {
    static let url: URL? = KillHelper.url.map { $0.deletingLastPathComponent().appendingPathComponent("tinytune") }
        .flatMap { FileManager.default.isExecutableFile(atPath: $0.path) ? $0 : nil }
}

@Suite(.serialized, .enabled(if: TinyTuneExecutable.url != nil, "tinytune is not built next to the tests (run `swift build` first)"))
struct CommandKillTests {
    /// A tiny base model directory (config.json, model.safetensors, tokenizer.json) and a JSONL file.
    static func makeInputs(in root: URL) throws -> (base: URL, data: URL) {
        let text = "abcdefghij =+"
        let tokenizer = CharTokenizer(fitting: text)
        var rng = RNG(seed: 8)
        let model = GPT(config: .gpt2(vocabularySize: tokenizer.vocabularySize, contextLength: 16, embeddingSize: 16, layers: 2, heads: 2),
                        rng: &rng)
        let base = root.appendingPathComponent("base")
        try ModelCheckpoint.save(model, to: base)
        try JSONEncoder().encode(tokenizer).write(to: base.appendingPathComponent("tokenizer.json"))
        let letters = Array("abcdefghij")
        let lines = (0..<12).map { i in "{\"prompt\": \"\(letters[i % 10])+\(letters[(i * 3) % 10])=\", \"completion\": \"\(letters[(i * 4) % 10])\"}" }
        let data = root.appendingPathComponent("data.jsonl")
        try Data(lines.joined(separator: "\n").utf8).write(to: data)
        return (base, data)
    }

    static func run(_ arguments: [String], killAfter microseconds: UInt32? = nil) throws -> Process {
        let process = Process()
        process.executableURL = TinyTuneExecutable.url
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        if let microseconds {
            usleep(microseconds)
            kill(process.processIdentifier, SIGKILL)
        }
        process.waitUntilExit()
        return process
    }

    @Test func aTokenizerLargerThanTheModelIsOneClearLine() throws {
        let root = KillTests.temporaryDirectory("vocabulary")
        defer { try? FileManager.default.removeItem(at: root) }
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        let (base, data) = try Self.makeInputs(in: root)
        // A tokenizer with more characters than the model has embedding rows.
        let larger = CharTokenizer(fitting: "abcdefghij =+klmnopqrstuvwxyz")
        try JSONEncoder().encode(larger).write(to: base.appendingPathComponent("tokenizer.json"))
        let process = Process()
        process.executableURL = TinyTuneExecutable.url
        process.arguments = ["finetune", "--data", data.path, "--base", base.path, "--steps", "1", "--out", root.appendingPathComponent("out").path]
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 2)
        #expect(message.split(separator: "\n").count == 1, "\(message)")
        #expect(message.contains(base.appendingPathComponent("tokenizer.json").path) && message.contains("\(larger.vocabularySize) tokens")
                && message.contains("vocab_size"), "\(message)")
    }

    /// The loss column of a loss.csv (the milliseconds column differs between runs).
    static func losses(_ directory: URL) throws -> [String] {
        try String(contentsOf: directory.appendingPathComponent("loss.csv"), encoding: .utf8)
            .split(separator: "\n").dropFirst().map { String($0.split(separator: ",")[1]) }
    }

    @Test(arguments: [["finetune"], ["lora", "--rank", "2"], ["qlora", "--rank", "2", "--adam8bit", "--block-size", "16"]])
    func aKilledCommandResumesToTheUninterruptedResult(command: [String]) throws {
        let root = KillTests.temporaryDirectory("command")
        defer { try? FileManager.default.removeItem(at: root) }
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        let (base, data) = try Self.makeInputs(in: root)
        let common = command + ["--data", data.path, "--base", base.path, "--steps", "8", "--batch", "4"]
        let reference = root.appendingPathComponent("reference"), out = root.appendingPathComponent("out")
        let checkpoint = root.appendingPathComponent("checkpoint")
        let started = Date()
        #expect(try Self.run(common + ["--out", reference.path]).terminationStatus == 0)
        // Kill within three times an uninterrupted run's duration (checkpointing every step makes runs slower).
        var window = max(Int(Date().timeIntervalSince(started) * 3e6), 10_000)
        // An old, complete output the killed runs must either keep whole or replace whole.
        #expect(try Self.run(common + ["--out", out.path, "--seed", "9"]).terminationStatus == 0)
        let oldFiles = try FileManager.default.contentsOfDirectory(atPath: out.path).sorted()
        let weightsFile = command[0] == "finetune" ? "model.safetensors" : "adapter_model.safetensors"
        let oldWeights = try Data(contentsOf: out.appendingPathComponent(weightsFile))
        let newWeights = try Data(contentsOf: reference.appendingPathComponent(weightsFile))
        let oldCopy = root.appendingPathComponent("old-copy")
        try FileManager.default.copyItem(at: out, to: oldCopy)

        var random = FileMutator(seed: 1808)
        var (kills, resumedMidRun) = (0, 0)
        for _ in 0..<40 {
            let resume = FileManager.default.fileExists(atPath: checkpoint.path) ? ["--resume", checkpoint.path] : []
            let before = KillTests.savedStep(checkpoint.deletingLastPathComponent(), name: checkpoint.lastPathComponent)
            if let step = before, step > 0 && step < 8 { resumedMidRun += 1 }
            let process = try Self.run(common + ["--out", out.path, "--save-every", "1", "--checkpoint", checkpoint.path] + resume,
                                       killAfter: UInt32(random.below(window)))
            if process.terminationReason == .uncaughtSignal { kills += 1 } else {
                #expect(process.terminationStatus == 0)
            }
            // Killed before it saved a new step (a slow start on a loaded machine): let the next run live longer.
            if KillTests.savedStep(checkpoint.deletingLastPathComponent(), name: checkpoint.lastPathComponent) == before {
                window = min(2 * window, 5_000_000)
            }
            // Whole: the old output or the new one, file for file.
            #expect(try FileManager.default.contentsOfDirectory(atPath: out.path).sorted() == oldFiles)
            let weights = try Data(contentsOf: out.appendingPathComponent(weightsFile))
            #expect(weights == oldWeights || weights == newWeights)
            guard weights == newWeights else { continue }
            if kills >= 2 && resumedMidRun >= 1 { break }
            // Finished too soon to have been killed mid-run (machine timing varies): start over, kill sooner.
            try FileManager.default.removeItem(at: checkpoint)
            try FileManager.default.removeItem(at: out)
            try FileManager.default.copyItem(at: oldCopy, to: out)
            window = max(window / 2, 2_000)
        }
        if try Data(contentsOf: out.appendingPathComponent(weightsFile)) != newWeights {
            let resume = FileManager.default.fileExists(atPath: checkpoint.path) ? ["--resume", checkpoint.path] : []
            #expect(try Self.run(common + ["--out", out.path, "--save-every", "1", "--checkpoint", checkpoint.path] + resume)
                .terminationStatus == 0)
        }
        #expect(try Data(contentsOf: out.appendingPathComponent(weightsFile)) == newWeights, "after \(kills) kills")
        if command[0] == "finetune" { #expect(try Self.losses(out) == Self.losses(reference)) }
        #expect(kills >= 1 && resumedMidRun >= 1, "\(kills) kills, \(resumedMidRun) resumes in the middle of the run")
    }
}
