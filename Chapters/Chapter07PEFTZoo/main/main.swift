// Chapter 7 — run with `swift run -c release chapter07` (uses the cached base model).
import Chapter07PEFTZoo

do {
    try Chapter07PEFTZoo.run(.standard)
} catch {
    print("chapter07: \(error)")
}
