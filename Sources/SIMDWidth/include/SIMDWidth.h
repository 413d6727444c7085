// SIMDWidth.h — what the compiler was told the CPU can do, as one number the Swift kernels read.
//
// Teaches: how Swift code can branch on the *build target's* instruction set. Swift's `#if` knows the
// architecture (`arch(x86_64)`) but not its extensions (AVX2, AVX-512). The Clang importer does: when a
// Swift target is compiled with `-Xcc -march=native`, Clang defines `__AVX512F__`, `__AVX2__`, … for the
// host, and a macro in an imported header is evaluated under those same flags. Kernels reads
// `TINYTUNE_SIMD_FLOATS` and picks its GEMM register tile from it (a compile-time constant, so the
// branch not taken is removed).
// It also carries the one instruction Swift cannot spell, a cache prefetch hint (used by the GEMM).
// Leaves out: run-time CPU detection (SwiftPM builds from source on the machine that runs the code).
#ifndef TINYTUNE_SIMD_WIDTH_H
#define TINYTUNE_SIMD_WIDTH_H

#if defined(__AVX512F__)
/// 512-bit vector registers (32 of them): 16 floats per register.
#define TINYTUNE_SIMD_FLOATS 16
#elif defined(__AVX2__) && defined(__FMA__)
/// 256-bit registers with fused multiply-add (16 of them): 8 floats.
#define TINYTUNE_SIMD_FLOATS 8
#elif defined(__ARM_NEON)
/// 128-bit NEON registers (32 of them): 4 floats.
#define TINYTUNE_SIMD_FLOATS 4
#else
/// Unknown target: assume 128-bit vectors.
#define TINYTUNE_SIMD_FLOATS 4
#endif

/// Asks the CPU to start bringing the cache line at `address` into L1, for writing, without waiting for
/// it (a hint: it never faults and has no visible effect). Swift has no prefetch instruction of its
/// own; the GEMM micro-kernel calls this on the C tile it will update, so that the load of C after its
/// long k loop does not stall on a cache miss.
static inline void tinytune_prefetch_for_write(const void *address) {
    __builtin_prefetch(address, 1, 3);
}

/// Asks the CPU to start bringing the cache line at `address` into L2 (not L1), for reading. The
/// packed GEMM calls it on the next B sliver's source while it multiplies the current one, so the
/// weights stream in from memory during the multiply-adds instead of between them.
static inline void tinytune_prefetch_for_read(const void *address) {
    __builtin_prefetch(address, 0, 2);
}

#endif
