// ExerciseTests.swift — the workbook's tests. Each suite is skipped while its stub throws
// `Unimplemented`, and runs (pass or fail) once the learner has written something.
// Select one task with: swift test --filter "Task 2.1"
import Foundation
import Testing
import ExerciseKit
import Workbook
import WorkbookCatalogue
import ScalarAutograd
import Kernels
import Autodiff
import FullFineTuning
import NN
import Optim
@testable import PEFT
import Merging

extension Trait where Self == ConditionTrait {
    /// Skips a suite with "Task x.y is not implemented yet" while the stub throws `Unimplemented`.
    static func implemented(_ task: String) -> Self {
        .enabled(if: Catalogue.isImplemented(task), "Task \(task) is not implemented yet")
    }
}

@Suite(.implemented("1.1")) struct `Task 1.1 — tanh backward` {
    @Test func `Task 1.1 — matches the scalar engine`() throws {
        for x in [-2.0, -0.3, 0, 0.7, 3] {
            let v = Value(x)
            let y = v.tanh() * 1.5          // upstream gradient 1.5
            y.backward()
            #expect(abs(try tanhBackward(x: x, outputGradient: 1.5) - v.grad) < 1e-12)
        }
    }
}

@Suite(.implemented("1.2")) struct `Task 1.2 — central difference` {
    @Test func `Task 1.2 — gradient of a known function`() throws {
        // f(x, y) = x²y + sin y: ∇f = (2xy, x² + cos y).
        let g = try centralDifferenceGradient({ $0[0] * $0[0] * $0[1] + sin($0[1]) }, at: [1.5, -0.5], step: 1e-5)
        #expect(g.count == 2)
        #expect(abs(g[0] - 2 * 1.5 * -0.5) < 1e-7)
        #expect(abs(g[1] - (2.25 + cos(-0.5))) < 1e-7)
    }
}

@Suite(.implemented("1.3")) struct `Task 1.3 — topological order` {
    @Test func `Task 1.3 — inputs come first`() throws {
        // 4 = f(2, 3); 2 = g(0, 1); 3 = h(1); 5 is unreachable.
        let graph = [4: [2, 3], 2: [0, 1], 3: [1], 5: [4]]
        let order = try topologicalOrder(inputs: graph, output: 4)
        #expect(order == [0, 1, 2, 3, 4])
        #expect(try topologicalOrder(inputs: [:], output: 7) == [7])
    }
}

@Suite(.implemented("2.1")) struct `Task 2.1 — broadcast shape` {
    @Test func `Task 2.1 — NumPy rules`() throws {
        #expect(try broadcastShape([3, 4], [4]) == [3, 4])
        #expect(try broadcastShape([2, 1, 4], [3, 1]) == [2, 3, 4])
        #expect(try broadcastShape([], [5]) == [5])
        #expect(throws: BroadcastError(left: [3, 4], right: [3])) { try broadcastShape([3, 4], [3]) }
    }
}

@Suite(.implemented("2.2")) struct `Task 2.2 — unbroadcast` {
    @Test func `Task 2.2 — matches the library on several shapes`() throws {
        let cases: [([Int], [Int])] = [([2, 3], [3]), ([2, 3], [2, 1]), ([2, 3, 4], [3, 1]), ([2, 3], []), ([4], [4])]
        var rng = RNG(seed: 1)
        for (from, to) in cases {
            let gradient = (0..<from.reduce(1, *)).map { _ in rng.normal() }
            let expected = gradient.withUnsafeBufferPointer { Shapes.unbroadcast($0.baseAddress!, from: from, to: to) }
            let got = try unbroadcast(gradient, from: from, to: to)
            #expect(got.count == expected.count, "\(from) → \(to)")
            #expect(zip(got, expected).allSatisfy { abs($0 - $1) < 1e-5 }, "\(from) → \(to)")
        }
    }
}

