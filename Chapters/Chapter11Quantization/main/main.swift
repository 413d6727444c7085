// Chapter 11 — run with `swift run -c release chapter11` (uses the cached base model).
import Chapter11Quantization

do {
    try Chapter11Quantization.run(.standard)
} catch {
    print("chapter11: \(error)")
}
