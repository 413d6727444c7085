// Chapter 2 — run with `swift run -c release chapter02`.
import Chapter02Tensors

Chapter02Tensors.run(.standard)
