/*
 * arena: request-scoped bump allocator.
 *
 * Allocations are carved from chunks and released all at once with
 * arena_reset (which keeps the first chunk for reuse, so a steady stream of
 * requests allocates nothing) or arena_free.  `limit` caps the total bytes the
 * arena may hold (0 = unlimited); past it arena_alloc returns NULL.
 */
#ifndef O2P_CORE_ARENA_H
#define O2P_CORE_ARENA_H

#include <stddef.h>

typedef struct arena_chunk arena_chunk;

typedef struct o2p_arena {
    arena_chunk *head; /* current chunk (newest) */
    size_t chunk_size; /* default size of new chunks */
    size_t total;      /* bytes held in chunks */
    size_t limit;
} o2p_arena;

void arena_init(o2p_arena *a, size_t chunk_size, size_t limit);
/* Returns 16-byte aligned memory or NULL (out of memory or over limit). */
void *arena_alloc(o2p_arena *a, size_t size);
char *arena_strndup(o2p_arena *a, const char *s, size_t n);
void arena_reset(o2p_arena *a);
void arena_free(o2p_arena *a);

#endif