@Suite(.implemented("2.3")) struct `Task 2.3 — tiled matmul` {
    @Test func `Task 2.3 — equals the reference on awkward sizes`() throws {
        var rng = RNG(seed: 2)
        for (m, n, k, tile) in [(7, 5, 9, 4), (16, 16, 16, 8), (3, 11, 2, 5)] {
            let a = (0..<(m * k)).map { _ in rng.normal() }, b = (0..<(k * n)).map { _ in rng.normal() }
            var expected = [Float](repeating: 0, count: m * n)
            Reference.gemm(transA: .none, transB: .none, m: m, n: n, k: k, alpha: 1, a: a, lda: k, b: b, ldb: n,
                           beta: 0, c: &expected, ldc: n)
            let got = try tiledMatmul(a, b, m: m, n: n, k: k, tile: tile)
            #expect(zip(got, expected).allSatisfy { abs($0 - $1) < 1e-4 })
        }
    }
}

@Suite(.implemented("3.1")) struct `Task 3.1 — causal mask` {
    @Test func `Task 3.1 — zero below, minus infinity above`() throws {
        let inf = -Float.infinity
        #expect(try causalMask(steps: 3) == [0, inf, inf, 0, 0, inf, 0, 0, 0])
        #expect(try causalMask(steps: 1) == [0])
    }
}

@Suite(.implemented("3.2")) struct `Task 3.2 — next-token pairs` {
    @Test func `Task 3.2 — shift by one`() throws {
        let pairs = try nextTokenPairs([5, 6, 7, 8])
        #expect(pairs.inputs == [5, 6, 7] && pairs.targets == [6, 7, 8])
    }
}

@Suite(.implemented("4.1")) struct `Task 4.1 — serving memory` {
    @Test func `Task 4.1 — the book's 13B example`() throws {
        #expect(abs(try inferenceBytes(parameters: 13e9, bytesPerParameter: 2) - 31.2e9) < 1)
        #expect(abs(try inferenceBytes(parameters: 7e9, bytesPerParameter: 0.5) - 4.2e9) < 1)
    }
}

@Suite(.implemented("4.2")) struct `Task 4.2 — training memory` {
    @Test func `Task 4.2 — agrees with the estimator`() throws {
        for (n, t) in [(13e9, 13e9), (13e9, 1e9), (1e6, 0)] {
            let expected = MemoryEstimator.training(parameters: n, trainable: t, weightBytes: 2, gradientBytes: 2,
                                                    stateValues: 2, stateBytes: 2).total
            #expect(abs(try adamTrainingBytes(parameters: n, trainable: t, bytesPerValue: 2) - expected) < 1)
        }
    }
}

/// The workbook as shipped is unsolved; the solutions build solves everything; every task has a suite.
@Suite struct WorkbookCatalogueTests {
    @Test func shippedStubsAreUnsolvedAndSolutionsAreSolved() {
        for exercise in Catalogue.exercises {
            #expect(exercise.status == (Catalogue.isSolutionsBuild ? .attempted : .pending),
                    "Task \(exercise.id) in the \(Catalogue.isSolutionsBuild ? "solutions" : "shipped") workbook")
        }
    }

    @Test func idsAreUniqueAndFilesExist() {
        let ids = Catalogue.exercises.map(\.id)
        #expect(Set(ids).count == ids.count)
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        for exercise in Catalogue.exercises {
            #expect(FileManager.default.fileExists(atPath: root.appendingPathComponent(exercise.file).path), "\(exercise.file)")
            let solution = exercise.file.replacingOccurrences(of: "Exercises/", with: "Solutions/")
            #expect(FileManager.default.fileExists(atPath: root.appendingPathComponent(solution).path), "\(solution)")
        }
    }

    @Test func stubsThrowUnimplementedWithTheirId() throws {
        guard !Catalogue.isSolutionsBuild else { return }
        for exercise in Catalogue.exercises {
            #expect(throws: Unimplemented(task: exercise.id)) { try exercise.probe() }
        }
    }
}

@Suite(.implemented("5.1")) struct `Task 5.1 — response weights` {
    @Test func `Task 5.1 — prompt then response`() throws {
        #expect(try responseWeights(promptLength: 3, responseLength: 2, promptLossWeight: 0) == [0, 0, 0, 1, 1])
        #expect(try responseWeights(promptLength: 1, responseLength: 1, promptLossWeight: 0.25) == [0.25, 1])
        #expect(try responseWeights(promptLength: 0, responseLength: 2, promptLossWeight: 0.5) == [1, 1])
    }
}

