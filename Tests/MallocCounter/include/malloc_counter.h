#ifndef MALLOC_COUNTER_H
#define MALLOC_COUNTER_H
/* Heap allocations (malloc, calloc, realloc, posix_memalign, aligned_alloc,
 * memalign) made by any thread of this process since the last reset. */
long malloc_counter_read(void);
void malloc_counter_reset(void);
/* Bytes on the heap now (as malloc_usable_size counts them), and the most there
 * were since malloc_counter_reset_peak: a test bounds the memory a call takes by
 * the peak minus the bytes live before it. -1 when counting is not available. */
long malloc_counter_live_bytes(void);
long malloc_counter_peak_bytes(void);
void malloc_counter_reset_peak(void);
#endif
