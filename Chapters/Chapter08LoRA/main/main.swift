// Chapter 8 — run with `swift run -c release chapter08` (uses the cached base model).
import Chapter08LoRA

do {
    try Chapter08LoRA.run(.standard)
} catch {
    print("chapter08: \(error)")
}
