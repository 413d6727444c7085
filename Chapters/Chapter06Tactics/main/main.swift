// Chapter 6 — run with `swift run -c release chapter06` (uses the cached base model).
import Chapter06Tactics

do {
    try Chapter06Tactics.run(.standard)
} catch {
    print("chapter06: \(error)")
}
