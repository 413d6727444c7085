// Chapter 3 — run with `swift run -c release chapter03` (pretrains the base model the first time).
import Chapter03Pretraining

do {
    try Chapter03Pretraining.run(.standard)
} catch {
    print("chapter03: \(error)")
}
