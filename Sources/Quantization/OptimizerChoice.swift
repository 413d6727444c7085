// OptimizerChoice.swift — the one switch between fp32 and 8-bit optimizer states.
//
// Teaches: the optimizer is a training-memory decision like any other. Every fine-tune trains with AdamW
// (weight decay 0.01); the only choice left is whether its two moment buffers are stored in fp32 (8 bytes
// per trainable parameter) or in 8-bit blocks (AdamW8bit.swift, ~2 bytes). The chapters, the tour and
// `tinytune qlora --adam8bit` all make that choice here, so they cannot drift apart.
// Leaves out: other optimizers (SGD, momentum: see Optim), paged states.
import Autodiff
import Optim

/// Which AdamW a fine-tune uses.
public enum OptimizerChoice: Sendable, Equatable {
    /// AdamW with fp32 moments.
    case adamW
    /// AdamW with 8-bit blockwise moments for every tensor of at least 256 values (bitsandbytes' default
    /// threshold, 4096, would keep all of our small adapter matrices in fp32).
    case adamW8bit

    /// `.adamW8bit` when `eightBit`, else `.adamW`.
    public init(eightBit: Bool) { self = eightBit ? .adamW8bit : .adamW }

    /// The optimizer over the trainable tensors among `parameters` (weight decay 0.01 on matrices).
    public func make(_ parameters: [(name: String, tensor: Tensor)]) -> Optimizer {
        switch self {
        case .adamW: return AdamW(parameters)
        case .adamW8bit: return AdamW8bit(parameters, minimumQuantizedSize: 256)
        }
    }

    /// Bytes `optimizer`'s states really hold: the packed codes and scales for 8-bit AdamW, the fp32
    /// buffers otherwise.
    public static func stateBytes(of optimizer: Optimizer) -> Int {
        (optimizer as? AdamW8bit)?.quantizedStateBytes ?? optimizer.stateBytes
    }
}
