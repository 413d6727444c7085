// Ops+Arithmetic.swift — + − × ÷ with broadcasting, negation, and operations with a scalar.
//
// Teaches: the local derivatives of arithmetic and how broadcasting shows up in backward
// (∂(a+b)/∂a = 1, summed over broadcast positions; ∂(a·b)/∂a = b; ∂(a/b)/∂b = −a/b²).
// Leaves out: integer tensors, in-place ops on tracked tensors.
import Foundation
import Kernels

extension Tensor {
    /// The broadcasting binary op `kind` applied to a and b, recorded as `op`.
    private static func broadcasting(_ op: Op, _ kind: BinaryOp, _ a: Tensor, _ b: Tensor,
                                     backward: @escaping (_ out: Tensor, _ dOut: UnsafePointer<Float>) -> Void) -> Tensor {
        guard let shape = Shapes.broadcast(a.shape, b.shape) else {
            fatalError("\(op.rawValue): shapes \(a.shape) and \(b.shape) do not broadcast")
        }
        let out = Tensor(uninitialized: shape)
        Elementwise.binary(kind, a: a.data, aStrides: Shapes.broadcastStrides(a.shape, to: shape),
                           b: b.data, bStrides: Shapes.broadcastStrides(b.shape, to: shape),
                           out: out.data, shape: shape)
        return record(op, out, inputs: [a, b]) { out in backward(out, out.grad!.data) }
    }

    /// Elementwise a + b (broadcasting). ∂/∂a = ∂/∂b = 1.
    public static func + (a: Tensor, b: Tensor) -> Tensor {
        broadcasting(.add, .add, a, b) { out, dOut in
            if a.requiresGrad { a.accumulateUnbroadcast(dOut, gradShape: out.shape) }
            if b.requiresGrad { b.accumulateUnbroadcast(dOut, gradShape: out.shape) }
        }
    }

    /// Elementwise a − b (broadcasting). ∂/∂a = 1, ∂/∂b = −1.
    public static func - (a: Tensor, b: Tensor) -> Tensor {
        broadcasting(.sub, .sub, a, b) { out, dOut in
            if a.requiresGrad { a.accumulateUnbroadcast(dOut, gradShape: out.shape) }
            if b.requiresGrad {
                let negated = (0..<out.count).map { -dOut[$0] }
                b.accumulateUnbroadcast(negated, gradShape: out.shape)
            }
        }
    }

    /// Elementwise a · b (broadcasting). ∂/∂a = b, ∂/∂b = a.
    public static func * (a: Tensor, b: Tensor) -> Tensor {
        broadcasting(.mul, .mul, a, b) { out, dOut in
            // dA = dOut ⊙ b (b broadcast to the output shape), then summed back to a's shape.
            if a.requiresGrad { a.accumulateUnbroadcast(product(dOut, b, shape: out.shape), gradShape: out.shape) }
            if b.requiresGrad { b.accumulateUnbroadcast(product(dOut, a, shape: out.shape), gradShape: out.shape) }
        }
    }

    /// Elementwise a / b (broadcasting). ∂/∂a = 1/b, ∂/∂b = −a/b².
    public static func / (a: Tensor, b: Tensor) -> Tensor {
        broadcasting(.div, .div, a, b) { out, dOut in
            // With q = a/b: dA = dOut / b, dB = −dOut · q / b.
            if a.requiresGrad {
                var dA = [Float](repeating: 0, count: out.count)
                dA.withUnsafeMutableBufferPointer { buffer in
                    Elementwise.binary(.div, a: dOut, aStrides: Shapes.strides(out.shape),
                                       b: b.data, bStrides: Shapes.broadcastStrides(b.shape, to: out.shape),
                                       out: buffer.baseAddress!, shape: out.shape)
                }
                a.accumulateUnbroadcast(dA, gradShape: out.shape)
            }
            if b.requiresGrad {
                var dB = product(dOut, out, shape: out.shape)
                dB.withUnsafeMutableBufferPointer { buffer in
                    Elementwise.binary(.div, a: buffer.baseAddress!, aStrides: Shapes.strides(out.shape),
                                       b: b.data, bStrides: Shapes.broadcastStrides(b.shape, to: out.shape),
                                       out: buffer.baseAddress!, shape: out.shape)
                }
                for i in 0..<dB.count { dB[i] = -dB[i] }
                b.accumulateUnbroadcast(dB, gradShape: out.shape)
            }
        }
    }

