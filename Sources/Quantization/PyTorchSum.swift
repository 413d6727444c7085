// PyTorchSum.swift — a float32 sum added up in exactly PyTorch's CPU order, so that a mean we compute
// is bit-identical to `tensor.mean()`.
//
// Teaches: floating-point addition is not associative, so "the sum" of a float32 array depends on the
// order of the additions, and a library that wants bit-exact parity with another must copy its order.
// bitsandbytes' double quantization subtracts `absmax.mean()` from the NF4 block scales before it
// quantizes them; every later byte depends on that one float, so we sum in PyTorch's cascade order
// so fixtures compare bit-exactly.
// The order (aten/src/ATen/native/cpu/SumKernel.cpp, `cascade_sum` for a contiguous 1-D float tensor):
// 1. The array is read as n / W vectors of W lanes (`Vectorized<float>`: W = 8 with AVX2, 16 with
//    AVX-512; `torch.backends.cpu.get_cpu_capability()` says which; our fixtures were made on "AVX2").
//    Arrays shorter than W are summed by the same cascade as scalars (step 2 with one lane).
// 2. `row_sum`: four interleaved accumulators (vectors 4g, 4g+1, 4g+2, 4g+3 of group g), each a
//    cascade (`multi_row_sum`): groups are added into level 0; every 2^p groups level 0 is emptied
//    into level 1, every 2^2p into level 2, every 2^3p into level 3 (p = max(4, ⌈log2 groups⌉ / 4));
//    at the end level 0 += level 1, += level 2, += level 3. The vectors left over after the last
//    group of four go into accumulator 0, then accumulator 0 += 1, += 2, += 3.
// 3. The scalars after the last whole vector are added, from 0, in order; then the W lanes of the
//    vector sum, lane 0 first.
// 4. `mean` = that sum / n, one float32 division (`at::mean` on the CPU is `sum(...).div_(n)`).
// Above 32 768 values (at::internal::GRAIN_SIZE) torch splits the range into one chunk per thread,
// sums each chunk as above and then sums the per-thread results (a buffer of `threads` values, unused
// ones 0) the same way: `threads` reproduces that for a given `torch.get_num_threads()`.
// Leaves out: half/bfloat16 inputs (torch sums those in float32 after a pairwise load), strided or
// multi-dimensional reductions, nansum.
import Foundation

/// PyTorch's CPU float32 summation order (`torch.sum` / `torch.mean` of a contiguous 1-D tensor).
public enum PyTorchSum {
    /// Tensors with fewer values than this are always summed by one thread (at::internal::GRAIN_SIZE).
    public static let grainSize = 32_768

    /// `torch.tensor(values).sum()` bit for bit. `vectorWidth`: lanes of torch's `Vectorized<float>` on
    /// the machine being matched (8 for AVX2, 16 for AVX-512, 4 for NEON); `threads`: its
    /// `torch.get_num_threads()` (it only matters above `grainSize` values). Throws for another width.
    public static func sum(_ values: [Float], vectorWidth: Int = 8, threads: Int = 1) throws -> Float {
        guard [4, 8, 16].contains(vectorWidth) else {
            throw QuantizationError("PyTorchSum: vector width \(vectorWidth) is not one of torch's (4, 8 or 16 lanes)")
        }
        guard threads >= 1 else { throw QuantizationError("PyTorchSum: \(threads) threads") }
        return values.withUnsafeBufferPointer { all in
            let n = all.count
            // A single thread, or too little work to split: one cascade over the whole array.
            if n < grainSize || threads == 1 { return serialSum(all, vectorWidth: vectorWidth) }
            // at::parallel_for with OpenMP: min(threads, ⌈n / grain⌉) chunks of ⌈n / chunks⌉ values; each
            // thread's result lands in its slot of a `threads`-long buffer, which is then summed.
            let chunks = min(threads, (n + grainSize - 1) / grainSize)
            let chunk = (n + chunks - 1) / chunks
            var partials = [Float](repeating: 0, count: threads)
            for t in 0..<chunks where t * chunk < n {
                let range = t * chunk ..< min(n, (t + 1) * chunk)
                partials[t] = serialSum(UnsafeBufferPointer(rebasing: all[range]), vectorWidth: vectorWidth)
            }
            return partials.withUnsafeBufferPointer { serialSum($0, vectorWidth: vectorWidth) }
        }
    }

