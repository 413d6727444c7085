// Chapter10Formats.swift — placeholder while the chapter is written (replaced before landing).
public enum Chapter10Formats {}
