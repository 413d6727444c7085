// Chapter 14 — run with `swift run -c release chapter14` (uses the cached base model).
import Chapter14Stacking

do {
    try Chapter14Stacking.run(.standard)
} catch {
    print("chapter14: \(error)")
}
