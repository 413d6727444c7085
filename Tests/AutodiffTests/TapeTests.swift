// TapeTests.swift — the tape itself: accumulation, no-grad, graph release, and hand-computed gradients.
import Testing
import Kernels
@testable import Autodiff

@Suite struct TapeTests {
    @Test func handComputedProductRule() {
        // f(a, b) = sum(a·b + a): ∂f/∂a = b + 1, ∂f/∂b = a.
        let a = Tensor([1, 2, 3], shape: [3], requiresGrad: true)
        let b = Tensor([4, 5, 6], shape: [3], requiresGrad: true)
        (a * b + a).sum().backward()
        #expect(a.grad!.values == [5, 6, 7])
        #expect(b.grad!.values == [1, 2, 3])
    }

    @Test func gradientsAccumulateUntilZeroed() {
        let a = Tensor([2], shape: [1], requiresGrad: true)
        (a * 3).sum().backward()
        (a * 3).sum().backward()
        #expect(a.grad!.values == [6])
        a.zeroGrad()
        (a * 3).sum().backward()
        #expect(a.grad!.values == [3])
    }

    @Test func noGradRecordsNothing() {
        let a = Tensor([2], shape: [1], requiresGrad: true)
        let y = Tensor.withNoGrad { a * 3 }
        #expect(!y.requiresGrad)
        #expect(y.producingOp == nil)
    }

    @Test func frozenTensorsGetNoGradientBuffer() {
        let w = Tensor([1, 2], shape: [2])              // frozen
        let x = Tensor([3, 4], shape: [2], requiresGrad: true)
        (w * x).sum().backward()
        #expect(w.grad == nil)
        #expect(x.grad!.values == [1, 2])
    }

    @Test func sharedSubexpressionAccumulates() {
        // y = x·x uses x twice: dy/dx = 2x.
        let x = Tensor([3], shape: [1], requiresGrad: true)
        (x * x).sum().backward()
        #expect(x.grad!.values == [6])
    }

    @Test func matmulAgainstHandComputedValues() {
        let a = Tensor([1, 2, 3, 4], shape: [2, 2], requiresGrad: true)
        let b = Tensor([5, 6, 7, 8], shape: [2, 2], requiresGrad: true)
        let c = Tensor.matmul(a, b)
        #expect(c.values == [19, 22, 43, 50])
        c.sum().backward()
        // dA = 1·Bᵀ row sums: [5+6, 7+8] per row; dB = Aᵀ·1: column sums of A per row of B.
        #expect(a.grad!.values == [11, 15, 11, 15])
        #expect(b.grad!.values == [4, 4, 6, 6])
    }

    @Test func checkpointMatchesPlainBackward() {
        var rng = RNG(seed: 3)
        let x = Tensor.randomNormal([4, 6], rng: &rng, requiresGrad: true)
        let w = Tensor.randomNormal([5, 6], rng: &rng, requiresGrad: true)
        let plain = Tensor.matmul(x, w, transposeB: true).tanh().sum()
        plain.backward()
        let (gx, gw) = (x.grad!.values, w.grad!.values)
        x.zeroGrad(); w.zeroGrad()
        let segmented = Tensor.checkpoint([x], parameters: [w]) { Tensor.matmul($0[0], w, transposeB: true).tanh() }.sum()
        #expect(abs(segmented.item - plain.item) < 1e-6)
        segmented.backward()
        #expect(x.grad!.values == gx)
        #expect(w.grad!.values == gw)
    }
}
