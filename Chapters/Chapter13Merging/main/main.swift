// Chapter 13 — run with `swift run -c release chapter13` (uses the cached base model).
import Chapter13Merging

do {
    try Chapter13Merging.run(.standard)
} catch {
    print("chapter13: \(error)")
}
