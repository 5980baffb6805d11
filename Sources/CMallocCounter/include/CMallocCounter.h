// Counts heap allocations made by the calling thread, for the allocation tests
// (swift-nio's tests_04_performance idea, STYLE.md pattern 7). Linked only into tests:
// defining malloc and friends in the test executable interposes them for every library
// in the process (libswiftCore included); each call is forwarded to the next definition
// (libc's, found with dlsym(RTLD_NEXT)) and counted when the calling thread enabled it.
#ifndef CMALLOC_COUNTER_H
#define CMALLOC_COUNTER_H

#include <stdint.h>

/// Allocations (malloc, calloc, realloc, posix_memalign, aligned_alloc, memalign,
/// valloc) and frees seen on this thread since `cmc_start`.
typedef struct {
    uint64_t allocations;
    uint64_t frees;
    uint64_t bytes;
} cmc_counts;

/// Resets this thread's counts and starts counting.
void cmc_start(void);
/// Stops counting on this thread and returns what was counted.
cmc_counts cmc_stop(void);
/// Prints the stack of every counted allocation to stderr while on (debugging aid).
void cmc_trace(int on);
/// 1 when this process's malloc is the counting one (the interposition works).
int cmc_interposed(void);
/// 1 when built under AddressSanitizer or ThreadSanitizer: malloc is the sanitizer's and
/// nothing is counted.
int cmc_sanitized(void);

#endif
