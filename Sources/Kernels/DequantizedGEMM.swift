// DequantizedGEMM.swift — multiplying by a weight that is stored quantized, without unpacking it.
//
// Teaches: how QLoRA computes with a 4-bit base. The weight W [rows, columns] lives as packed codes
// plus scales (a few bits per value); the matrix product needs floats. Unpacking the whole matrix
// first would bring back the fp32 copy quantization was meant to remove, so the kernel walks W in
// panels of `panelRows` rows: it dequantizes one panel into a small scratch buffer (64 rows × columns
// floats, reused) and runs the packed GEMM on it, writing that panel's slice of the output. Peak
// extra memory is one panel per thread, whatever the size of W; each panel is decoded once per call.
// The two products a linear layer needs:
//   forward   Y[m, rows]    = X[m, columns] · Wᵀ          (each panel fills `panelRows` output columns)
//   backward  dX[m, columns] += G[m, rows] · W            (each panel adds its rank-`panelRows` share)
// The weight's format is not known here: anything that can decode a range of rows (NF4, int8, …)
// conforms to `DequantizingWeight`.
// Leaves out: decoding straight into the GEMM's packed tiles (one copy fewer), int8 tensor-core math.
import Foundation

/// A matrix W [rows, columns] stored in some compressed form that can decode row ranges to Float.
public protocol DequantizingWeight: AnyObject {
    /// Number of rows (a linear layer's output features).
    var rows: Int { get }
    /// Number of columns (input features).
    var columns: Int { get }
    /// Writes rows `start ..< start + count`, row-major, into `destination` (count × columns floats).
    /// Must be safe to call from several threads at once for disjoint row ranges.
    func dequantizeRows(_ start: Int, count: Int, into destination: UnsafeMutablePointer<Float>)
}

/// GEMMs whose B operand is a `DequantizingWeight`, decoded panel by panel.
public enum DequantizedGEMM {
    /// Rows of W decoded at a time (a multiple of the micro-kernel's 16 columns).
    public static let panelRows = 64

    /// Y[m, rows] = X[m, columns] · Wᵀ, written with row stride `ldy` (β = 0: Y is not read).
    public static func multiplyTransposed(x: UnsafePointer<Float>, m: Int, weight: DequantizingWeight,
                                          y: UnsafeMutablePointer<Float>, ldy: Int, threads: Int? = nil) {
        let columns = weight.columns
        forEachPanel(of: weight, m: m, threads: threads) { start, count, panel, innerThreads in
            // This panel's output columns: Y[:, start..<start+count] = X · panelᵀ.
            GEMM.multiply(transA: .none, transB: .transposed, m: m, n: count, k: columns,
                          a: x, lda: columns, b: panel, ldb: columns, c: y + start, ldc: ldy, threads: innerThreads)
        }
    }

    /// dX[m, columns] += G[m, rows] · W (G has row stride `ldg`). Panels touch all of dX, so they run
    /// one after another (in a fixed order: the sum is the same for any thread count); threads split
    /// each panel's GEMM instead.
    public static func accumulateProduct(g: UnsafePointer<Float>, ldg: Int, m: Int, weight: DequantizingWeight,
                                         dx: UnsafeMutablePointer<Float>, threads: Int? = nil) {
        let columns = weight.columns
        let panel = UnsafeMutablePointer<Float>.allocate(capacity: panelRows * columns)
        defer { panel.deallocate() }
        for start in stride(from: 0, to: weight.rows, by: panelRows) {
            let count = min(panelRows, weight.rows - start)
            weight.dequantizeRows(start, count: count, into: panel)
            // dX += G[:, start..<start+count] · panel.
            GEMM.multiply(transA: .none, transB: .none, m: m, n: columns, k: count,
                          a: g + start, lda: ldg, b: panel, ldb: columns, beta: 1, c: dx, ldc: columns, threads: threads)
        }
    }

    /// Bytes a GEMM with this weight reads for W: what the fused kernel saves is reported from this.
    public static func weightBytesRead(_ weight: DequantizingWeight, bitsPerValue: Double) -> Int {
        Int((Double(weight.rows * weight.columns) * bitsPerValue / 8).rounded(.up))
    }

    /// Pointers made sendable for the workers (each writes its own panels' output columns).
    private struct Shared: @unchecked Sendable {
        let weight: DequantizingWeight
        let body: (Int, Int, UnsafeMutablePointer<Float>, Int) -> Void
    }

    /// Calls `body(start, count, panel, innerThreads)` for every panel of W, decoded into per-worker
    /// scratch. With several threads and enough panels, panels are dealt round-robin to workers (each
    /// decodes its own, so decoding is parallel too); otherwise panels run in order and the GEMM inside
    /// gets the threads.
    private static func forEachPanel(of weight: DequantizingWeight, m: Int, threads: Int?,
                                     _ body: @escaping (Int, Int, UnsafeMutablePointer<Float>, Int) -> Void) {
        let columns = weight.columns
        let panels = (weight.rows + panelRows - 1) / panelRows
        let budget = max(1, min(threads ?? Parallelism.threads, panels))
        // Worth splitting only when each worker gets real work (~2 MFLOP, as in GEMM).
        let workers = m * weight.rows * columns >= 2_000_000 * budget ? budget : 1
        let shared = Shared(weight: weight, body: body)
        let work: @Sendable (Int) -> Void = { worker in
            let panel = UnsafeMutablePointer<Float>.allocate(capacity: panelRows * columns)
            defer { panel.deallocate() }
            for index in stride(from: worker, to: panels, by: workers) {
                let start = index * panelRows
                let count = min(panelRows, shared.weight.rows - start)
                shared.weight.dequantizeRows(start, count: count, into: panel)
                shared.body(start, count, panel, workers == 1 ? (threads ?? Parallelism.threads) : 1)
            }
        }
        if workers == 1 { work(0) } else { Parallelism.perform(iterations: workers, work) }
    }
}

/// A plain Float matrix as a `DequantizingWeight` (no compression): the reference the tests and
/// benchmarks compare quantized formats against.
public final class DenseWeight: DequantizingWeight, @unchecked Sendable {
    public let rows: Int
    public let columns: Int
    /// The values, row-major [rows, columns].
    public let values: [Float]

    /// Wraps `values` as a [rows, columns] matrix.
    public init(_ values: [Float], rows: Int, columns: Int) {
        require(values.count == rows * columns, "DenseWeight: \(values.count) values for [\(rows), \(columns)]")
        self.values = values
        self.rows = rows
        self.columns = columns
    }

    public func dequantizeRows(_ start: Int, count: Int, into destination: UnsafeMutablePointer<Float>) {
        values.withUnsafeBufferPointer { destination.update(from: $0.baseAddress! + start * columns, count: count * columns) }
    }
}
