// Chapter 8 — run with `swift run -c release chapter08` (uses the cached base model).
// `--use-workbook` runs the LoRA forward pass and the merge through your workbook (tasks 8.1, 8.3).
import Chapter08LoRA
import WorkbookBridge

do {
    try WorkbookBridge.runChapter(tasks: ["8.1", "8.3"]) { try Chapter08LoRA.run(.standard) }
} catch {
    print("chapter08: \(error)")
}
