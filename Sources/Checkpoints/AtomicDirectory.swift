// AtomicDirectory — replace a whole directory of files so that a crash leaves the old one or the new one.
//
// What this file teaches: a checkpoint or a command's output is several files that only make sense
// together (weights + config, adapter weights + adapter config, model + optimizer state + trainer state).
// Writing each file atomically is not enough: a kill between two renames leaves new weights next to an
// old config. The fix is to make the *directory* the unit:
//
//   1. write every file into a fresh sibling, `.NAME.partial-UUID` (same parent, so same file system);
//   2. flush the files and the sibling's directory entries to disk (fsync);
//   3. swap the sibling and NAME in one step: `renameat2(RENAME_EXCHANGE)` on Linux, `renamex_np(RENAME_SWAP)`
//      on macOS — or a plain `rename` when NAME does not exist yet;
//   4. flush the parent directory, then delete the sibling, which now holds the old state.
//
// The crash-safety argument: before step 3 completes, NAME is untouched (the old state, complete);
// the swap is one atomic system call, so any observer — including the next run after a `kill -9` — sees
// NAME as entirely old or entirely new; after it, NAME is the new state, already complete on disk because
// of step 2. A kill at any moment can leave only a stale `.NAME.partial-*` sibling, never a missing or
// mixed NAME; the next write removes such leftovers (`removeLeftovers`).
//
// Where the file system cannot exchange (EINVAL, ENOTSUP), the fallback is two renames: NAME → `.NAME.old-UUID`,
// sibling → NAME. A kill between them leaves no NAME, but a complete `.NAME.old-*`; `recover` (called by
// every write and by `TrainingCheckpoint.resume`) renames it back, so the old state is never lost.
//
// Assumes one writer per directory at a time (a second writer's staging directory would count as a
// leftover). If NAME is a symbolic link, the link itself is replaced by the new directory.
//
// What it leaves out: Windows (MoveFileEx cannot swap directories), network file systems' weaker rename,
// locking against concurrent writers.

import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Crash-safe replacement of a directory as a whole (caseless namespace).
public enum AtomicDirectory {
    /// A directory that could not be replaced, naming it and the failed step.
    public struct Error: Swift.Error, CustomStringConvertible {
        /// "<path>: <what failed>".
        public let description: String
    }

    /// Replaces `directory` with what `fill` writes into the empty staging directory it is handed.
    /// Readers see the old contents until the complete new ones replace them in one step; if `fill`
    /// throws, `directory` is untouched and the staging directory is removed. Returns what `fill` returns.
    @discardableResult
    public static func write<Result>(to directory: URL, _ fill: (_ staging: URL) throws -> Result) throws -> Result {
        let fileManager = FileManager.default
        let parent = directory.deletingLastPathComponent()
        try fileManager.createDirectory(at: parent, withIntermediateDirectories: true)
        try recover(directory)
        removeLeftovers(of: directory)
        var isDirectory: ObjCBool = false
        let exists = fileManager.fileExists(atPath: directory.path, isDirectory: &isDirectory)
        if exists && !isDirectory.boolValue { throw Error(description: "\(directory.path): exists and is not a directory") }

        let staging = parent.appendingPathComponent(".\(directory.lastPathComponent).partial-\(UUID().uuidString)")
        try fileManager.createDirectory(at: staging, withIntermediateDirectories: false)
        // Whatever happens, the staging name is gone at the end (after a swap it holds the old state).
        defer { try? fileManager.removeItem(at: staging) }
        let result = try fill(staging)
        try synchronizeTree(staging)
        if exists {
            try swap(staging, directory)
        } else if rename(staging.path, directory.path) != 0 {
            throw Error(description: "\(directory.path): rename from \(staging.lastPathComponent) failed (errno \(errno))")
        }
        synchronize(parent)
        return result
    }

    /// Undoes an interrupted two-rename fallback: if `directory` is missing but a complete
    /// `.NAME.old-*` sibling exists, it is renamed back. A no-op in every other case.
    public static func recover(_ directory: URL) throws {
        guard !FileManager.default.fileExists(atPath: directory.path) else { return }
        guard let old = siblings(of: directory, marker: ".old-").first else { return }
        guard rename(old.path, directory.path) == 0 else {
            throw Error(description: "\(directory.path): cannot restore \(old.lastPathComponent) (errno \(errno))")
        }
    }

