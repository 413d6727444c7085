// Chapter 9 — run with `swift run -c release chapter09` (uses the cached base model).
import Chapter09Serving

do {
    try Chapter09Serving.run(.standard)
} catch {
    print("chapter09: \(error)")
}
