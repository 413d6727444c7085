// Ops+Unary.swift — pointwise functions: exp, log, sqrt and the activation functions.
//
// Teaches: a pointwise op's backward is the output gradient times the local derivative f'(x);
// the derivatives themselves live next to the functions in Kernels/Elementwise.swift.
// Leaves out: in-place activations (they would save memory but make the tape harder to read).
import Kernels

/// Which GELU formula to use.
public enum GELUApproximation: Sendable {
    /// 0.5·x·(1 + tanh(√(2/π)(x + 0.044715x³))) — GPT-2's "gelu_new".
    case tanh
    /// x·Φ(x), the exact form.
    case erf
}

extension Tensor {
    /// y = f(x) elementwise, recorded as `op`.
    private func pointwise(_ op: Op, _ kind: UnaryOp) -> Tensor {
        let out = Tensor(uninitialized: shape)
        Elementwise.unary(kind, data, out.data, count: count)
        return Tensor.record(op, out, inputs: [self]) { out in
            Elementwise.unaryBackward(kind, x: self.data, y: out.data, dy: out.grad!.data,
                                      dx: self.gradientBuffer(), count: self.count)
        }
    }

    /// eˣ elementwise.
    public func exp() -> Tensor { pointwise(.exp, .exp) }
    /// Natural logarithm elementwise (x > 0).
    public func log() -> Tensor { pointwise(.log, .log) }
    /// Square root elementwise (x > 0 for a finite gradient).
    public func sqrt() -> Tensor { pointwise(.sqrt, .sqrt) }
    /// max(x, 0); the gradient at 0 is taken as 0.
    public func relu() -> Tensor { pointwise(.relu, .relu) }
    /// 1 / (1 + e⁻ˣ).
    public func sigmoid() -> Tensor { pointwise(.sigmoid, .sigmoid) }
    /// Hyperbolic tangent.
    public func tanh() -> Tensor { pointwise(.tanh, .tanh) }
    /// x·sigmoid(x) (a.k.a. swish), used by SwiGLU.
    public func silu() -> Tensor { pointwise(.silu, .silu) }
    /// The Gaussian error linear unit, in the chosen form.
    public func gelu(_ approximation: GELUApproximation = .tanh) -> Tensor {
        switch approximation {
        case .tanh: return pointwise(.geluTanh, .geluTanh)
        case .erf: return pointwise(.geluErf, .geluErf)
        }
    }
}
