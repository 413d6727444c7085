// CommandLineOptionsTests.swift — the one command-line parser: what it accepts, what it refuses, and
// that every refusal names the option and the text it got.
import Foundation
import Testing
import CommandLineOptions

@Suite struct CommandLineOptionsTests {
    /// The message a throwing read produces, or nil when it did not throw a UsageError.
    func message(_ body: () throws -> Any?) -> String? {
        do { _ = try body(); return nil } catch let error as UsageError { return error.description } catch { return "\(error)" }
    }

    @Test func readsValuesSwitchesAndDefaults() throws {
        let options = try Options(["--steps", "120", "--json", "--lr", "2e-4", "--rates", "1e-4, 2e-4,4e-4", "--names", "q_proj,v_proj"],
                                  valued: ["steps", "lr", "rates", "names", "out"], switches: ["json", "quick"])
        #expect(try options.int("steps") == 120)
        #expect(try options.int("steps", default: 30) == 120)
        #expect(try options.int("out") == nil)
        #expect(try options.float("lr", in: 0...1) == 2e-4)
        #expect(try options.double("lr", in: 0...1) == 2e-4)
        #expect(try options.float("missing", default: 0.5, in: 0...1) == 0.5)
        #expect(try options.floats("rates", in: 0...1) == [1e-4, 2e-4, 4e-4])
        #expect(try options.strings("names") == ["q_proj", "v_proj"])
        #expect(options.flag("json") && !options.flag("quick"))
        #expect(options.string("steps") == "120" && options.string("out") == nil)
    }

    @Test func refusesWhatWasNotDeclared() {
        #expect(message { try Options(["--stpes", "3"], valued: ["steps"], switches: ["json"]) }
                == "unknown option '--stpes' (known: --json, --steps)")
        #expect(message { try Options(["steps"], valued: ["steps"]) } == "unexpected argument 'steps'")
        #expect(message { try Options(["--json", "--steps"], valued: ["steps"], switches: ["json"]) } == "option --steps needs a value")
        // A switch does not swallow the next argument: the bare word after it is refused.
        #expect(message { try Options(["--json", "3"], valued: [], switches: ["json"]) } == "unexpected argument '3'")
    }

    @Test func checksEveryValueAgainstItsRange() throws {
        let options = try Options(["--steps", "0", "--share", "1.5", "--rates", "1e-4,x", "--names", "a,,b", "--path", "/no/such/file"],
                                  valued: ["steps", "share", "rates", "names", "path"])
        #expect(message { try options.int("steps") } == "--steps must be an integer in 1…\(Int.max), got '0'")
        #expect(message { try options.int("steps", default: 5, in: 0...10) } == nil)
        #expect(message { try options.double("share", in: 0...0.9) } == "--share must be a number in 0.0…0.9, got '1.5'")
        #expect(message { try options.floats("rates", in: 0...1) } == "--rates wants numbers in 0.0…1.0 separated by commas, got 'x'")
        #expect(message { try options.strings("names") } == "--names wants words separated by commas, got 'a,,b'")
        #expect(message { try options.existingPath("path") } == "--path: no such file or directory '/no/such/file'")
    }

    @Test func theLastValueOfARepeatedOptionWins() throws {
        let options = try Options(["--steps", "3", "--steps", "7"], valued: ["steps"])
        #expect(try options.int("steps") == 7)
    }
}
