// NF4GradientCheckTests.swift — gradient checks of QLoRA's layer through a real NF4 weight: the input, the
// bias and the LoRA factors get gradients (checked in Float and in Double), the 4-bit base gets none.
//
// The op catalogue checks `quantizedLinear` with a dense stand-in weight; here the weight is an actual
// `NF4Weight` (double-quantized scales, blocks of 64 that cross rows), so backward's dx runs the
// dequantizing GEMM over packed codes. The Double twin multiplies by `dequantized()` — the decoded
// matrix, itself checked byte for byte against bitsandbytes in NF4Tests — so it is independent of the
// fused kernel under test.
import Testing
import Kernels
import Autodiff
import NN
@testable import PEFT
import TestSupport
@testable import Quantization

@Suite struct NF4GradientCheckTests {
    static let out = 6, inFeatures = 32, rank = 2
    static let scaling: Float = 1.5

    /// A double-quantized NF4 matrix [6, 32] of N(0, 0.5²) values.
    func weight() throws -> NF4Weight {
        var rng = RNG(seed: 1)
        return try NF4Weight((0..<(Self.out * Self.inFeatures)).map { _ in 0.5 * rng.normal() }, rows: Self.out,
                             columns: Self.inFeatures, blockSize: 64, doubleQuantize: true)
    }

    /// [x [2, 3, 32], b [6], A [2, 32], B [6, 2]], all requiring gradients.
    func inputs() -> [Tensor] {
        var rng = RNG(seed: 2)
        return [[2, 3, Self.inFeatures], [Self.out], [Self.rank, Self.inFeatures], [Self.out, Self.rank]].map {
            Tensor.randomNormal($0, rng: &rng, requiresGrad: true)
        }
    }

    /// y = x·Ŵᵀ + b + s·(x·Aᵀ)·Bᵀ in Double, Ŵ the decoded NF4 matrix.
    func twin(_ decoded: [Double]) -> ([[Double]]) -> [Double] {
        { v in
            let rows = v[0].count / Self.inFeatures
            let base = referenceMatmul(v[0][...], rows, Self.inFeatures, transA: false, decoded[...], Self.out, Self.inFeatures, transB: true)
            let u = referenceMatmul(v[0][...], rows, Self.inFeatures, transA: false, v[2][...], Self.rank, Self.inFeatures, transB: true)
            let delta = referenceMatmul(u[...], rows, Self.rank, transA: false, v[3][...], Self.out, Self.rank, transB: true)
            return (0..<(rows * Self.out)).map { base[$0] + Double(Self.scaling) * delta[$0] + v[1][$0 % Self.out] }
        }
    }

    @Test func quantizedLinearOnNF4InFloatAndDouble() throws {
        let nf4 = try weight()
        let x = inputs()
        let op = { (t: [Tensor]) in Tensor.quantizedLinear(t[0], weight: nf4, bias: t[1], a: t[2], b: t[3], scaling: Self.scaling) }
        let total = x.map(\.count).reduce(0, +)
        let float = GradientCheck.check(x, op)
        #expect(float.passed && float.checked == total, "Float: \(float)")
        let reference = twin(nf4.dequantized().map(Double.init))
        let double = GradientCheck.check(x, reference: reference, op)
        #expect(double.passed && double.checked == total, "Double: \(double)")
    }

    /// The same through a packed Linear with a LoRA adapter (the layer QLoRA trains): gradients reach x,
    /// the bias, A and B; the packed base has only an empty frozen placeholder, which gets nothing.
    @Test func packedLinearWithLoRA() throws {
        var rng = RNG(seed: 3)
        let layer = Linear(Self.inFeatures, Self.out, rng: &rng)
        QuantizedLinear.pack(layer, with: try weight())
        let lora = LoRALayer()
        lora.add("q", config: LoRAConfig(rank: Self.rank, alpha: 3), layer: layer, rng: &rng)
        lora.active = ["q"]
        layer.adapter = lora
        ModuleGradientCheck.randomize(layer, seed: 4)   // B ≠ 0, a nonzero bias; the placeholder stays empty
        let x = inputs()[0]
        let result = ModuleGradientCheck.check(layer, inputs: [x]) { layer(x) }
        #expect(result.passed, "\(result)")
        #expect(result.checked == x.count + Self.out + Self.rank * (Self.inFeatures + Self.out), "checked \(result.checked)")
        #expect(layer.weight.count == 0 && !layer.weight.requiresGrad && layer.weight.grad == nil)
    }
}
