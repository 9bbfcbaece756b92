/*
 * mem: counting allocator with failure injection (see mem.h).
 *
 * Each block carries a 16-byte header holding its size, so frees can keep
 * bytes_in_use exact without asking libc.  16 bytes keeps max_align_t
 * alignment for the caller.
 */
#include "core/mem.h"

#include "core/error.h"

#include <malloc.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define MEM_HEADER 16

static _Atomic uint64_t mem_allocations;
static _Atomic uint64_t mem_frees;
static _Atomic uint64_t mem_bytes_allocated;
static _Atomic uint64_t mem_bytes_in_use;
static _Atomic uint64_t mem_peak;
static _Atomic long mem_fail_countdown = -1;

static int mem_should_fail(void)
{
    long left = atomic_load_explicit(&mem_fail_countdown, memory_order_relaxed);
    if (left < 0) return 0;
    if (left == 0) return 1;
    atomic_fetch_sub_explicit(&mem_fail_countdown, 1, memory_order_relaxed);
    return 0;
}

static void mem_account_add(size_t size)
{
    atomic_fetch_add_explicit(&mem_allocations, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&mem_bytes_allocated, size, memory_order_relaxed);
    uint64_t now = atomic_fetch_add_explicit(&mem_bytes_in_use, size, memory_order_relaxed) + size;
    uint64_t peak = atomic_load_explicit(&mem_peak, memory_order_relaxed);
    while (now > peak && !atomic_compare_exchange_weak_explicit(
                             &mem_peak, &peak, now, memory_order_relaxed, memory_order_relaxed)) {
    }
}

void *mem_alloc(size_t size)
{
    if (size > SIZE_MAX - MEM_HEADER || mem_should_fail()) return NULL;
    unsigned char *block = malloc(size + MEM_HEADER);
    if (block == NULL) return NULL;
    memcpy(block, &size, sizeof size);
    mem_account_add(size);
    return block + MEM_HEADER;
}

void *mem_calloc(size_t count, size_t size)
{
    if (size != 0 && count > (SIZE_MAX - MEM_HEADER) / size) return NULL;
    void *p = mem_alloc(count * size);
    if (p != NULL) memset(p, 0, count * size);
    return p;
}

void *mem_realloc(void *ptr, size_t size)
{
    if (ptr == NULL) return mem_alloc(size);
    if (size > SIZE_MAX - MEM_HEADER || mem_should_fail()) return NULL;
    unsigned char *old = (unsigned char *)ptr - MEM_HEADER;
    size_t old_size;
    memcpy(&old_size, old, sizeof old_size);
    unsigned char *block = realloc(old, size + MEM_HEADER);
    if (block == NULL) return NULL;
    memcpy(block, &size, sizeof size);
    atomic_fetch_sub_explicit(&mem_bytes_in_use, old_size, memory_order_relaxed);
    atomic_fetch_add_explicit(&mem_frees, 1, memory_order_relaxed);
    mem_account_add(size);
    return block + MEM_HEADER;
}

void mem_free(void *ptr)
{
    if (ptr == NULL) return;
    unsigned char *block = (unsigned char *)ptr - MEM_HEADER;
    size_t size;
    memcpy(&size, block, sizeof size);
    atomic_fetch_sub_explicit(&mem_bytes_in_use, size, memory_order_relaxed);
    atomic_fetch_add_explicit(&mem_frees, 1, memory_order_relaxed);
    free(block);
}

int mem_reserve_array(void **arr, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap) return O2P_OK;
    size_t n = *cap ? *cap : 16;
    while (n < need) {
        if (n > SIZE_MAX / 2) return O2P_ENOMEM;
        n *= 2;
    }
    if (elem != 0 && n > SIZE_MAX / elem) return O2P_ENOMEM;
    void *p = mem_realloc(*arr, n * elem);
    if (p == NULL) return O2P_ENOMEM;
    *arr = p;
    *cap = n;
    return O2P_OK;
}

char *mem_strndup(const char *s, size_t n)
{
    char *copy = mem_alloc(n + 1);
    if (copy == NULL) return NULL;
    memcpy(copy, s, n);
    copy[n] = '\0';
    return copy;
}

char *mem_strdup(const char *s)
{
    return mem_strndup(s, strlen(s));
}

void mem_get_stats(mem_stats *out)
{
    out->allocations = atomic_load(&mem_allocations);
    out->frees = atomic_load(&mem_frees);
    out->bytes_allocated = atomic_load(&mem_bytes_allocated);
    out->bytes_in_use = atomic_load(&mem_bytes_in_use);
    out->peak_bytes_in_use = atomic_load(&mem_peak);
}

void mem_fail_after(long n)
{
    atomic_store(&mem_fail_countdown, n);
}

void mem_tune_for_large_buffers(void)
{
    /* A fixed threshold also turns off glibc's dynamic adjustment, which
     * would otherwise move big blocks back onto the heap after the first
     * free, where realloc copies them. */
    mallopt(M_MMAP_THRESHOLD, 1 << 20);
}
