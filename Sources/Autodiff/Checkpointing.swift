// Checkpointing.swift — activation checkpointing: trade compute for memory.
//
// Teaches: the activations saved for backward dominate training memory at long contexts. A
// checkpointed segment keeps only its inputs; its forward runs without recording, and backward runs
// the segment again (this time recording) to get the activations back just when they are needed.
// Cost: one extra forward of the segment. Saving: every activation inside it.
// Leaves out: selective checkpointing policies, offloading to disk.

extension Tensor {
    /// Runs `segment` on `inputs` without keeping its internal activations; they are recomputed in backward.
    ///
    /// - Parameters:
    ///   - inputs: the tensors the segment reads that come from outside (activations).
    ///   - parameters: the trainable tensors used inside (their gradients accumulate as usual).
    ///   - segment: must be deterministic (a dropout inside must draw from a copied RNG) because it
    ///     runs twice.
    public static func checkpoint(_ inputs: [Tensor], parameters: [Tensor] = [],
                                  _ segment: @escaping ([Tensor]) -> Tensor) -> Tensor {
        // Forward without a tape: nothing inside is saved.
        let output = withNoGrad { segment(inputs) }
        return record(.checkpoint, output, inputs: inputs + parameters) { output in
            // Recompute with a tape, on detached copies so the outer graph is not re-entered.
            let replicas = inputs.map { input -> Tensor in
                let copy = input.detached()
                copy.requiresGrad = input.requiresGrad
                return copy
            }
            let recomputed = $gradientsEnabled.withValue(true) { segment(replicas) }
            recomputed.backward(gradient: output.grad!)
            // Hand the replicas' gradients to the real inputs.
            for (input, replica) in zip(inputs, replicas) where input.requiresGrad {
                guard let g = replica.grad else { continue }
                let target = input.gradientBuffer()
                for i in 0..<input.count { target[i] += g.data[i] }
            }
        }
    }
}
