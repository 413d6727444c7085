// ValueTests.swift — every scalar op's gradient, by hand and by central differences.
import Foundation
import Testing
@testable import ScalarAutograd

@Suite struct ValueTests {
    @Test func handDerivedGradients() {
        // f = (a·b + a)·tanh(c) at a = 2, b = −3, c = 0.5.
        let a = Value(2), b = Value(-3), c = Value(0.5)
        let f = (a * b + a) * c.tanh()
        f.backward()
        let t = tanh(0.5)
        #expect(abs(f.data - (-4 * t)) < 1e-12)
        #expect(abs(a.grad - (-3 + 1) * t) < 1e-12)      // ∂f/∂a = (b + 1)·tanh c
        #expect(abs(b.grad - 2 * t) < 1e-12)             // ∂f/∂b = a·tanh c
        #expect(abs(c.grad - (-4) * (1 - t * t)) < 1e-12) // ∂f/∂c = (ab + a)(1 − tanh²c)
    }

    @Test func sharedNodesAccumulate() {
        let x = Value(3)
        let y = x * x + x        // dy/dx = 2x + 1 = 7
        y.backward()
        #expect(x.grad == 7)
    }

    /// Every operation, composed, against central differences.
    @Test func allOpsAgainstCentralDifferences() {
        func f(_ v: [Value]) -> Value {
            let (x, y, z) = (v[0], v[1], v[2])
            return (x * y).exp().log() + (x / y).sigmoid() + z.relu() * x.pow(3) - y.tanh() + (z - x) * 2.5
        }
        let point = [0.7, -1.3, 0.4]
        let inputs = point.map { Value($0) }
        f(inputs).backward()
        let numeric = NumericalGradient.centralDifference({ f($0.map { Value($0) }).data }, at: point)
        for (analytic, expected) in zip(inputs.map(\.grad), numeric) {
            #expect(abs(analytic - expected) < 1e-6)
        }
    }

    @Test func zeroGradResetsTheGraph() {
        let x = Value(1)
        let y = x * 3
        y.backward()
        y.zeroGrad()
        #expect(x.grad == 0 && y.grad == 0)
    }

    @Test func mlpParameterCountAndDeterminism() {
        let a = ScalarMLP(sizes: [2, 4, 1], seed: 1), b = ScalarMLP(sizes: [2, 4, 1], seed: 1)
        #expect(a.parameters.count == 2 * 4 + 4 + 4 * 1 + 1)
        #expect(a.parameters.map(\.data) == b.parameters.map(\.data))
        #expect(a([0.5, -1])[0].data == b([0.5, -1])[0].data)
    }
}
