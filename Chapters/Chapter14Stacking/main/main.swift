// Chapter 14 — run with `swift run -c release chapter14` (uses the cached base model).
// `--use-workbook` runs the LoRA forward pass, TIES's sign election and LoRA concatenation through your
// workbook (tasks 8.1, 13.2, 14.1).
import Chapter14Stacking
import WorkbookBridge

do {
    try WorkbookBridge.runChapter(tasks: ["8.1", "13.2", "14.1"]) { try Chapter14Stacking.run(.standard) }
} catch {
    print("chapter14: \(error)")
}
