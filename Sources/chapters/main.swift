// main.swift — `swift run chapters`: the book's chapters, one line each, and how to run them.
//
// Each chapter is a library (`Chapters/ChapterNN<Name>/ChapterNN<Name>.swift`, with a `run(_:)` the
// smoke tests call on a tiny config) and a thin executable `chapterNN`. The list is ChapterCatalogue's.
import ChapterCatalogue

print("TinyTune chapters — run one with `swift run -c release chapterNN`\n")
for chapter in ChapterCatalogue.chapters {
    print("  \(chapter.paddedNumber)  \(chapter.title)")
    print("      \(chapter.claim)")
    print("      swift run -c release \(chapter.executable)")
}
