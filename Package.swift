// swift-tools-version: 6.0
// TinyTune — a textbook-in-code for fine-tuning language models, in pure Swift.
//
// Targets are listed in reading order: each module imports only the ones above it.
// No package dependencies: Foundation, Dispatch, XCTest and Swift Testing only.
import PackageDescription

// MARK: - Compiler settings for numeric code

/// Every target with numeric loops gets these flags, in debug builds too, so `swift test` runs the
/// SIMD kernels at release-like speed (debug SIMD code is ~300x slower).
/// - `-Ounchecked`: optimise and drop overflow/bounds traps in hot loops.
/// - `-march=native` (x86-64): generate code for the machine that builds (SwiftPM builds from source
///   where it runs): AVX2 + FMA everywhere we run, AVX-512 where the CPU has it. Without any `-march`,
///   SIMD `addingProduct` is a library call per lane. The GEMM tile follows (see Sources/SIMDWidth).
///   arm64 needs no flag: NEON and fused multiply-add are part of the base architecture.
/// - `-fno-math-errno`: lets SIMD square roots stay vector instructions.
let numericSettings: [SwiftSetting] = {
    #if arch(x86_64)
    return [.unsafeFlags(["-Ounchecked", "-Xcc", "-march=native", "-Xcc", "-fno-math-errno"])]
    #else
    return [.unsafeFlags(["-Ounchecked", "-Xcc", "-fno-math-errno"])]
    #endif
}()

/// `SOLUTIONS=1 swift test` compiles the learner's workbook from `Solutions/` instead of `Exercises/`.
let workbookPath = Context.environment["SOLUTIONS"] == "1" ? "Solutions" : "Exercises"

