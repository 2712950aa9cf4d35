#ifndef MALLOC_COUNTER_H
#define MALLOC_COUNTER_H
/* Heap allocations (malloc, calloc, realloc, posix_memalign, aligned_alloc,
 * memalign) made by any thread of this process since the last reset. */
long malloc_counter_read(void);
void malloc_counter_reset(void);
#endif
