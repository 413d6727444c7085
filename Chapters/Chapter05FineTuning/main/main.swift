// Chapter 5 — run with `swift run -c release chapter05` (uses the cached base model).
import Chapter05FineTuning

do {
    try Chapter05FineTuning.run(.standard)
} catch {
    print("chapter05: \(error)")
}
