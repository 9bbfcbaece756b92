/*
 * mem: the one allocation wrapper.
 *
 * Library code never calls malloc directly; it calls mem_alloc & co.  The
 * wrapper counts allocations, bytes in use and the peak (fed to /metrics and
 * the heap profile), and lets a test make the Nth allocation fail so every
 * out-of-memory path can be exercised (mem_fail_after).
 * Counters are atomic: any thread may allocate.
 */
#ifndef O2P_CORE_MEM_H
#define O2P_CORE_MEM_H

#include <stddef.h>
#include <stdint.h>

void *mem_alloc(size_t size);
void *mem_calloc(size_t count, size_t size);
void *mem_realloc(void *ptr, size_t size);
void mem_free(void *ptr);
char *mem_strdup(const char *s);
char *mem_strndup(const char *s, size_t n);

/* Grows the array *arr (capacity *cap elements of elem bytes) to hold at
 * least `need` elements, doubling from 16; new elements are uninitialised.
 * Returns 0, or O2P_ENOMEM (the array is unchanged). */
int mem_reserve_array(void **arr, size_t *cap, size_t need, size_t elem);

typedef struct mem_stats {
    uint64_t allocations; /* successful mem_alloc/calloc/realloc calls */
    uint64_t frees;
    uint64_t bytes_allocated; /* total bytes ever requested */
    uint64_t bytes_in_use;
    uint64_t peak_bytes_in_use;
} mem_stats;

void mem_get_stats(mem_stats *out);

/* Process-wide allocator tuning, called once at start-up by programs that
 * hold large, growing buffers (the server, convert, benchmarks): blocks of
 * 1 MiB and more are given their own mappings, so growing one (realloc)
 * remaps pages instead of copying them, and freeing one returns its memory
 * to the system at once (RSS follows the buffered data down after a flush). */
void mem_tune_for_large_buffers(void);

/* Test hook: the allocation after `n` more successful ones fails (returns
 * NULL).  n < 0 disables the injection. */
void mem_fail_after(long n);

#endif
