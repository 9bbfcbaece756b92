/* arena: bump allocator over a list of chunks (see arena.h). */
#include "core/arena.h"

#include <stdint.h>
#include <string.h>

#include "core/mem.h"

struct arena_chunk {
    arena_chunk *next;
    size_t size;
    size_t used;
    _Alignas(16) unsigned char data[];
};

void arena_init(o2p_arena *a, size_t chunk_size, size_t limit)
{
    a->head = NULL;
    a->chunk_size = chunk_size ? chunk_size : 64 * 1024;
    a->total = 0;
    a->limit = limit;
}

void *arena_alloc(o2p_arena *a, size_t size)
{
    size_t need = (size + 15) & ~(size_t)15;
    if (need < size) return NULL;
    arena_chunk *c = a->head;
    if (c == NULL || c->size - c->used < need) {
        size_t csize = need > a->chunk_size ? need : a->chunk_size;
        if (a->limit != 0 && a->total + csize > a->limit) return NULL;
        c = mem_alloc(sizeof *c + csize);
        if (c == NULL) return NULL;
        c->size = csize;
        c->used = 0;
        c->next = a->head;
        a->head = c;
        a->total += csize;
    }
    void *p = c->data + c->used;
    c->used += need;
    return p;
}

char *arena_strndup(o2p_arena *a, const char *s, size_t n)
{
    char *p = arena_alloc(a, n + 1);
    if (p == NULL) return NULL;
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

void arena_reset(o2p_arena *a)
{
    arena_chunk *c = a->head;
    if (c == NULL) return;
    /* keep the oldest chunk of default size; free the rest */
    arena_chunk *keep = NULL;
    while (c != NULL) {
        arena_chunk *next = c->next;
        if (keep == NULL && next == NULL && c->size == a->chunk_size) {
            keep = c;
        } else {
            mem_free(c);
        }
        c = next;
    }
    a->head = keep;
    a->total = keep ? keep->size : 0;
    if (keep) {
        keep->used = 0;
        keep->next = NULL;
    }
}

void arena_free(o2p_arena *a)
{
    arena_chunk *c = a->head;
    while (c != NULL) {
        arena_chunk *next = c->next;
        mem_free(c);
        c = next;
    }
    a->head = NULL;
    a->total = 0;
}
