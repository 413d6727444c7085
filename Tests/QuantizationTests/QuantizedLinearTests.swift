// QuantizedLinearTests.swift — a Linear whose weight is packed in NF4 computes what a dense Linear holding
// the decoded weight computes, forward and backward, with or without a LoRA layer on top.
//
// The reference is an ordinary fp32 Linear whose W is `NF4Weight.dequantized()` (the decoding itself is
// checked against bitsandbytes' bytes in NF4Tests), so the fused dequantizing path is compared with the
// plain GEMM path, not with itself.
import Testing
import Kernels
import Autodiff
import NN
import PEFT
import TestSupport
@testable import Quantization

@Suite struct QuantizedLinearTests {
    /// A packed layer, and a dense one holding the same (decoded) weight and bias.
    func layers(seed: UInt64) throws -> (packed: Linear, dense: Linear) {
        var rng = RNG(seed: seed)
        let packed = Linear(64, 24, rng: &rng)
        let dense = Linear(64, 24, rng: &rng)
        let nf4 = try NF4Weight(packed.weight)
        dense.weight = makeParameter(Tensor(nf4.dequantized(), shape: [24, 64]), trainable: false)
        dense.bias = makeParameter(Tensor(packed.bias!.values, shape: [24]))
        QuantizedLinear.pack(packed, with: nf4)
        return (packed, dense)
    }

    @Test func packedForwardAndInputGradientMatchTheDecodedWeight() throws {
        let (packed, dense) = try layers(seed: 1)
        #expect(packed.weight.count == 0 && !packed.weight.requiresGrad)   // the fp32 buffer is gone
        var rng = RNG(seed: 2)
        let x1 = Tensor.randomNormal([5, 64], rng: &rng, requiresGrad: true)
        let x2 = Tensor(x1.values, shape: [5, 64], requiresGrad: true)
        let y1 = packed(x1), y2 = dense(x2)
        #expect(maxDifference(y1, y2) < Tolerance.reordered)
        y1.sum().backward()
        y2.sum().backward()
        #expect(maxDifference(x1.grad!, x2.grad!) < Tolerance.reordered)
        #expect(maxDifference(packed.bias!.grad!, dense.bias!.grad!) < Tolerance.reordered)
    }

    @Test func loraOnAPackedBaseMatchesLoRAOnTheDecodedBase() throws {
        let (packed, dense) = try layers(seed: 3)
        for layer in [packed, dense] {
            let lora = LoRALayer()
            var rng = RNG(seed: 4)
            lora.install("a", config: LoRAConfig(rank: 2), a: Tensor.randomNormal([2, 64], rng: &rng, requiresGrad: true),
                         b: Tensor.randomNormal([24, 2], rng: &rng, requiresGrad: true))
            lora.active = ["a"]
            layer.adapter = lora
        }
        var rng = RNG(seed: 5)
        let x = Tensor.randomNormal([3, 64], rng: &rng)
        #expect(maxDifference(packed(x), dense(x)) < Tolerance.reordered)
    }
}
