// Softmax.swift — softmax, log-softmax and the fused cross-entropy of language modelling, row by row.
//
// Teaches: the numerically stable softmax (subtract the row max), log-softmax via log-sum-exp, their
// closed-form backward passes, and cross-entropy computed *without* a [rows, V] probability buffer:
// forward keeps one log-sum-exp per row; backward recomputes each probability as exp(x − lse) while
// it writes the gradient (softmax − one-hot). With a 49,152-token vocabulary that buffer would be as
// large as the logits themselves.
// Rows are independent, so they are split over threads in fixed blocks (`Parallelism.forEachBlock`).
// Leaves out: online (one-pass) softmax, label smoothing.
import Foundation

/// Softmax and log-softmax over the last axis.
public enum Softmax {
    /// Rows per block of work handed to a thread.
    static let rowsPerBlock = 16

    /// y[r, :] = exp(x[r, :] − max) / Σ exp(x[r, :] − max).   x, y: [rows, cols]
    public static func forward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, rows: Int, cols: Int) {
        Parallelism.forEachBlock(count: rows, blockSize: rowsPerBlock, workPerItem: cols * 8) { block in
            for r in block {
                let xr = x + r * cols, yr = y + r * cols
                let inv = 1 / RowMath.shiftedExp(xr, yr, cols, shift: RowMath.max(xr, cols))
                for c in 0..<cols { yr[c] *= inv }
            }
        }
    }

    /// dx[r, :] += y ⊙ (dy − ⟨dy, y⟩), the softmax Jacobian-vector product.   all: [rows, cols]
    public static func backward(
        y: UnsafePointer<Float>, dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>, rows: Int, cols: Int
    ) {
        Parallelism.forEachBlock(count: rows, blockSize: rowsPerBlock, workPerItem: cols * 4) { block in
            for r in block {
                let yr = y + r * cols, dyr = dy + r * cols, dxr = dx + r * cols
                let dot = RowMath.dot(yr, dyr, cols)
                for c in 0..<cols { dxr[c] += yr[c] * (dyr[c] - dot) }
            }
        }
    }

    /// log Σ exp(x[r, :]) for one row, computed stably; `scratch` holds `cols` floats.
    @inline(__always)
    static func logSumExp(_ xr: UnsafePointer<Float>, cols: Int, scratch: UnsafeMutablePointer<Float>) -> Float {
        let m = RowMath.max(xr, cols)
        return m + Foundation.log(RowMath.shiftedExp(xr, scratch, cols, shift: m))
    }

    /// y[r, :] = x[r, :] − log Σ exp(x[r, :]) (computed stably).   x, y: [rows, cols]
    public static func logForward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, rows: Int, cols: Int) {
        Parallelism.forEachBlock(count: rows, blockSize: rowsPerBlock, workPerItem: cols * 8) { block in
            for r in block {
                let xr = x + r * cols, yr = y + r * cols
                // y doubles as the scratch row for the exponentials, then receives the result.
                let logSum = logSumExp(xr, cols: cols, scratch: yr)
                for c in 0..<cols { yr[c] = xr[c] - logSum }
            }
        }
    }

    /// dx[r, :] += dy − softmax(x)·Σ dy, where softmax(x) = exp(y).   all: [rows, cols]
    public static func logBackward(
        y: UnsafePointer<Float>, dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>, rows: Int, cols: Int
    ) {
        Parallelism.forEachBlock(count: rows, blockSize: rowsPerBlock, workPerItem: cols * 8) { block in
            for r in block {
                let yr = y + r * cols, dyr = dy + r * cols, dxr = dx + r * cols
                let s = RowMath.sum(dyr, cols)
                for c in 0..<cols { dxr[c] += dyr[c] - FastMath.exp(yr[c]) * s }
            }
        }
    }
}

/// Cross-entropy of logits against target ids, fused with its log-softmax.
public enum CrossEntropy {
    /// Per row r with weight[r] ≠ 0: logSumExp[r] = log Σ exp(logits[r, :]) and
    /// loss[r] = logSumExp[r] − logits[r, target[r]]. Rows of weight 0 are skipped (loss 0).
    /// logits: [rows, cols]; targets, weights, logSumExp, losses: [rows]
    public static func forward(logits: UnsafePointer<Float>, targets: UnsafePointer<Int32>, weights: UnsafePointer<Float>,
                               logSumExp: UnsafeMutablePointer<Float>, losses: UnsafeMutablePointer<Float>,
                               rows: Int, cols: Int) {
        Parallelism.forEachBlock(count: rows, blockSize: Softmax.rowsPerBlock, workPerItem: cols * 8) { block in
            let scratch = UnsafeMutablePointer<Float>.allocate(capacity: cols)
            defer { scratch.deallocate() }
            for r in block {
                guard weights[r] != 0 else { logSumExp[r] = 0; losses[r] = 0; continue }
                let xr = logits + r * cols
                let lse = Softmax.logSumExp(xr, cols: cols, scratch: scratch)
                logSumExp[r] = lse
                losses[r] = lse - xr[Int(targets[r])]
            }
        }
    }

    /// dlogits[r, :] += factor[r] · (exp(logits[r, :] − logSumExp[r]) − onehot(target[r])) for rows whose
    /// factor ≠ 0: the gradient of factor[r]·loss[r], the probabilities recomputed on the fly.
    public static func backward(logits: UnsafePointer<Float>, targets: UnsafePointer<Int32>, factors: UnsafePointer<Float>,
                                logSumExp: UnsafePointer<Float>, dlogits: UnsafeMutablePointer<Float>, rows: Int, cols: Int) {
        Parallelism.forEachBlock(count: rows, blockSize: Softmax.rowsPerBlock, workPerItem: cols * 8) { block in
            for r in block where factors[r] != 0 {
                let xr = logits + r * cols, gr = dlogits + r * cols
                let (factor, lse) = (factors[r], logSumExp[r])
                for c in 0..<cols { gr[c] += factor * FastMath.exp(xr[c] - lse) }
                gr[Int(targets[r])] -= factor
            }
        }
    }
}
