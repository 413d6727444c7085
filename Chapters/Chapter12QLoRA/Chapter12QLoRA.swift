// Chapter12QLoRA.swift — placeholder while the chapter is written (replaced before landing).
public enum Chapter12QLoRA {}
