// MappedFile.swift — a checkpoint read through a memory mapping, whose pages are handed back once read.
//
// Teaches: what memory mapping costs. Mapping a 540 MB checkpoint reads nothing up front — pages come
// in from the file as tensors touch them — but every touched page then counts in the process's
// resident memory for as long as the mapping lives. A loader that copies each tensor into its own
// arrays would hold the model twice: measured on SmolLM2-135M, 1.09 GB peak for 538 MB of fp32
// weights. The pages of a read-only file mapping can be given back at any time (`madvise` with
// MADV_DONTNEED): the kernel drops them, and a later read simply faults them in from the file again,
// with the same bytes. So the readers give back each tensor's whole pages as soon as they have copied
// or decoded it, and the peak is one copy of the model plus one tensor.
// Leaves out: Windows (no `mmap`); files whose bytes change while mapped (the mapping is private and
// read-only, but a page given back is read again from the file as it is then).
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A read-only, private memory mapping of a whole file, exposed as `Data` (no copy).
final class MappedFile: @unchecked Sendable {
    /// The file's bytes; valid while this object (or any slice of `data`) lives. Indices start at 0.
    let data: Data
    /// Where the mapping starts in this process's address space.
    let base: UnsafeMutableRawPointer
    private let pageSize: Int

    /// Maps the file at `url`, or returns nil where the system cannot (empty files, file systems
    /// without mapping); callers then read the file into memory instead.
    init?(_ url: URL) {
        let descriptor = open(url.path, O_RDONLY)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0, status.st_size > 0 else { return nil }
        let size = Int(status.st_size)
        // mmap reports failure as the address -1 (C's MAP_FAILED, a macro Swift cannot import).
        guard let address = mmap(nil, size, PROT_READ, MAP_PRIVATE, descriptor, 0),
              address != UnsafeMutableRawPointer(bitPattern: -1) else { return nil }
        base = address
        pageSize = max(1, Int(sysconf(Int32(_SC_PAGESIZE))))
        // Data owns the mapping: the last slice to go unmaps it.
        data = Data(bytesNoCopy: address, count: size, deallocator: .custom { pointer, count in
            _ = munmap(pointer, count)
        })
    }

    /// Gives back the resident pages that lie wholly inside bytes `range` of the file (the partial
    /// pages at either end may hold a neighbouring tensor and stay). Reading those bytes again later
    /// is still correct: they fault in from the file.
    func releasePages(_ range: Range<Int>) {
        let first = (max(0, range.lowerBound) + pageSize - 1) / pageSize * pageSize
        let end = min(range.upperBound, data.count) / pageSize * pageSize
        guard end > first else { return }
        _ = madvise(base + first, end - first, Int32(MADV_DONTNEED))
    }
}