    /// Removes `.NAME.partial-*` and `.NAME.old-*` siblings left by writes that were killed.
    /// (Call `recover` first: it may still need an `.old-*` sibling.)
    public static func removeLeftovers(of directory: URL) {
        for leftover in siblings(of: directory, marker: ".partial-") + siblings(of: directory, marker: ".old-") {
            try? FileManager.default.removeItem(at: leftover)
        }
    }

    /// Siblings named `.NAME<marker>…`.
    static func siblings(of directory: URL, marker: String) -> [URL] {
        let parent = directory.deletingLastPathComponent()
        let prefix = "." + directory.lastPathComponent + marker
        let names = (try? FileManager.default.contentsOfDirectory(atPath: parent.path)) ?? []
        return names.filter { $0.hasPrefix(prefix) }.sorted().map { parent.appendingPathComponent($0) }
    }

    // MARK: - The swap

    /// Exchanges two existing directories atomically, or falls back to two renames (see the header).
    static func swap(_ staging: URL, _ directory: URL) throws {
        switch exchange(staging.path, directory.path) {
        case .some(0): return
        case .some(let code) where code != EINVAL && code != ENOTSUP && code != ENOSYS:
            throw Error(description: "\(directory.path): atomic exchange failed (errno \(code))")
        default:
            // No exchange on this system or file system: rename aside, rename in; `recover` covers the gap.
            let old = directory.deletingLastPathComponent()
                .appendingPathComponent(".\(directory.lastPathComponent).old-\(UUID().uuidString)")
            guard rename(directory.path, old.path) == 0 else {
                throw Error(description: "\(directory.path): rename aside failed (errno \(errno))")
            }
            guard rename(staging.path, directory.path) == 0 else {
                let code = errno
                _ = rename(old.path, directory.path)
                throw Error(description: "\(directory.path): rename into place failed (errno \(code))")
            }
            try? FileManager.default.removeItem(at: old)
        }
    }

    /// 0 on success, the errno on failure, nil where the system has no exchange call.
    private static func exchange(_ a: String, _ b: String) -> Int32? {
        #if canImport(Glibc)
        // renameat2 (Linux ≥ 3.15, glibc ≥ 2.28) is not in Swift's Glibc module; look it up at run time.
        typealias RenameAt2 = @convention(c) (Int32, UnsafePointer<CChar>, Int32, UnsafePointer<CChar>, UInt32) -> Int32
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "renameat2") else { return nil }
        let renameat2 = unsafeBitCast(symbol, to: RenameAt2.self)
        let renameExchange: UInt32 = 2  // RENAME_EXCHANGE from <linux/fs.h>
        return renameat2(AT_FDCWD, a, AT_FDCWD, b, renameExchange) == 0 ? 0 : errno
        #elseif canImport(Darwin)
        return renamex_np(a, b, UInt32(RENAME_SWAP)) == 0 ? 0 : errno
        #else
        return nil
        #endif
    }

    // MARK: - Flushing

    /// fsyncs every regular file under `root`, then every directory (children before parents).
    static func synchronizeTree(_ root: URL) throws {
        let fileManager = FileManager.default
        var directories = [root]
        if let walker = fileManager.enumerator(at: root, includingPropertiesForKeys: [.isDirectoryKey]) {
            for case let url as URL in walker {
                if (try? url.resourceValues(forKeys: [.isDirectoryKey]))?.isDirectory == true { directories.append(url) } else {
                    let handle = try FileHandle(forReadingFrom: url)
                    try handle.synchronize()
                    try handle.close()
                }
            }
        }
        for directory in directories.reversed() { synchronize(directory) }
    }

    /// fsyncs a directory's entries (best effort: some file systems refuse fsync on directories).
    static func synchronize(_ directory: URL) {
        let descriptor = open(directory.path, O_RDONLY)
        guard descriptor >= 0 else { return }
        _ = fsync(descriptor)
        _ = close(descriptor)
    }
}
