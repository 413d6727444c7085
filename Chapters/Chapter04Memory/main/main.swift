// Chapter 4 — run with `swift run -c release chapter04`.
import Chapter04Memory

Chapter04Memory.run(.standard)
