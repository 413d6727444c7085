// HeapReuseTests.swift — the heap policy (Kernels/HeapReuse.swift) keeps a step's freed buffers for the
// next step. Measured in a fresh process (kill-helper page-faults): the policy applies to the heap of
// the thread that trains, and a test's own thread has a heap of its own from before the policy.
import Testing
import Foundation

@Suite(.enabled(if: KillHelper.url != nil, "kill-helper is not built next to the tests (run `swift build` first)"))
struct HeapReuseTests {
    /// The page faults kill-helper reports for the second of two 256 MB steps under `policy`.
    static func secondStepFaults(_ policy: String) throws -> Int {
        let process = Process()
        process.executableURL = KillHelper.url
        process.arguments = ["page-faults", policy]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        process.waitUntilExit()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        return try #require(Int(text.trimmingCharacters(in: .whitespacesAndNewlines)), "kill-helper printed \(text)")
    }

    @Test func aSecondStepReusesTheFirstStepsPages() throws {
        #if os(Linux)
        // 65,536 pages per step. glibc's default policy returns the 256 MB freed at the top of the heap
        // (above its trim threshold), so the second step faults every page in again; HeapReuse keeps it.
        let withDefault = try Self.secondStepFaults("default")
        let withPolicy = try Self.secondStepFaults("heap-reuse")
        #expect(withDefault > 65_536 / 2, "default policy: \(withDefault) faults (the comparison needs glibc's trimming)")
        #expect(withPolicy < 65_536 / 10, "HeapReuse: \(withPolicy) faults in the second step")
        #endif
    }
}
