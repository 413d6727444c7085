// CSpinWait.h — the few atomic operations and the spin-loop hint that Kernels' `WorkerPool` needs.
//
// Teaches: how threads hand work to each other without a system call. A counter in shared memory is
// bumped by one thread and watched by another; "acquire" and "release" orderings make everything
// written before the bump visible to whoever sees it. Swift's standard library has these in the
// `Synchronization` module; TinyTune's design card allows Foundation and Dispatch only, so the C
// compiler's builtins are wrapped here, one line each (Clang inlines them into the Swift code).
// Leaves out: every other ordering and width; a `long` is 64 bits on the LP64 systems we build for.
#ifndef TINYTUNE_C_SPIN_WAIT_H
#define TINYTUNE_C_SPIN_WAIT_H

/// The cores the process's affinity mask allows (Linux: `sched_getaffinity`), or 0 when unknown
/// (other systems), so the caller falls back to the active-core count. Defined in CSpinWait.c.
int tinytune_allowed_cpus(void);

/// Reads *p; later reads and writes of this thread cannot move before it.
static inline long tinytune_load_acquire(const long *p) { return __atomic_load_n(p, __ATOMIC_ACQUIRE); }

/// Writes v to *p; earlier reads and writes of this thread cannot move after it.
static inline void tinytune_store_release(long *p, long v) { __atomic_store_n(p, v, __ATOMIC_RELEASE); }

/// Adds v to *p and returns the old value, as one indivisible step (sequentially consistent).
static inline long tinytune_fetch_add(long *p, long v) { return __atomic_fetch_add(p, v, __ATOMIC_SEQ_CST); }

/// Reads *p in the single order all threads agree on (sequentially consistent).
static inline long tinytune_load_ordered(const long *p) { return __atomic_load_n(p, __ATOMIC_SEQ_CST); }

/// Writes v to *p in the single order all threads agree on (sequentially consistent).
static inline void tinytune_store_ordered(long *p, long v) { __atomic_store_n(p, v, __ATOMIC_SEQ_CST); }

/// If *p equals expected, writes desired and returns 1; otherwise returns 0 (sequentially consistent).
static inline int tinytune_compare_exchange(long *p, long expected, long desired) {
    return __atomic_compare_exchange_n(p, &expected, desired, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
}

/// Writes v to *p and returns the old value, sequentially consistent.
static inline long tinytune_exchange(long *p, long v) { return __atomic_exchange_n(p, v, __ATOMIC_SEQ_CST); }

/// Tells the CPU this thread is spinning in a wait loop (x86 `pause`, arm64 `yield`): it saves power
/// and gives the other hardware thread of the core its turn.
static inline void tinytune_cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__) || defined(__arm__)
    __asm__ __volatile__("yield");
#endif
}

#endif
