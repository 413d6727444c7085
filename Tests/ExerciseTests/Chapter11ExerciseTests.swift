// Chapter11ExerciseTests.swift — tests for exercises 11.1 (STE backward) and 12.1 (NF4 block quantization),
// each against the library. Select them with: swift test --filter "Task 11" (or "Task 12").
import Testing
import ExerciseKit
import Workbook
import WorkbookCatalogue
import Kernels
import Autodiff
import Quantization

@Suite(.implemented("11.1")) struct `Task 11.1 — straight-through estimator` {
    @Test func `Task 11.1 — equals the library's fakeQuantize backward`() throws {
        var rng = RNG(seed: 7)
        let values = (0..<64).map { _ in rng.normal() * 2 }
        let upstream = (0..<64).map { _ in rng.normal() }
        // int4 grid with scale 0.25: values beyond ±7·0.25 = ±1.75 are clamped and get no gradient.
        let x = Tensor(values, shape: [64], requiresGrad: true)
        let y = Tensor.fakeQuantize(x, scales: [0.25], groupSize: 64, qmin: -7, qmax: 7)
        (y * Tensor(upstream, shape: [64])).sum().backward()
        let got = try straightThroughGradient(x: values, scale: 0.25, qmin: -7, qmax: 7, upstream: upstream)
        #expect(got == x.grad!.values)
        #expect(got.filter { $0 == 0 }.count > 5)      // some values really were clamped
    }
}

@Suite(.implemented("12.1")) struct `Task 12.1 — NF4 block quantization` {
    @Test func `Task 12.1 — hand-checked codes and packing`() throws {
        // absmax 2: −2 → −1 (code 0), 2 → 1 (15), 0 → 7; 0.4/2 = 0.2 lies below the 0.2035 midpoint of
        // 0.1609 (code 9) and 0.2461; 1/2 = 0.5 lies below the 0.5017 midpoint of 0.4407 (code 12) and 0.5626.
        let (packed, absmax) = try nf4QuantizeBlock([-2, 2, 0, 0.4, 1])
        #expect(absmax == 2)
        #expect(packed == [0x0F, 0x79, 0xC0])   // odd count: the last low nibble stays 0
    }

    @Test func `Task 12.1 — equals the library's NF4 weights on 64-value blocks`() throws {
        var rng = RNG(seed: 3)
        let values = (0..<256).map { _ in rng.normal() * 0.02 }
        let library = try NF4Weight(values, rows: 4, columns: 64, doubleQuantize: false)
        var packed: [UInt8] = [], scales: [Float] = []
        for block in 0..<4 {
            let result = try nf4QuantizeBlock(Array(values[block * 64 ..< block * 64 + 64]))
            packed += result.packed
            scales.append(result.absmax)
        }
        #expect(packed == library.packedBytes)
        #expect(scales == library.blockScales!)
    }
}
