// kill-helper — a test-only process for the kill tests (Tests/TrainingTests/KillTests.swift): it saves
// over and over, and the test kills it with SIGKILL at random moments, then checks what is on disk.
//
//   kill-helper directory DIR             replace DIR forever with generation N+1 (three files that must agree)
//   kill-helper train DIR adamw|adamw8bit STEPS
//                                         train a tiny GPT for STEPS steps, checkpointing every step into
//                                         DIR/checkpoint and resuming from it if present; at the end write
//                                         every step's loss (bit pattern) to DIR/losses.txt
//   kill-helper page-faults heap-reuse|default
//                                         print the page faults of a second 256 MB "step" (HeapReuseTests)
import Foundation
import Kernels
import Autodiff
import NN
import Optim
import Checkpoints
import Training
import Datasets
import Quantization

/// Filler so that each file takes several write calls (a kill can land in the middle of one).
let filler = String(repeating: "0123456789abcdef", count: 4096)

func replaceForever(_ directory: URL) throws {
    // Continue after the generation on disk, so generations only grow across kills.
    let current = (try? String(contentsOf: directory.appendingPathComponent("a"), encoding: .utf8))
        .flatMap { $0.split(separator: "\n").first }.flatMap { Int($0) } ?? 0
    var generation = current
    while true {
        generation += 1
        try AtomicDirectory.write(to: directory) { staging in
            for name in ["a", "b", "c"] {
                try Data("\(generation)\n\(filler)".utf8).write(to: staging.appendingPathComponent(name))
            }
        }
    }
}

func train(_ directory: URL, optimizer kind: String, steps: Int) throws {
    var config = GPTConfig.gpt2(vocabularySize: 13, contextLength: 8, embeddingSize: 16, layers: 2, heads: 2)
    config.dropout = 0.1
    var rng = RNG(seed: 21)
    let model = GPT(config: config, rng: &rng)
    // Small quantization blocks so that the 8-bit states really are 8-bit in this tiny model.
    let optimizer: Optimizer = kind == "adamw8bit"
        ? AdamW8bit(model.namedParameters(), blockSize: 32, minimumQuantizedSize: 64)
        : AdamW(model.namedParameters())
    let trainer = Trainer(model: model, optimizer: optimizer,
                          options: TrainerOptions(steps: steps, learningRate: 3e-2, warmupSteps: 2, seed: 5))
    let tokens: [Int32] = (0..<400).map { (i: Int) -> Int32 in Int32((i * 7 + i / 13) % 13) }
    var source = PretrainingBatchSource(tokens: tokens, batchSize: 3, contextLength: 6, seed: 3)
    let checkpoint = directory.appendingPathComponent("checkpoint")
    try AtomicDirectory.recover(checkpoint)
    let resume = FileManager.default.fileExists(atPath: checkpoint.path) ? checkpoint : nil
    try trainer.run(source: &source, checkpoints: CheckpointPlan(directory: checkpoint, every: 1, resumeFrom: resume))
    let losses = trainer.log.map { String($0.loss.bitPattern, radix: 16) }.joined(separator: "\n")
    try AtomicFile.write(Data(losses.utf8), to: directory.appendingPathComponent("losses.txt"))
}

/// Two "training steps" of 64 buffers × 4 MB each (allocate, write every page, free), on the main thread;
/// prints the minor page faults of the second. With `heap-reuse` HeapReuse is applied first; with
/// `default` glibc keeps its own policy (the comparison Tests/TrainingTests/HeapReuseTests.swift makes).
func pageFaultsOfSecondStep(policy: String) -> Int {
    if policy == "heap-reuse" { _ = HeapReuse.isApplied }
    func faults() -> Int {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return usage.ru_minflt
    }
    func step() -> Int {
        let floats = 1 << 20, start = faults()
        let buffers = (0..<64).map { _ in UnsafeMutablePointer<Float>.allocate(capacity: floats) }
        for buffer in buffers { buffer.initialize(repeating: 1, count: floats) }
        let taken = faults() - start
        for buffer in buffers { buffer.deallocate() }
        return taken
    }
    _ = step()
    return step()
}

let arguments = CommandLine.arguments.dropFirst()
do {
    switch (arguments.first, arguments.count) {
    case ("directory", 2): try replaceForever(URL(fileURLWithPath: arguments[arguments.startIndex + 1]))
    case ("page-faults", 2): print(pageFaultsOfSecondStep(policy: arguments[arguments.startIndex + 1]))
    case ("train", 4):
        let rest = Array(arguments.dropFirst())
        guard let steps = Int(rest[2]) else { throw CocoaError(.formatting) }
        try train(URL(fileURLWithPath: rest[0]), optimizer: rest[1], steps: steps)
    default:
        FileHandle.standardError.write(Data("usage: kill-helper directory DIR | train DIR adamw|adamw8bit STEPS | page-faults heap-reuse|default\n".utf8))
        exit(2)
    }
} catch {
    FileHandle.standardError.write(Data("kill-helper: \(error)\n".utf8))
    exit(1)
}
