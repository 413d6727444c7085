// MLP.swift — the per-position feed-forward network: GELU (GPT-2) or gated SwiGLU (Llama).
//
// Teaches: two-thirds of a transformer's parameters sit here. GPT-2: down(gelu(up(x))).
// Llama's gated form: down(silu(gate(x)) ⊙ up(x)) — three matrices instead of two.
// Leaves out: mixture-of-experts routing.
import Kernels
import Autodiff

/// The feed-forward block of one transformer layer.
public final class MLP: Module {
    let flavour: GPTConfig.Flavour
    let approximation: GELUApproximation
    /// GPT-2: C → mlpSize and back.
    public let c_fc: Linear?, c_proj: Linear?
    /// Llama: gate and up C → mlpSize, down mlpSize → C.
    public let gate_proj: Linear?, up_proj: Linear?, down_proj: Linear?

    /// Layers initialised N(0, 0.02²), the output projection scaled by 1/√(2·layers).
    public init(config: GPTConfig, rng: inout RNG) {
        flavour = config.flavour
        approximation = config.geluApproximation == "erf" ? .erf : .tanh
        let (c, hidden) = (config.embeddingSize, config.mlpSize)
        let outputStd = 0.02 / Float(2 * config.layers).squareRoot()
        switch config.flavour {
        case .gpt2:
            c_fc = Linear(c, hidden, rng: &rng)
            c_proj = Linear(hidden, c, std: outputStd, rng: &rng)
            (gate_proj, up_proj, down_proj) = (nil, nil, nil)
        case .llama:
            gate_proj = Linear(c, hidden, bias: false, rng: &rng)
            up_proj = Linear(c, hidden, bias: false, rng: &rng)
            down_proj = Linear(hidden, c, bias: false, std: outputStd, rng: &rng)
            (c_fc, c_proj) = (nil, nil)
        }
    }

    public var localParameters: [(name: String, tensor: Tensor)] { [] }
    public var children: [(name: String, module: any Module)] {
        [("c_fc", c_fc), ("c_proj", c_proj), ("gate_proj", gate_proj), ("up_proj", up_proj), ("down_proj", down_proj)]
            .compactMap { name, layer in layer.map { (name, $0 as any Module) } }
    }

    /// x [..., C] → [..., C].
    public func callAsFunction(_ x: Tensor) -> Tensor {
        switch flavour {
        case .gpt2: return c_proj!(c_fc!(x).gelu(approximation))
        case .llama: return down_proj!(gate_proj!(x).silu() * up_proj!(x))
        }
    }
}
