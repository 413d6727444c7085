// RNG.swift — a seeded random number generator, passed explicitly (there is no global RNG).
//
// Teaches: reproducibility. Same seed → the same numbers, bit for bit, on every run and whatever the
// thread count (random numbers are drawn on the calling thread, never inside parallel kernels).
// Generator: xoshiro256** (Blackman & Vigna), seeded through SplitMix64.
// It lives in Kernels, the bottom layer, so every module above (the synthetic data too) can draw from it.
// Leaves out: counter-based (Philox) streams for drawing in parallel.
import Foundation

/// xoshiro256** with helpers for the distributions training needs. A value type: copy it to fork a
/// stream; its `state` is Codable so a checkpoint can resume the exact sequence.
public struct RNG: RandomNumberGenerator, Codable, Sendable, Equatable {
    /// The four 64-bit words of generator state.
    public private(set) var state: [UInt64]

    /// A generator whose stream is fully determined by `seed`.
    public init(seed: UInt64) {
        // SplitMix64 spreads a small seed over 256 bits of state (never all zero).
        var x = seed
        var words: [UInt64] = []
        for _ in 0..<4 {
            x &+= 0x9E37_79B9_7F4A_7C15
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            words.append(z ^ (z >> 31))
        }
        state = words
    }

    /// Decodes a saved state, refusing one `next()` could not use: not exactly four words (it would
    /// index out of range), or all zero (xoshiro's one fixed point: it yields zeros forever).
    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let words = try container.decode([UInt64].self, forKey: .state)
        guard words.count == 4, words.contains(where: { $0 != 0 }) else {
            throw DecodingError.dataCorruptedError(forKey: .state, in: container,
                                                   debugDescription: "RNG state must be four 64-bit words, not all zero (found \(words.count))")
        }
        state = words
    }

    private enum CodingKeys: String, CodingKey { case state }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        let result = rotl(state[1] &* 5, 7) &* 9
        let t = state[1] << 17
        state[2] ^= state[0]
        state[3] ^= state[1]
        state[1] ^= state[2]
        state[0] ^= state[3]
        state[2] ^= t
        state[3] = rotl(state[3], 45)
        return result
    }

    private func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    /// Uniform in [0, 1), with 24 random bits (every representable multiple of 2⁻²⁴).
    public mutating func uniform() -> Float { Float(next() >> 40) * 0x1p-24 }

    /// Uniform in [low, high).
    public mutating func uniform(_ low: Float, _ high: Float) -> Float { low + (high - low) * uniform() }

    /// Standard normal N(0, 1) by the Box–Muller transform (one draw per call; the twin is discarded
    /// so the stream position does not depend on call history).
    public mutating func normal() -> Float {
        // u1 in (0, 1] so log(u1) is finite.
        let u1 = Double((next() >> 11) + 1) * 0x1p-53
        let u2 = Double(next() >> 11) * 0x1p-53
        return Float((-2 * Foundation.log(u1)).squareRoot() * Foundation.cos(2 * Double.pi * u2))
    }

    /// true with probability p.
    public mutating func bernoulli(_ p: Float) -> Bool { uniform() < p }

    /// Uniform integer in 0..<bound (Lemire's nearly-divisionless method; unbiased).
    public mutating func below(_ bound: Int) -> Int {
        require(bound > 0, "RNG.below: bound must be positive, got \(bound)")
        let range = UInt64(bound)
        var product = next().multipliedFullWidth(by: range)
        if product.low < range {
            let threshold = (0 &- range) % range
            while product.low < threshold { product = next().multipliedFullWidth(by: range) }
        }
        return Int(product.high)
    }

    /// A uniformly random permutation of 0..<n (Fisher–Yates).
    public mutating func permutation(_ n: Int) -> [Int] {
        var values = Array(0..<n)
        if n < 2 { return values }
        for i in stride(from: n - 1, to: 0, by: -1) {
            values.swapAt(i, below(i + 1))
        }
        return values
    }
}
