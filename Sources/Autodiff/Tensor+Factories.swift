// Tensor+Factories.swift — making tensors from a seeded RNG.
//
// Teaches: initialisation is part of the experiment: every random tensor names the RNG it drew from.
// Leaves out: fancy initialisers (Xavier/Kaiming live with the layers that use them).
import Kernels

extension Tensor {
    /// Normal(mean, std²) entries drawn from `rng`.
    public static func randomNormal(_ shape: [Int], mean: Float = 0, std: Float = 1, rng: inout RNG,
                                    requiresGrad: Bool = false, role: MemoryRole = MemoryRole.current) -> Tensor {
        let t = Tensor(zeros: shape, requiresGrad: requiresGrad, role: role)
        for i in 0..<t.count { t.data[i] = mean + std * rng.normal() }
        return t
    }

    /// Uniform [low, high) entries drawn from `rng`.
    public static func randomUniform(_ shape: [Int], low: Float = 0, high: Float = 1, rng: inout RNG,
                                     requiresGrad: Bool = false, role: MemoryRole = MemoryRole.current) -> Tensor {
        let t = Tensor(zeros: shape, requiresGrad: requiresGrad, role: role)
        for i in 0..<t.count { t.data[i] = rng.uniform(low, high) }
        return t
    }

    /// 0, 1, …, n−1 as a float vector.
    public static func arange(_ n: Int) -> Tensor { Tensor((0..<n).map(Float.init), shape: [n]) }
}
