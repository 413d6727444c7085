// Chapter 12 — run with `swift run -c release chapter12` (uses the cached base model).
import Chapter12QLoRA

do {
    try Chapter12QLoRA.run(.standard)
} catch {
    print("chapter12: \(error)")
}
