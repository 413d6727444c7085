// OpCatalogueTests.swift — forward against the Double references, backward against finite
// differences twice (of the Float32 op at 1e-2, and of its Double reference at 1e-4 — see
// Autodiff/GradientCheck.swift), and the rule that no op escapes the catalogue.
import Testing
@testable import Autodiff

@Suite struct OpCatalogueTests {
    @Test func everyOpHasACatalogueEntry() {
        let covered = Set(OpCase.catalogue.map(\.op))
        let missing = Op.allCases.filter { !covered.contains($0) }
        #expect(missing.isEmpty, "ops without a gradient check: \(missing)")
    }

    @Test(arguments: OpCase.catalogue)
    func forwardMatchesTheDoubleReference(_ testCase: OpCase) {
        let inputs = testCase.inputs()
        let output = Tensor.withNoGrad { testCase.function(inputs) }
        let expected = testCase.reference(inputs.map { $0.values.map(Double.init) })
        #expect(output.count == expected.count)
        let worst = zip(output.values, expected).map { abs(Double($0) - $1) / max(1, abs($1)) }.max() ?? 0
        #expect(worst < 1e-5, "\(testCase): relative error \(worst)")
    }

    @Test(arguments: OpCase.catalogue)
    func backwardMatchesFiniteDifferences(_ testCase: OpCase) {
        let result = GradientCheck.check(testCase.inputs(seed: 2), testCase.function)
        #expect(result.passed, "\(testCase): \(result)")
        #expect(result.checked == testCase.shapes.map { $0.reduce(1, *) }.reduce(0, +))
    }

    /// Every case but fake quantization, whose forward is a staircase: its straight-through gradient is
    /// by definition not the derivative of its Double reference.
    static let smoothCases = OpCase.catalogue.filter { $0.op != .fakeQuantize }

    @Test(arguments: smoothCases)
    func backwardMatchesDoubleDifferencesOfTheReference(_ testCase: OpCase) {
        let result = GradientCheck.check(testCase.inputs(seed: 2), reference: testCase.reference, testCase.function)
        #expect(result.passed, "\(testCase): \(result)")
        #expect(result.checked == testCase.shapes.map { $0.reduce(1, *) }.reduce(0, +))
    }
}
