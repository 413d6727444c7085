// Chapter11Quantization.swift — placeholder while the chapter is written (replaced before landing).
public enum Chapter11Quantization {}