@Suite(.implemented("5.2")) struct `Task 5.2 — partial freeze` {
    @Test func `Task 5.2 — matches the library's rule on a real model`() throws {
        var rng = RNG(seed: 1)
        let model = GPT(config: .gpt2(vocabularySize: 10, contextLength: 4, embeddingSize: 8, layers: 12, heads: 2), rng: &rng)
        FreezeRule.lastBlocks(3, trainEmbeddings: false).apply(to: model)
        for (name, tensor) in model.namedParameters() {
            #expect(try isTrainable(parameter: name, layers: 12, trainLast: 3) == tensor.requiresGrad, "\(name)")
        }
    }
}

@Suite(.implemented("6.1")) struct `Task 6.1 — gradient accumulation` {
    @Test func `Task 6.1 — token-weighted mean`() throws {
        // Means 1 (over 1 token) and 4 (over 3 tokens): all-token mean (1 + 12) / 4 = 3.25.
        #expect(try accumulatedGradient([[1, 0], [4, 2]], tokenCounts: [1, 3]) == [3.25, 1.5])
    }
}

@Suite(.implemented("6.2")) struct `Task 6.2 — cosine schedule` {
    @Test func `Task 6.2 — agrees with the library's schedule`() throws {
        let schedule = LearningRateSchedule(peak: 2e-3, warmupSteps: 7, totalSteps: 50, decay: .cosine, minimum: 1e-4)
        for step in 1...50 {
            let mine = try cosineLearningRate(step: step, peak: 2e-3, warmup: 7, total: 50, minimum: 1e-4)
            #expect(abs(mine - schedule.rate(at: step)) < 1e-8, "step \(step)")
        }
    }
}

/// A small random layer with two LoRA adapters for the Chapter 8 tasks (library types as the oracle).
struct LoRAFixture {
    let layer: Linear, lora: LoRALayer
    let inFeatures = 5, outFeatures = 3, rank = 2
    init() {
        var rng = RNG(seed: 11)
        layer = Linear(5, 3, bias: false, rng: &rng)
        lora = LoRALayer()
        // Scalings 2 and 1.5: neither is 1, so a merge or forward that forgets α/r fails the tests.
        for (name, alpha) in [("one", Float(4)), ("two", Float(3))] {
            lora.add(name, config: LoRAConfig(rank: 2, alpha: alpha), layer: layer, rng: &rng)
            let b = lora.weights(name)!.b
            for i in 0..<b.count { b.data[i] = rng.normal() }
        }
        layer.adapter = lora
    }
    func adapter(_ name: String) -> (a: [Float], b: [Float], scaling: Float) {
        let w = lora.weights(name)!
        return (w.a.values, w.b.values, w.config.scaling)
    }
}

@Suite(.implemented("8.1")) struct `Task 8.1 — LoRA forward` {
    @Test func `Task 8.1 — matches the library's LoRA layer`() throws {
        let f = LoRAFixture()
        f.lora.active = ["one"]
        let x: [Float] = [0.5, -1, 2, 0.25, -0.75]
        let expected = f.layer(Tensor(x, shape: [1, 5])).values
        let (a, b, s) = f.adapter("one")
        let got = try loraForward(x: x, w: f.layer.weight.values, a: a, b: b, inFeatures: 5, outFeatures: 3, rank: 2, scaling: s)
        #expect(zip(got, expected).allSatisfy { abs($0 - $1) < 1e-5 })
    }
}

@Suite(.implemented("8.2")) struct `Task 8.2 — LoRA parameter count` {
    @Test func `Task 8.2 — r times in plus out`() throws {
        #expect(try loraParameterCount(layers: [(256, 768), (256, 256), (256, 1024), (1024, 256)], rank: 8) == 32768)
        #expect(try loraParameterCount(layers: [(10, 20)], rank: 3) == 90)
    }
}

@Suite(.implemented("8.3")) struct `Task 8.3 — merging` {
    @Test func `Task 8.3 — equals the library's merge`() throws {
        for name in ["one", "two"] {
            let f = LoRAFixture()
            let (a, b, s) = f.adapter(name)
            #expect(s != 1, "the fixture must tell a merge that forgets the α/r factor from a correct one")
            let got = try mergedWeight(w: f.layer.weight.values, a: a, b: b, inFeatures: 5, outFeatures: 3, rank: 2, scaling: s)
            f.lora.merge(name, layer: f.layer)
            #expect(zip(got, f.layer.weight.values).allSatisfy { abs($0 - $1) < 1e-5 }, "adapter \(name), scaling \(s)")
        }
    }

    @Test func `Task 8.3 — the scaling multiplies B·A (hand-computed)`() throws {
        // W = [[1, 2]], A = [[1, -1]], B = [[3]]: B·A = [[3, -3]]; with s = 0.5: [[2.5, 0.5]].
        #expect(try mergedWeight(w: [1, 2], a: [1, -1], b: [3], inFeatures: 2, outFeatures: 1, rank: 1, scaling: 0.5) == [2.5, 0.5])
    }
}