    /// `torch.tensor(values).mean()` bit for bit: `sum` / n in float32 (NaN for an empty array, as torch).
    public static func mean(_ values: [Float], vectorWidth: Int = 8, threads: Int = 1) throws -> Float {
        try sum(values, vectorWidth: vectorWidth, threads: threads) / Float(values.count)
    }

    /// One thread's sum (`cascade_sum`'s loop body) over a contiguous range.
    static func serialSum(_ x: UnsafeBufferPointer<Float>, vectorWidth: Int) -> Float {
        switch vectorWidth {
        case 4: return vectorisedSum(x, lanes: SIMD4<Float>.self)
        case 16: return vectorisedSum(x, lanes: SIMD16<Float>.self)
        default: return vectorisedSum(x, lanes: SIMD8<Float>.self)
        }
    }

    /// `vectorized_inner_sum` for one row: whole vectors by the cascade, then the scalar tail, then the
    /// lanes. (Fewer values than one vector: the scalar cascade, as torch's `scalar_outer_sum` does.)
    static func vectorisedSum<V: SIMD & SIMDOrFloat>(_ x: UnsafeBufferPointer<Float>, lanes: V.Type) -> Float where V.Scalar == Float {
        let n = x.count, width = V.scalarCount
        guard n >= width, let base = x.baseAddress else { return rowSum(count: n, zero: Float(0)) { x[$0] } }
        let vectors = n / width
        let raw = UnsafeRawPointer(base)
        let vectorTotal = rowSum(count: vectors, zero: V()) { raw.loadUnaligned(fromByteOffset: $0 * width * 4, as: V.self) }
        var total: Float = 0
        for k in vectors * width ..< n { total += x[k] }
        for lane in 0..<width { total += vectorTotal[lane] }
        return total
    }

    /// `row_sum`: the elements 0..<count as four interleaved cascades (element 4g + k goes to
    /// accumulator k), the leftovers into accumulator 0, then the four added in order.
    @inline(__always)
    static func rowSum<A: SIMDOrFloat>(count: Int, zero: A, load: (Int) -> A) -> A {
        let groups = count / 4
        var partial = multiRowSum(groups: groups, zero: zero, load: load)
        for i in groups * 4 ..< count { partial.0 = partial.0 + load(i) }
        return ((partial.0 + partial.1) + partial.2) + partial.3
    }

    /// `multi_row_sum` with four rows: a four-level cascade over `groups` groups of four elements.
    @inline(__always)
    static func multiRowSum<A: SIMDOrFloat>(groups: Int, zero: A, load: (Int) -> A) -> (A, A, A, A) {
        let levels = 4
        // level_power = max(4, CeilLog2(groups) / 4); CeilLog2(x) = bit length of x − 1 (1 for x ≤ 2).
        let ceilLog2 = groups <= 2 ? 1 : Int.bitWidth - (groups - 1).leadingZeroBitCount
        let power = max(4, ceilLog2 / levels)
        let step = 1 << power, mask = step - 1
        // acc[level][row], rows being the four interleaved accumulators.
        var acc = [[A]](repeating: [A](repeating: zero, count: 4), count: levels)
        var i = 0
        while i + step <= groups {
            for _ in 0..<step {
                for k in 0..<4 { acc[0][k] = acc[0][k] + load(4 * i + k) }
                i += 1
            }
            // Carry level j−1 into level j; stop at the first level whose period has not elapsed.
            for j in 1..<levels {
                for k in 0..<4 { acc[j][k] = acc[j][k] + acc[j - 1][k]; acc[j - 1][k] = zero }
                if i & (mask << (j * power)) != 0 { break }
            }
        }
        while i < groups {
            for k in 0..<4 { acc[0][k] = acc[0][k] + load(4 * i + k) }
            i += 1
        }
        for j in 1..<levels { for k in 0..<4 { acc[0][k] = acc[0][k] + acc[j][k] } }
        return (acc[0][0], acc[0][1], acc[0][2], acc[0][3])
    }
}

/// What the cascade adds: a Float or a vector of Floats (lane-wise IEEE additions, no fusing).
protocol SIMDOrFloat { static func + (a: Self, b: Self) -> Self }
extension Float: SIMDOrFloat {}
extension SIMD4: SIMDOrFloat where Scalar == Float {}
extension SIMD8: SIMDOrFloat where Scalar == Float {}
extension SIMD16: SIMDOrFloat where Scalar == Float {}
