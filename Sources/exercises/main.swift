// main.swift — `swift run exercises`: the learner's progress through the workbook.
import Foundation
import ExerciseKit
import WorkbookCatalogue

let exercises = Catalogue.exercises
let done = exercises.filter { $0.status == .attempted }.count
print("TinyTune workbook — \(done) of \(exercises.count) exercises attempted\n")
for chapter in Set(exercises.map(\.chapter)).sorted() {
    print("Chapter \(chapter)")
    for exercise in exercises where exercise.chapter == chapter {
        let mark = exercise.status == .attempted ? "✔" : "·"
        print("  \(mark) \(exercise.id)  \(exercise.title.padding(toLength: 34, withPad: " ", startingAt: 0))  \(exercise.file)")
    }
}
print("\nEdit a file, replace `try todo(\"x.y\")` with your solution, then check it with")
print("  swift test --filter \"Task x.y\"")
