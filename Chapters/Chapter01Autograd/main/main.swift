// Chapter 1 — run with `swift run -c release chapter01`.
import Chapter01Autograd

Chapter01Autograd.run(.standard)
