// ChapterCatalogue.swift — the book's chapters, listed once.
//
// Teaches: one source of truth for a table of contents. `swift run chapters` prints this list, the
// README's chapter table must say the same (Tests/ArchitectureTests checks it, and that every chapter's
// file opens with "Chapter N: <title>"), so a chapter renamed in one place fails the tests until the
// others agree.
// Leaves out: the chapters themselves (Chapters/ChapterNN<Name>/).

/// One chapter of the book.
public struct Chapter: Sendable, Equatable {
    /// 1, 2, …
    public let number: Int
    /// Folder and module name under Chapters/, e.g. "Chapter06Tactics".
    public let name: String
    /// The title its file header gives.
    public let title: String
    /// What it shows, in one line.
    public let claim: String

    /// Two-digit number, as in the executable's name.
    public var paddedNumber: String { number < 10 ? "0\(number)" : "\(number)" }
    /// The executable that runs the chapter ("chapter06").
    public var executable: String { "chapter" + paddedNumber }
}

/// The chapters, in reading order (caseless namespace).
public enum ChapterCatalogue {
    public static let chapters: [Chapter] = [
        Chapter(number: 1, name: "Chapter01Autograd", title: "Automatic differentiation by hand",
                claim: "autodiff by hand: a graph's gradients, a gradient check, a scalar MLP learns XOR"),
        Chapter(number: 2, name: "Chapter02Tensors", title: "Tensors, broadcasting, the tape, and a fast GEMM",
                claim: "naive vs packed vs threaded GEMM, broadcasting and its gradient, the tape"),
        Chapter(number: 3, name: "Chapter03Pretraining", title: "A tiny GPT and pretraining",
                claim: "pretraining the base GPT: loss curve vs the unigram baseline, samples, fact recall"),
        Chapter(number: 4, name: "Chapter04Memory", title: "Where the memory goes",
                claim: "the book's 7B–70B table and our model measured per role"),
        Chapter(number: 5, name: "Chapter05FineTuning", title: "Fine-tuning — when, why, and at what cost",
                claim: "SFT teaches a task; full vs partial forgetting; forgetting under control (gentler rate, early stopping on general text, replay); fine-tuning vs retrieval, with a decision table"),
        Chapter(number: 6, name: "Chapter06Tactics", title: "Fine-tuning tactics and hyperparameters, and memory measured",
                claim: "learning-rate sweep, batch vs accumulation, early stopping, prompt-loss weight, schedules, memory per role"),
        Chapter(number: 7, name: "Chapter07PEFTZoo", title: "The PEFT zoo on one base model and one task",
                claim: "LoRA, Houlsby adapters, IA3, BitFit, prefix and prompt tuning, each at the learning rate a validation sweep chose, one budget with 5% replay of pretraining text — trainable share, accuracy, ms/step, inference cost, forgetting (corpus loss, and who kept more at an equal score); trailing methods across base widths, and the zoo again on SmolLM2-135M when models/ has it (the toy's gaps next to the pretrained model's)"),
        Chapter(number: 8, name: "Chapter08LoRA", title: "LoRA — why low rank works, and what it costs and saves",
                claim: "the SVD of a real update, LoRA vs full fine-tuning at the same budget with measured memory and corpus loss, rank × targets, merge/unmerge"),
        Chapter(number: 9, name: "Chapter09Serving", title: "Serving many adapters from one base model",
                claim: "one batch mixing adapters (equal to separate runs), swap cost in bytes, shared base vs merged copies"),
        Chapter(number: 10, name: "Chapter10Formats", title: "Number formats, from fp32 down to fp4 and int4",
                claim: "formats computed from their bit fields: the fp32→fp16/bf16/tf32 table, bf16 bits read as fp16, vanishing additions, underflow, rounding error per format"),
        Chapter(number: 11, name: "Chapter11Quantization", title: "Quantization after and during training",
                claim: "PTQ int8/int4/NF4 on the base (corpus loss), LLM.int8 outliers, QAT vs PTQ at 4/3/2 bits, mixed precision: master weights and loss scaling"),
        Chapter(number: 12, name: "Chapter12QLoRA", title: "QLoRA — fine-tuning on a 4-bit base",
                claim: "NF4 vs int4 error, 4.127 bits with double quantization, QLoRA vs LoRA vs full fine-tuning with measured bytes and corpus loss, 8-bit AdamW, 7B–65B memory estimates"),
        Chapter(number: 13, name: "Chapter13Merging", title: "Merging by summing and pruning",
                claim: "two task models merged without training vs multi-task and sequential training — an accuracy matrix with corpus losses, three times: full fine-tunes of the raw base, full fine-tunes of a shared generalist checkpoint, and LoRA fine-tunes of it (which forget less)"),
        Chapter(number: 14, name: "Chapter14Stacking", title: "Merging by stacking and by concatenation",
                claim: "depth up-scaling vs the same shape from scratch and vs the base (loss curves); two LoRA adapters from a shared generalist summed, concatenated, weighted, TIES- and SVD-merged, routed per request; the cosine of their updates per layer"),
        Chapter(number: 15, name: "Chapter15RealThing", title: "The real thing",
                claim: "LoRA, QLoRA (packed Q4_1 GGUF, NF4) and full fine-tuning of SmolLM2-135M-Instruct on one task, each at the lowest rate of its grid that learns it (`--sweep` shows the whole rate–forgetting curve): before/after answers, exact match, memory by role vs the equation, forgetting; the merged LoRA exported (GGUF, HF) and reloaded; needs models/"),
    ]
}
