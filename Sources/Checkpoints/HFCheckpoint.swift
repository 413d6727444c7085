// HFCheckpoint — a Hugging Face model directory (config.json + model.safetensors), read,
// validated against the tensor-name map of its architecture, and addressable by canonical name.
//
// What this file teaches: the full loading pipeline up to, but not including, the model:
// config → expected tensors → file → validation report → weights by name. A model-specific
// mapping (which canonical tensor goes into which parameter, and which ones need a transpose)
// sits on top of this and is all that remains to load HF weights into our GPT.
//
// What it leaves out: building the model itself (that needs NN), sharded checkpoints, tokenizers.

import Foundation

/// A validated Hugging Face checkpoint directory.
public struct HFCheckpoint: Sendable {
    /// The parsed config.json.
    public let architecture: HFConfig.Architecture
    /// The parsed model.safetensors.
    public let file: SafeTensors.File
    /// The name map the file was validated against.
    public let map: TensorNameMap
    /// Canonical name → name in the file (e.g. "wte.weight" → "transformer.wte.weight").
    public let fileNames: [String: String]

    /// Reads `directory/config.json` and `directory/model.safetensors` and validates the tensors.
    /// Throws `HFConfig.Error`, `SafeTensors.Error`, or `TensorNameMap.Mismatch` listing every
    /// missing, unexpected and mis-shaped tensor.
    public init(directory: URL) throws {
        let architecture = try HFConfig.Architecture(contentsOf: directory.appendingPathComponent("config.json"))
        let weightsURL = directory.appendingPathComponent("model.safetensors")
        try self.init(architecture: architecture, file: try SafeTensors.File(contentsOf: weightsURL), label: weightsURL.path)
    }

    /// Validates an already parsed config and file; `label` names the file in errors.
    public init(architecture: HFConfig.Architecture, file: SafeTensors.File, label: String = "model.safetensors") throws {
        let map = TensorNameMap.forArchitecture(architecture)
        let report = file.validate(against: map)
        guard report.isValid else { throw TensorNameMap.Mismatch(file: label, report: report) }
        self.architecture = architecture
        self.file = file
        self.map = map
        self.fileNames = report.fileNames
    }

    /// Whether a canonical tensor is present (always true for required ones; optional ones such
    /// as a tied `lm_head.weight` may be absent).
    public func contains(_ canonicalName: String) -> Bool { fileNames[canonicalName] != nil }

    /// Shape of a tensor by canonical name.
    public func shape(_ canonicalName: String) throws -> [Int] {
        try file.info(try fileName(canonicalName)).shape
    }

    /// Elements of a tensor by canonical name, row-major, converted to Float (see `SafeTensors.File.floats(of:)`).
    public func floats(_ canonicalName: String) throws -> [Float] {
        try file.floats(of: try fileName(canonicalName))
    }

    private func fileName(_ canonicalName: String) throws -> String {
        guard let name = fileNames[canonicalName] else { throw SafeTensors.Error.tensorNotFound(canonicalName) }
        return name
    }
}
