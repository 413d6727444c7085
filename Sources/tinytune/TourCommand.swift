// TourCommand.swift — `tinytune` with no command: the guided tour (grows as chapters land).
import Foundation

enum TourCommand {
    static let command = Command(
        name: "tour", summary: "the guided tour (the default)",
        help: "Usage: tinytune [tour]\n\nPretrains (or loads) the base model and runs the chapters' experiments in order.",
        run: { arguments in
            _ = try Options(arguments, valued: [])
            try PretrainCommand.run([])
        })
}
