// Interposes the C allocator in the test executable and counts every call that
// allocates, forwarding to glibc's own implementations; also keeps the bytes live on
// the heap and their peak (sizes from malloc_usable_size).
#include "malloc_counter.h"

#include <stdatomic.h>
#include <stddef.h>

#if defined(__linux__) && defined(__GLIBC__) && !defined(__SANITIZE_ADDRESS__) && \
    !(defined(__has_feature) && __has_feature(address_sanitizer))
#include <malloc.h>
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
extern void __libc_free(void *);

static atomic_long count;
static atomic_long live;
static atomic_long peak;

static void *added(void *p) {
    if (p) {
        long now = atomic_fetch_add(&live, (long)malloc_usable_size(p)) + (long)malloc_usable_size(p);
        long seen = atomic_load(&peak);
        while (now > seen && !atomic_compare_exchange_weak(&peak, &seen, now)) {}
    }
    return p;
}

void *malloc(size_t n) { atomic_fetch_add(&count, 1); return added(__libc_malloc(n)); }
void *calloc(size_t a, size_t b) { atomic_fetch_add(&count, 1); return added(__libc_calloc(a, b)); }
void *realloc(void *p, size_t n) {
    atomic_fetch_add(&count, 1);
    if (p) atomic_fetch_sub(&live, (long)malloc_usable_size(p));
    void *q = __libc_realloc(p, n);
    if (!q && p && n) { atomic_fetch_add(&live, (long)malloc_usable_size(p)); return q; }  /* failed: p still live */
    return added(q);
}
void *memalign(size_t a, size_t n) { atomic_fetch_add(&count, 1); return added(__libc_memalign(a, n)); }
void *aligned_alloc(size_t a, size_t n) { atomic_fetch_add(&count, 1); return added(__libc_memalign(a, n)); }
int posix_memalign(void **out, size_t a, size_t n) {
    atomic_fetch_add(&count, 1);
    void *p = __libc_memalign(a, n);
    if (!p) return 12; /* ENOMEM */
    *out = added(p);
    return 0;
}
void free(void *p) {
    if (p) atomic_fetch_sub(&live, (long)malloc_usable_size(p));
    __libc_free(p);
}
long malloc_counter_read(void) { return atomic_load(&count); }
void malloc_counter_reset(void) { atomic_store(&count, 0); }
long malloc_counter_live_bytes(void) { return atomic_load(&live); }
long malloc_counter_peak_bytes(void) { return atomic_load(&peak); }
void malloc_counter_reset_peak(void) { atomic_store(&peak, atomic_load(&live)); }
#else
long malloc_counter_read(void) { return -1; } /* not available: the test skips */
void malloc_counter_reset(void) {}
long malloc_counter_live_bytes(void) { return -1; }
long malloc_counter_peak_bytes(void) { return -1; }
void malloc_counter_reset_peak(void) {}
#endif