let package = Package(
    name: "TinyTune",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "tinytune", targets: ["tinytune"]),
        .executable(name: "bench", targets: ["bench"]),
        .executable(name: "exercises", targets: ["exercises"]),
        .executable(name: "chapters", targets: ["chapters"]),
    ],
    targets: [
        // Each target's `dependencies` are exactly the modules its files import (Tests/ArchitectureTests
        // checks this), each one listed above it: the arrows point down, in reading order.

        // MARK: - Foundation: kernels, scalar and tensor autodiff
        .target(name: "SIMDWidth"),
        .target(name: "CAllocator"),
        .target(name: "CSpinWait"),
        .target(name: "Kernels", dependencies: ["SIMDWidth", "CAllocator", "CSpinWait"], swiftSettings: numericSettings),
        .target(name: "ScalarAutograd", swiftSettings: numericSettings),
        .target(name: "Autodiff", dependencies: ["Kernels"], swiftSettings: numericSettings),

        // MARK: - The model and its training
        .target(name: "NN", dependencies: ["Kernels", "Autodiff"], swiftSettings: numericSettings),
        .target(name: "Optim", dependencies: ["Kernels", "Autodiff"], swiftSettings: numericSettings),
        .target(name: "StrictJSONParsing"),
        .target(name: "CommandLineOptions"),
        .target(name: "Tokenizers", dependencies: ["StrictJSONParsing"], swiftSettings: numericSettings),
        .target(name: "Checkpoints", dependencies: ["Kernels", "Autodiff", "NN", "StrictJSONParsing"], swiftSettings: numericSettings),
        .target(name: "Datasets", dependencies: ["Kernels", "Tokenizers"], swiftSettings: numericSettings),
        .target(name: "Training", dependencies: ["Kernels", "Autodiff", "NN", "Optim", "Tokenizers", "Checkpoints", "Datasets"],
                swiftSettings: numericSettings),

        // MARK: - Fine-tuning methods
        .target(name: "FullFineTuning", dependencies: ["Kernels", "Autodiff", "NN", "Optim"], swiftSettings: numericSettings),
        .target(name: "PEFT", dependencies: ["Kernels", "Autodiff", "NN", "Checkpoints"], swiftSettings: numericSettings),
        .target(name: "Quantization", dependencies: ["Kernels", "Autodiff", "NN", "Optim", "Checkpoints", "Training", "PEFT"],
                swiftSettings: numericSettings),
        .target(name: "Merging", dependencies: ["Kernels", "Autodiff", "NN", "PEFT", "Checkpoints"], swiftSettings: numericSettings),

        // MARK: - Experiments and the tour, above every method
        .target(name: "Experiments", dependencies: ["Kernels", "Autodiff", "NN", "Optim", "Tokenizers", "Checkpoints", "Datasets", "Training", "FullFineTuning", "Quantization", "Merging"],
                swiftSettings: numericSettings),
        .target(name: "Tour", dependencies: ["Autodiff", "NN", "Tokenizers", "Datasets", "Training", "PEFT", "Quantization", "Merging", "Experiments"], swiftSettings: numericSettings),

        // MARK: - Exercises
        .target(name: "ExerciseKit"),
        .target(name: "Workbook", dependencies: ["ExerciseKit"],
                path: workbookPath, swiftSettings: numericSettings),
        .target(name: "WorkbookCatalogue", dependencies: ["ExerciseKit", "Workbook"]),
        .executableTarget(name: "exercises", dependencies: ["ExerciseKit", "WorkbookCatalogue"]),
        // The workbook's solutions run by the library (`chapterNN --use-workbook`); only chapter executables import it.
        .target(name: "WorkbookBridge", dependencies: ["ExerciseKit", "Workbook", "WorkbookCatalogue", "Training", "PEFT",
                                                      "Quantization", "Merging"]),

        // MARK: - Chapters (a library with `run(_:)` each, and a thin executable)
        .target(name: "Chapter01Autograd", dependencies: ["ScalarAutograd"],
                path: "Chapters/Chapter01Autograd", exclude: ["main"], swiftSettings: numericSettings),
        .executableTarget(name: "chapter01", dependencies: ["Chapter01Autograd"],
                          path: "Chapters/Chapter01Autograd/main"),
        .target(name: "Chapter02Tensors", dependencies: ["Kernels", "Autodiff"],
                path: "Chapters/Chapter02Tensors", exclude: ["main"], swiftSettings: numericSettings),
        .executableTarget(name: "chapter02", dependencies: ["Chapter02Tensors"],
                          path: "Chapters/Chapter02Tensors/main"),
        .target(name: "Chapter03Pretraining", dependencies: ["Kernels", "Autodiff", "NN", "Optim", "Tokenizers", "Datasets", "Training"],
                path: "Chapters/Chapter03Pretraining", exclude: ["main"], swiftSettings: numericSettings),
        .executableTarget(name: "chapter03", dependencies: ["Chapter03Pretraining"], path: "Chapters/Chapter03Pretraining/main"),
        .target(name: "Chapter04Memory", dependencies: ["Autodiff", "NN", "Optim", "FullFineTuning"],
                path: "Chapters/Chapter04Memory", exclude: ["main"], swiftSettings: numericSettings),
        .executableTarget(name: "chapter04", dependencies: ["Chapter04Memory"], path: "Chapters/Chapter04Memory/main"),
        .target(name: "Chapter05FineTuning", dependencies: ["Autodiff", "NN", "Tokenizers", "Datasets", "Training", "FullFineTuning", "Experiments"],
                path: "Chapters/Chapter05FineTuning", exclude: ["main"], swiftSettings: numericSettings),
        .executableTarget(name: "chapter05", dependencies: ["Chapter05FineTuning"], path: "Chapters/Chapter05FineTuning/main"),
        .target(name: "Chapter06Tactics", dependencies: ["Optim", "Datasets", "Training", "FullFineTuning", "Experiments"],
                path: "Chapters/Chapter06Tactics", exclude: ["main"], swiftSettings: numericSettings),
        .executableTarget(name: "chapter06", dependencies: ["Chapter06Tactics"], path: "Chapters/Chapter06Tactics/main"),
        .target(name: "Chapter07PEFTZoo", dependencies: ["NN", "Datasets", "Training", "PEFT", "Experiments"],
                path: "Chapters/Chapter07PEFTZoo", exclude: ["main"], swiftSettings: numericSettings),
        .executableTarget(name: "chapter07", dependencies: ["CommandLineOptions", "Chapter07PEFTZoo"], path: "Chapters/Chapter07PEFTZoo/main"),
        .target(name: "Chapter08LoRA", dependencies: ["Kernels", "Autodiff", "NN", "Training", "PEFT", "Experiments"],
                path: "Chapters/Chapter08LoRA", exclude: ["main"], swiftSettings: numericSettings),
        .executableTarget(name: "chapter08", dependencies: ["Chapter08LoRA", "WorkbookBridge"], path: "Chapters/Chapter08LoRA/main"),
        .target(name: "Chapter09Serving", dependencies: ["Autodiff", "NN", "Datasets", "Training", "PEFT", "Experiments"],
                path: "Chapters/Chapter09Serving", exclude: ["main"], swiftSettings: numericSettings),
        .executableTarget(name: "chapter09", dependencies: ["Chapter09Serving"], path: "Chapters/Chapter09Serving/main"),
        .target(name: "Chapter10Formats", dependencies: ["Quantization"],
                path: "Chapters/Chapter10Formats", exclude: ["main"], swiftSettings: numericSettings),
        .executableTarget(name: "chapter10", dependencies: ["Chapter10Formats"], path: "Chapters/Chapter10Formats/main"),
        .target(name: "Chapter11Quantization", dependencies: ["Kernels", "Autodiff", "NN", "Optim", "Tokenizers", "Datasets", "Training", "Quantization", "Experiments"],
                path: "Chapters/Chapter11Quantization", exclude: ["main"], swiftSettings: numericSettings),
        .executableTarget(name: "chapter11", dependencies: ["Chapter11Quantization"], path: "Chapters/Chapter11Quantization/main"),
        .target(name: "Chapter12QLoRA", dependencies: ["NN", "Training", "FullFineTuning", "PEFT", "Quantization", "Experiments"],
                path: "Chapters/Chapter12QLoRA", exclude: ["main"], swiftSettings: numericSettings),
        .executableTarget(name: "chapter12", dependencies: ["Chapter12QLoRA"], path: "Chapters/Chapter12QLoRA/main"),
        .target(name: "Chapter13Merging", dependencies: ["NN", "Datasets", "Training", "PEFT", "Experiments"],
                path: "Chapters/Chapter13Merging", exclude: ["main"], swiftSettings: numericSettings),
        .executableTarget(name: "chapter13", dependencies: ["CommandLineOptions", "Chapter13Merging", "Experiments", "Datasets"], path: "Chapters/Chapter13Merging/main"),
        .target(name: "Chapter14Stacking", dependencies: ["Kernels", "Autodiff", "NN", "Optim", "Tokenizers", "Datasets", "Training", "PEFT", "Merging",
                                                          "Experiments"],
                path: "Chapters/Chapter14Stacking", exclude: ["main"], swiftSettings: numericSettings),
        .executableTarget(name: "chapter14", dependencies: ["Chapter14Stacking", "WorkbookBridge"], path: "Chapters/Chapter14Stacking/main"),
        .target(name: "Chapter15RealThing", dependencies: ["Autodiff", "NN", "Tokenizers", "Datasets", "Training", "FullFineTuning", "PEFT", "Quantization", "Experiments"],
                path: "Chapters/Chapter15RealThing", exclude: ["main"], swiftSettings: numericSettings),
        .executableTarget(name: "chapter15", dependencies: ["CommandLineOptions", "Chapter15RealThing"], path: "Chapters/Chapter15RealThing/main"),
        .target(name: "ChapterCatalogue"),
        .executableTarget(name: "chapters", dependencies: ["ChapterCatalogue"]),

        // MARK: - Front ends
        .executableTarget(name: "tinytune", dependencies: ["CommandLineOptions", "Kernels", "Autodiff", "NN", "Optim", "Tokenizers", "Checkpoints", "Datasets", "Training", "FullFineTuning", "PEFT", "Quantization", "Merging", "Experiments", "Tour", "Chapter01Autograd", "Chapter02Tensors", "Chapter03Pretraining", "Chapter04Memory"],
                          swiftSettings: numericSettings),
        .executableTarget(name: "bench", dependencies: ["Kernels", "Autodiff", "NN", "Optim", "Training", "Checkpoints", "PEFT",
                                                      "Quantization"], path: "Benchmarks",
                          exclude: ["compare"],
                          swiftSettings: numericSettings),

        // MARK: - Tests
        .target(name: "TestSupport", dependencies: ["Kernels", "Autodiff", "NN", "Tokenizers", "Datasets", "Training"], path: "Tests/TestSupport"),
        // Killed with SIGKILL while it saves, by TrainingTests/KillTests (built by `swift build`, found next to the tests).
        .executableTarget(name: "kill-helper", dependencies: ["Kernels", "Autodiff", "NN", "Optim", "Checkpoints", "Datasets", "Training",
                                                             "Quantization"],
                          path: "Tests/KillHelper", swiftSettings: numericSettings),
        .testTarget(name: "KernelsTests", dependencies: ["Kernels", "TestSupport"], swiftSettings: numericSettings),
        .testTarget(name: "ScalarAutogradTests", dependencies: ["ScalarAutograd"]),
        .testTarget(name: "AutodiffTests", dependencies: ["Kernels", "Autodiff", "TestSupport"], swiftSettings: numericSettings),
        .testTarget(name: "NNTests", dependencies: ["Kernels", "Autodiff", "NN", "TestSupport"], swiftSettings: numericSettings),
        .testTarget(name: "OptimTests", dependencies: ["Autodiff", "NN", "Optim"], exclude: ["Fixtures"], swiftSettings: numericSettings),
        .testTarget(name: "TokenizersTests", dependencies: ["Tokenizers", "TestSupport"], resources: [.copy("Fixtures")]),
        .testTarget(name: "CheckpointsTests", dependencies: ["Kernels", "Autodiff", "NN", "Checkpoints", "TestSupport"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "DatasetsTests", dependencies: ["Autodiff", "Tokenizers", "Datasets", "TestSupport"]),
        .testTarget(name: "TrainingTests", dependencies: ["Kernels", "Autodiff", "NN", "Optim", "Tokenizers", "Datasets", "Checkpoints",
                                                    "Training", "TestSupport"], resources: [.copy("Fixtures")],
                    swiftSettings: numericSettings),
        .testTarget(name: "FullFineTuningTests", dependencies: ["Kernels", "Autodiff", "NN", "Optim", "FullFineTuning"],
                    swiftSettings: numericSettings),
        .testTarget(name: "PEFTTests", dependencies: ["Kernels", "Autodiff", "NN", "Optim", "Tokenizers", "Checkpoints", "Datasets",
                                                "Training", "PEFT", "TestSupport"], exclude: ["Fixtures"], swiftSettings: numericSettings),
        .testTarget(name: "QuantizationTests", dependencies: ["Kernels", "Autodiff", "NN", "Optim", "Tokenizers", "Checkpoints", "Datasets",
                                                        "Training", "PEFT", "Quantization", "TestSupport"],
                    exclude: ["Fixtures"], swiftSettings: numericSettings),
        .testTarget(name: "MergingTests", dependencies: ["Kernels", "Autodiff", "NN", "PEFT", "Checkpoints", "Merging", "TestSupport"],
                    exclude: ["Fixtures"], swiftSettings: numericSettings),
        .testTarget(name: "ExperimentsTests", dependencies: ["Kernels", "NN", "Tokenizers", "Checkpoints", "Datasets", "Training", "PEFT", "Merging", "Experiments",
                                                       "TestSupport"], swiftSettings: numericSettings),
        .testTarget(name: "ExerciseTests", dependencies: ["Kernels", "ScalarAutograd", "Autodiff", "NN", "Optim", "FullFineTuning", "PEFT", "Quantization", "Merging", "ExerciseKit", "Workbook", "WorkbookCatalogue",
                                                    "WorkbookBridge", "Datasets", "Training", "TestSupport"]),
        .testTarget(name: "ArchitectureTests", dependencies: ["ChapterCatalogue"]),
        .testTarget(name: "CommandLineOptionsTests", dependencies: ["CommandLineOptions"]),
        .testTarget(name: "ChapterSmokeTests", dependencies: ["Kernels", "Autodiff", "NN", "Training", "PEFT", "Experiments", "FullFineTuning", "Tour", "Chapter01Autograd", "Chapter02Tensors", "Chapter03Pretraining", "Chapter04Memory", "Chapter05FineTuning", "Chapter06Tactics", "Chapter07PEFTZoo", "Chapter08LoRA", "Chapter09Serving", "Chapter10Formats", "Chapter11Quantization", "Chapter12QLoRA", "Chapter13Merging", "Chapter14Stacking", "Chapter15RealThing"],
                    swiftSettings: numericSettings),
    ]
)