    /// dOut ⊙ x, with x broadcast to `shape` (a helper for the product rule).
    private static func product(_ dOut: UnsafePointer<Float>, _ x: Tensor, shape: [Int]) -> [Float] {
        var result = [Float](repeating: 0, count: shape.reduce(1, *))
        result.withUnsafeMutableBufferPointer { buffer in
            Elementwise.binary(.mul, a: dOut, aStrides: Shapes.strides(shape),
                               b: x.data, bStrides: Shapes.broadcastStrides(x.shape, to: shape),
                               out: buffer.baseAddress!, shape: shape)
        }
        return result
    }

    /// Elementwise −a.
    public static prefix func - (a: Tensor) -> Tensor {
        let out = Tensor(uninitialized: a.shape)
        for i in 0..<a.count { out.data[i] = -a.data[i] }
        return record(.neg, out, inputs: [a]) { out in
            let g = a.gradientBuffer(), dOut = out.grad!.data
            for i in 0..<a.count { g[i] -= dOut[i] }
        }
    }

    /// a + s for a scalar s.
    public static func + (a: Tensor, s: Float) -> Tensor {
        let out = Tensor(uninitialized: a.shape)
        for i in 0..<a.count { out.data[i] = a.data[i] + s }
        return record(.addScalar, out, inputs: [a]) { out in
            let g = a.gradientBuffer(), dOut = out.grad!.data
            for i in 0..<a.count { g[i] += dOut[i] }
        }
    }

    /// s + a.
    public static func + (s: Float, a: Tensor) -> Tensor { a + s }
    /// a − s.
    public static func - (a: Tensor, s: Float) -> Tensor { a + (-s) }
    /// s − a.
    public static func - (s: Float, a: Tensor) -> Tensor { (-a) + s }

    /// a · s for a scalar s.
    public static func * (a: Tensor, s: Float) -> Tensor {
        let out = Tensor(uninitialized: a.shape)
        for i in 0..<a.count { out.data[i] = a.data[i] * s }
        return record(.mulScalar, out, inputs: [a]) { out in
            let g = a.gradientBuffer(), dOut = out.grad!.data
            for i in 0..<a.count { g[i] += dOut[i] * s }
        }
    }

    /// s · a.
    public static func * (s: Float, a: Tensor) -> Tensor { a * s }
    /// a / s.
    public static func / (a: Tensor, s: Float) -> Tensor { a * (1 / s) }

    /// aᵖ elementwise for a scalar exponent p. ∂/∂a = p·aᵖ⁻¹ (for non-integer p, a must be positive).
    public func pow(_ p: Float) -> Tensor {
        let out = Tensor(uninitialized: shape)
        for i in 0..<count { out.data[i] = Foundation.pow(data[i], p) }
        return Tensor.record(.powScalar, out, inputs: [self]) { out in
            let g = self.gradientBuffer(), dOut = out.grad!.data
            for i in 0..<self.count { g[i] += dOut[i] * p * Foundation.pow(self.data[i], p - 1) }
        }
    }
}

extension Tensor {
    /// `accumulateUnbroadcast` for an array.
    func accumulateUnbroadcast(_ grad: [Float], gradShape: [Int]) {
        grad.withUnsafeBufferPointer { accumulateUnbroadcast($0.baseAddress!, gradShape: gradShape) }
    }
}
