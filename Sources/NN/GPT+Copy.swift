// GPT+Copy.swift — an independent copy of a model: the starting point of every fine-tuning experiment.
//
// Teaches: why experiments copy the base first. Fine-tuning writes into the weights in place, so each
// run starts from `base.copy()` and the base stays untouched for the next one. The copy rebuilds the
// model from its config and copies every parameter value and trainable flag.
// Leaves out: copying adapters or virtual tokens added by PEFT methods (copy the base before adding them).
import Kernels
import Autodiff

extension GPT {
    /// An independent copy: same config, same parameter values and trainable flags, no gradients.
    /// Fine-tuning experiments start from copies so the base model stays untouched. Only the base
    /// model is copied: adapters and virtual tokens installed by PEFT methods are not.
    public func copy() -> GPT {
        var rng = RNG(seed: 0)  // placeholder initial values, overwritten below
        let clone = GPT(config: config, rng: &rng)
        require(clone.namedParameters().count == namedParameters().count,
                     "GPT.copy: the model carries adapters; copy the base before adding them")
        clone.checkpointActivations = checkpointActivations
        for ((_, source), (_, target)) in zip(namedParameters(), clone.namedParameters()) {
            target.assign(source)
            target.requiresGrad = source.requiresGrad
        }
        return clone
    }
}
