// CAllocator.h — the one C-library setting Swift cannot reach: how glibc's malloc treats large blocks.
//
// Teaches: Swift's Glibc module imports <stdlib.h> but not <malloc.h>, where `mallopt` lives. A header
// of our own includes it and exposes one function; Kernels' `HeapReuse` (HeapReuse.swift) explains why
// and when it is called.
// Leaves out: every other allocator knob; C libraries other than glibc (the function then reports 0).
#ifndef TINYTUNE_C_ALLOCATOR_H
#define TINYTUNE_C_ALLOCATOR_H

#if defined(__GLIBC__) || (defined(__linux__) && !defined(__ANDROID__))
#include <malloc.h>
#include <limits.h>
/// Serves blocks up to `mapping_threshold` bytes from the heap (not from a mapping of their own), never
/// trims freed heap memory back to the system, and makes threads created from now on share the main
/// heap (per-thread heaps give whole freed sub-heaps back regardless of the trim setting). Returns 1
/// when glibc accepted all three settings.
static inline int tinytune_keep_freed_memory(int mapping_threshold) {
    int mapping = mallopt(M_MMAP_THRESHOLD, mapping_threshold);
    int trim = mallopt(M_TRIM_THRESHOLD, INT_MAX);
    int arenas = mallopt(M_ARENA_MAX, 1);
    return mapping == 1 && trim == 1 && arenas == 1;
}
#else
static inline int tinytune_keep_freed_memory(int mapping_threshold) { (void)mapping_threshold; return 0; }
#endif

#endif