@Suite(.implemented("8.4")) struct `Task 8.4 — mixed-adapter batch` {
    @Test func `Task 8.4 — each row equals its adapter alone`() throws {
        let f = LoRAFixture()
        let x: [Float] = (0..<15).map { Float($0) * 0.1 - 0.7 }
        let choices: [Int?] = [1, nil, 0]
        let got = try mixedBatch(x: x, w: f.layer.weight.values, adapters: [f.adapter("one"), f.adapter("two")], choices: choices,
                                 inFeatures: 5, outFeatures: 3, rank: 2)
        for (row, choice) in choices.enumerated() {
            f.lora.active = choice.map { [["one", "two"][$0]] } ?? []
            let alone = f.layer(Tensor(Array(x[(row * 5)..<(row * 5 + 5)]), shape: [1, 5])).values
            #expect(zip(got[(row * 3)..<(row * 3 + 3)], alone).allSatisfy { abs($0 - $1) < 1e-5 }, "row \(row)")
        }
    }
}

@Suite(.implemented("13.1")) struct `Task 13.1 — SLERP` {
    @Test func `Task 13.1 — matches the library and the hand value`() throws {
        let mid = try slerp([1, 0], [0, 1], t: 0.5)
        #expect(abs(mid[0] - 0.70711) < 1e-5 && abs(mid[1] - 0.70711) < 1e-5)
        let (a, b): ([Float], [Float]) = ([0.3, -1.2, 2], [1.5, 0.2, -0.7])
        for t in [Float(0), 0.25, 0.8, 1] {
            #expect(zip(try slerp(a, b, t: t), MergeMath.slerp(a, b, t: t)).allSatisfy { abs($0 - $1) < 1e-5 })
        }
        #expect(try slerp([1, 0], [1, 0.0001], t: 0.5) == [1, 0.00005])   // the lerp fallback
    }
}

@Suite(.implemented("13.2")) struct `Task 13.2 — TIES sign election` {
    @Test func `Task 13.2 — majority sign, disjoint mean`() throws {
        #expect(try electAndAverage([[1, -2, 0], [3, 1, 0], [-1, -1, 0]]) == [2, -1.5, 0])
        #expect(try electAndAverage([[2, -2]]) == [2, -2])
    }

    @Test func `Task 13.2 — the sign is elected by summed magnitude, not by counting votes`() throws {
        // Position 0: one large positive value outweighs two small negative ones (sum +3, but 2 of 3 are
        // negative): the sum elects +, so the result is 5; a majority count would give −1.
        // Position 1: the mirror case. Position 2: sum 0 elects nothing.
        #expect(try electAndAverage([[5, -6, 1], [-1, 2, -1], [-1, 2, 0]]) == [5, -6, 0])
    }
}

@Suite(.implemented("13.3")) struct `Task 13.3 — DARE rescale` {
    @Test func `Task 13.3 — zero or divide by keep probability`() throws {
        #expect(try dareRescale([1, -2, 3, 4], keep: [true, false, true, false], dropProbability: 0.5) == [2, 0, 6, 0])
        #expect(try dareRescale([0.9], keep: [true], dropProbability: 0.1) == [1])
    }
}

@Suite(.implemented("13.4")) struct `Task 13.4 — task-vector negation` {
    @Test func `Task 13.4 — adding then subtracting restores`() throws {
        let base: [Float] = [1, 2], tuned: [Float] = [1.5, 1]
        let with = MergeMath.taskArithmetic(base: [0, 0], taskVectors: [MergeMath.taskVector(tuned, base: base)], lambdas: [2])
        #expect(try subtractTask(other: with, tuned: tuned, base: base, lambda: 2) == [0, 0])
    }
}
