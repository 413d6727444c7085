// Chapter 10 — run with `swift run -c release chapter10` (no training: it takes a second).
import Chapter10Formats

do {
    try Chapter10Formats.run(.standard)
} catch {
    print("chapter10: \(error)")
}
