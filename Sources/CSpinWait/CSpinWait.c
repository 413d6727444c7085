// CSpinWait.c — the one non-inline function of the module: how many cores this process may run on.
// (The atomics are inline in the header.) Linux's affinity mask needs _GNU_SOURCE, hence C, not Swift.
#ifdef __linux__
#define _GNU_SOURCE
#include <sched.h>
#endif
#include "CSpinWait.h"

int tinytune_allowed_cpus(void) {
#ifdef __linux__
    cpu_set_t mask;
    if (sched_getaffinity(0, sizeof mask, &mask) == 0) return CPU_COUNT(&mask);
#endif
    return 0;
}
