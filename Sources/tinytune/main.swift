// main.swift — the `tinytune` command line: `swift run -c release tinytune [command] [options]`.
//
// With no command it runs the tour; each command does one job on the built-in data or the user's files.
import Foundation

exit(CommandLineTool.main(Array(CommandLine.arguments.dropFirst())))
