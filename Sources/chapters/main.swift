// main.swift — `swift run chapters`: the book's chapters, one line each, and how to run them.
//
// Each chapter is a library (`Chapters/ChapterNN<Name>/ChapterNN<Name>.swift`, with a `run(_:)` the
// smoke tests call on a tiny config) and a thin executable `chapterNN`.

/// One chapter: number, title, what it shows, and whether it exists yet.
struct ChapterEntry {
    let number: Int
    let title: String
    let claim: String
    let available: Bool
}

let chapters: [ChapterEntry] = [
    ChapterEntry(number: 1, title: "Automatic differentiation by hand",
                 claim: "backprop is the chain rule node by node; a scalar MLP learns XOR", available: true),
    ChapterEntry(number: 2, title: "Tensors and kernels",
                 claim: "naive vs packed SIMD vs threaded GEMM; broadcasting; the tape; gradient checks", available: true),
    ChapterEntry(number: 3, title: "A tiny GPT and pretraining",
                 claim: "next-token loss from 4.4 to ~0.26 nats/char; samples; fact recall; loss curve SVG", available: true),
    ChapterEntry(number: 4, title: "Where the memory goes",
                 claim: "the memory equation for 7B–70B, and measured vs estimated bytes per role", available: true),
    ChapterEntry(number: 5, title: "Fine-tuning: when and why",
                 claim: "SFT from 0% to 65%; forgetting, full vs partial; fine-tuning vs BM25 retrieval; decision table", available: true),
    ChapterEntry(number: 6, title: "Tactics and memory",
                 claim: "learning-rate sweep, accumulation = large batch, early stopping, prompt-loss weight, schedules, memory", available: true),
    ChapterEntry(number: 7, title: "The PEFT zoo",
                 claim: "LoRA, Houlsby adapters, IA3, BitFit, prefix and prompt tuning: trainable %, accuracy, inference cost", available: true),
    ChapterEntry(number: 8, title: "LoRA",
                 claim: "ΔW is nearly low-rank; LoRA r=8 reaches 99% of full FT with less memory; rank × targets; merge/unmerge",
                 available: true),
    ChapterEntry(number: 9, title: "Serving many adapters",
                 claim: "mixed-adapter batches equal separate runs; swap cost in bytes; shared base vs merged copies", available: true),
    ChapterEntry(number: 10, title: "Numerical formats",
                 claim: "fp32→fp16/bf16/tf32/fp8/fp4/int8/int4 with exact ties-to-even; range vs precision; underflow; error per format",
                 available: true),
    ChapterEntry(number: 11, title: "Quantization after and during training",
                 claim: "PTQ int8/int4/NF4 on the base; LLM.int8 outliers; QAT vs PTQ at 4/3/2 bits; fp16/bf16 with master weights and loss scaling",
                 available: true),
    ChapterEntry(number: 12, title: "QLoRA",
                 claim: "NF4 + double quantization (4.127 bits); QLoRA ≈ LoRA at 0.13x frozen-weight bytes; 8-bit AdamW; 7B–65B estimates",
                 available: true),
    ChapterEntry(number: 13, title: "Merging by summing and pruning",
                 claim: "two task models merged without training (soup, task arithmetic, TIES, DARE, SLERP) vs multi-task: fails from the raw base, keeps both skills from a shared generalist", available: true),
    ChapterEntry(number: 14, title: "Stacking and concatenation",
                 claim: "depth up-scaling with continued pretraining; LoRA concatenation vs SVD combination", available: true),
]

print("TinyTune chapters — run one with `swift run -c release chapterNN`\n")
for chapter in chapters {
    let number = chapter.number < 10 ? "0\(chapter.number)" : "\(chapter.number)"
    let status = chapter.available ? "swift run -c release chapter\(number)" : "(coming)"
    print("  \(number)  \(chapter.title)")
    print("      \(chapter.claim)")
    print("      \(status)")
}
