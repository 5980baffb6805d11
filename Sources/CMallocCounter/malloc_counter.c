// See include/CMallocCounter.h. Per-thread counting, so that tests running in
// parallel (Swift Testing) do not count each other's allocations.
#define _GNU_SOURCE
#include "CMallocCounter.h"

// Under AddressSanitizer or ThreadSanitizer malloc is the sanitizer's, which must see
// every allocation: nothing is interposed, nothing is counted, and the allocation tests
// skip (`cmc_sanitized`); they count in the plain test run.
#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define CMC_SANITIZED 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define CMC_SANITIZED 1
#endif

#ifdef CMC_SANITIZED
void cmc_trace(int on) { (void)on; }
void cmc_start(void) {}
cmc_counts cmc_stop(void) {
    cmc_counts c = {0, 0, 0};
    return c;
}
int cmc_interposed(void) { return 0; }
int cmc_sanitized(void) { return 1; }
#else
int cmc_sanitized(void) { return 0; }

#include <dlfcn.h>
#include <execinfo.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TLS __thread __attribute__((tls_model("initial-exec")))

static TLS int counting;
static TLS uint64_t allocations, frees, bytes;
static int called;  // set by our malloc: proves the interposition took effect

typedef void *(*malloc_fn)(size_t);
typedef void *(*calloc_fn)(size_t, size_t);
typedef void *(*realloc_fn)(void *, size_t);
typedef void (*free_fn)(void *);
typedef int (*posix_memalign_fn)(void **, size_t, size_t);
typedef void *(*aligned_alloc_fn)(size_t, size_t);

static malloc_fn real_malloc;
static calloc_fn real_calloc;
static realloc_fn real_realloc;
static free_fn real_free;
static posix_memalign_fn real_posix_memalign;
static aligned_alloc_fn real_aligned_alloc;
static aligned_alloc_fn real_memalign;
static malloc_fn real_valloc;

// dlsym may allocate (dlerror state) while we are resolving: serve that from here.
static _Alignas(16) char bootstrap[16384];
static size_t bootstrap_used;
static int resolving;

static int is_bootstrap(const void *p) {
    return (const char *)p >= bootstrap && (const char *)p < bootstrap + sizeof bootstrap;
}

static void *bootstrap_alloc(size_t n) {
    n = (n + 15) & ~(size_t)15;
    if (bootstrap_used + n > sizeof bootstrap) abort();
    void *p = bootstrap + bootstrap_used;
    bootstrap_used += n;
    return p;  // static storage starts zeroed and is never reused
}

static void resolve(void) {
    if (real_free) return;
    resolving = 1;
    real_malloc = (malloc_fn)dlsym(RTLD_NEXT, "malloc");
    real_calloc = (calloc_fn)dlsym(RTLD_NEXT, "calloc");
    real_realloc = (realloc_fn)dlsym(RTLD_NEXT, "realloc");
    real_posix_memalign = (posix_memalign_fn)dlsym(RTLD_NEXT, "posix_memalign");
    real_aligned_alloc = (aligned_alloc_fn)dlsym(RTLD_NEXT, "aligned_alloc");
    real_memalign = (aligned_alloc_fn)dlsym(RTLD_NEXT, "memalign");
    real_valloc = (malloc_fn)dlsym(RTLD_NEXT, "valloc");
    real_free = (free_fn)dlsym(RTLD_NEXT, "free");
    resolving = 0;
}

static TLS int tracing, in_trace;

// With tracing on, each counted allocation prints its stack to stderr (for finding
// where an allocation comes from: pipe through `swift demangle`).
static void trace(void) {
    if (in_trace) return;
    in_trace = 1;
    void *frames[32];
    int n = backtrace(frames, 32);
    static const char line[] = "--- allocation\n";
    (void)!write(2, line, sizeof line - 1);
    backtrace_symbols_fd(frames, n, 2);
    in_trace = 0;
}

static inline void note(size_t n) {
    if (counting && !in_trace) {
        allocations++;
        bytes += n;
        if (tracing) trace();
    }
}

void *malloc(size_t n) {
    if (!real_free) {
        if (resolving) return bootstrap_alloc(n);
        resolve();
    }
    called = 1;
    note(n);
    return real_malloc(n);
}

void *calloc(size_t count, size_t size) {
    if (!real_free) {
        if (resolving) return bootstrap_alloc(count * size);
        resolve();
    }
    note(count * size);
    return real_calloc(count, size);
}

void *realloc(void *p, size_t n) {
    if (!real_free) {
        if (resolving) return bootstrap_alloc(n);
        resolve();
    }
    if (is_bootstrap(p)) {
        void *q = real_malloc(n);
        if (q) {
            size_t avail = (size_t)(bootstrap + sizeof bootstrap - (char *)p);
            memcpy(q, p, n < avail ? n : avail);
        }
        note(n);
        return q;
    }
    note(n);
    return real_realloc(p, n);
}

void free(void *p) {
    if (p == NULL || is_bootstrap(p)) return;
    if (!real_free) resolve();
    if (counting) frees++;
    real_free(p);
}

int posix_memalign(void **out, size_t alignment, size_t n) {
    if (!real_free) resolve();
    note(n);
    return real_posix_memalign(out, alignment, n);
}

void *aligned_alloc(size_t alignment, size_t n) {
    if (!real_free) resolve();
    note(n);
    return real_aligned_alloc(alignment, n);
}

void *memalign(size_t alignment, size_t n) {
    if (!real_free) resolve();
    note(n);
    return real_memalign(alignment, n);
}

void *valloc(size_t n) {
    if (!real_free) resolve();
    note(n);
    return real_valloc(n);
}

void cmc_trace(int on) {
    tracing = on;
}

void cmc_start(void) {
    allocations = 0;
    frees = 0;
    bytes = 0;
    counting = 1;
}

cmc_counts cmc_stop(void) {
    counting = 0;
    cmc_counts c = {allocations, frees, bytes};
    return c;
}

int cmc_interposed(void) {
    return called;  // the process allocated through us at least once
}
#endif
