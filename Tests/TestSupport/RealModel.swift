// RealModel.swift — where the tests look for the optional real model, and the message they skip with.
//
// Teaches nothing about fine-tuning: it keeps `swift test` independent of the 98 MB download. Tests that
// need SmolLM2-135M-Instruct are `.enabled(if: RealModel.hasSmolLM2GGUF, RealModel.absentMessage)`, so a
// run without it lists them as skipped with the fetch command.
import Foundation

/// Where `scripts/fetch-smollm2.sh` puts SmolLM2-135M-Instruct: `<repository>/models/`.
public enum RealModel {
    /// The repository's git-ignored models/ folder (found from this file's location).
    public static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("models")
    /// The Q4_1 GGUF the targets are measured on.
    public static let smolLM2GGUF = folder.appendingPathComponent("SmolLM2-135M-Instruct.Q4_1.gguf")
    /// Whether it has been fetched.
    public static var hasSmolLM2GGUF: Bool { FileManager.default.fileExists(atPath: smolLM2GGUF.path) }
    /// The skip message tests show when it is absent.
    public static let absentMessage = "models/SmolLM2-135M-Instruct.Q4_1.gguf is absent: run `sh scripts/fetch-smollm2.sh` to test on the real model"
}
