// AdamW8bitResumeTests.swift — 8-bit AdamW state survives a checkpoint bit for bit (it used to be
// decoded and re-quantized, which moved every block whose absmax was negative); bad state is refused.
import Foundation
import Kernels
import Testing
import Autodiff
import Optim
import Quantization

@Suite struct AdamW8bitResumeTests {
    /// `steps` updates of a 2×256 parameter toward a target with both signs.
    static func train(_ optimizer: AdamW8bit, _ p: Tensor, steps: Range<Int>) {
        for step in steps {
            p.zeroGrad()
            let goal = Tensor((0..<512).map { Float(($0 * 37 + step) % 101) / 50 - 1 }, shape: [2, 256])
            ((p - goal) * (p - goal)).mean().backward()
            optimizer.step(learningRate: 0.05)
        }
    }

    @Test func aResumedRunIsBitwiseTheUninterruptedOne() throws {
        let start = (0..<512).map { Float($0 % 17) / 17 - 0.5 }
        let straightP = Tensor(start, shape: [2, 256], requiresGrad: true)
        let straight = AdamW8bit([("w", straightP)], blockSize: 64, minimumQuantizedSize: 64)
        Self.train(straight, straightP, steps: 0..<10)

        let firstP = Tensor(start, shape: [2, 256], requiresGrad: true)
        let first = AdamW8bit([("w", firstP)], blockSize: 64, minimumQuantizedSize: 64)
        Self.train(first, firstP, steps: 0..<5)
        let saved = Dictionary(uniqueKeysWithValues: first.stateTensors().map { ($0.name, $0.tensor.values) })
        #expect(Set(saved.keys) == ["w.exp_avg.codes", "w.exp_avg.absmax", "w.exp_avg_sq.codes", "w.exp_avg_sq.absmax"])
        // The case that broke the decoded round trip: some block of m has its largest magnitude negative.
        let decoded = first.decodedStates().first { $0.name == "w.exp_avg" }!.tensor.values
        let negativeMaxBlocks = stride(from: 0, to: 512, by: 64).filter { start in
            let block = decoded[start..<start + 64]
            return -(block.min() ?? 0) > (block.max() ?? 0)
        }
        #expect(!negativeMaxBlocks.isEmpty)

        let resumedP = Tensor(firstP.values, shape: [2, 256], requiresGrad: true)
        let resumed = AdamW8bit([("w", resumedP)], blockSize: 64, minimumQuantizedSize: 64)
        try resumed.loadState(saved, stepCount: first.stepCount)
        Self.train(resumed, resumedP, steps: 5..<10)
        #expect(resumedP.values == straightP.values)
        #expect(resumed.stateTensors().map(\.tensor.values) == straight.stateTensors().map(\.tensor.values))
    }

    @Test(arguments: ["code 256", "code 1.5", "negative absmax", "negative fp32 second moment", "step -1", "step Int.max"])
    func badStateIsRefusedAndChangesNothing(defect: String) throws {
        let big = Tensor((0..<128).map { Float($0) / 128 }, shape: [128], requiresGrad: true)
        let small = Tensor([1, 2, 3], shape: [3], requiresGrad: true)
        let optimizer = AdamW8bit([("big", big), ("small", small)], blockSize: 64, minimumQuantizedSize: 64)
        ((big * big).sum() + (small * small).sum()).backward()
        optimizer.step(learningRate: 0.01)
        let before = optimizer.stateTensors().map(\.tensor.values)
        var saved = Dictionary(uniqueKeysWithValues: optimizer.stateTensors().map { ($0.name, $0.tensor.values.map { $0 * 0.5 }) })
        saved["big.exp_avg.codes"] = optimizer.stateTensors().first { $0.name == "big.exp_avg.codes" }!.tensor.values
        saved["big.exp_avg_sq.codes"] = optimizer.stateTensors().first { $0.name == "big.exp_avg_sq.codes" }!.tensor.values
        var stepCount = 3
        switch defect {
        case "code 256": saved["big.exp_avg_sq.codes"]![7] = 256
        case "code 1.5": saved["big.exp_avg.codes"]![0] = 1.5
        case "negative absmax": saved["big.exp_avg_sq.absmax"]![1] = -1
        case "negative fp32 second moment": saved["small.exp_avg_sq"]![2] = -1e-9
        case "step -1": stepCount = -1
        default: stepCount = Int.max
        }
        #expect(throws: OptimizerStateError.self) { try optimizer.loadState(saved, stepCount: stepCount) }
        #expect(optimizer.stateTensors().map(\.tensor.values) == before && optimizer.stepCount == 1)
    }
}
