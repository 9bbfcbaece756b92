/*
 * buf: a growable byte buffer with a hard cap.
 *
 * Appending past `limit` fails cleanly with O2P_ELIMIT instead of growing;
 * this is how payload and decompression limits are enforced.  A limit of 0
 * means "no limit other than memory".  Growth failures return O2P_ENOMEM and
 * leave the contents intact.  The buffer owns `data` (allocated with mem_*);
 * an initialised buffer's `data` is never NULL, even before it allocates.
 */
#ifndef O2P_CORE_BUF_H
#define O2P_CORE_BUF_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/error.h"

typedef struct o2p_buf {
    uint8_t *data;
    size_t len;
    size_t cap;   /* allocated bytes */
    size_t limit; /* hard cap on len; 0 = unlimited */
} o2p_buf;

void buf_init(o2p_buf *b, size_t limit);
void buf_free(o2p_buf *b);
/* Hands the allocation over, for reuse by another buffer: returns it (NULL
 * when there is none) and its capacity in *cap; b is left as after buf_free (its limit kept). */
uint8_t *buf_yield(o2p_buf *b, size_t *cap);
/* Gives an unallocated b the allocation `data` of `cap` bytes (from
 * buf_yield), empty. */
void buf_adopt(o2p_buf *b, uint8_t *data, size_t cap);
/* Drops the contents, keeps the allocation for reuse. */
static inline void buf_reset(o2p_buf *b)
{
    b->len = 0;
}

/* Slow path of buf_reserve: grows capacity geometrically. */
int buf_grow(o2p_buf *b, size_t extra);

/* The capacity b would have after appending `extra` more bytes (what
 * buf_grow would allocate), without allocating; used to check a memory
 * budget before committing to an append. */
size_t buf_capacity_after(const o2p_buf *b, size_t extra);

/* Ensures room for `extra` more bytes. */
static inline int buf_reserve(o2p_buf *b, size_t extra)
{
    if (extra <= b->cap - b->len) return O2P_OK;
    return buf_grow(b, extra);
}

static inline int buf_append(o2p_buf *b, const void *src, size_t n)
{
    if (n > b->cap - b->len) {
        int rc = buf_grow(b, n);
        if (rc < 0) return rc;
    }
    if (n) memcpy(b->data + b->len, src, n);
    b->len += n;
    return O2P_OK;
}

static inline int buf_push_byte(o2p_buf *b, uint8_t byte)
{
    if (b->len == b->cap) {
        int rc = buf_grow(b, 1);
        if (rc < 0) return rc;
    }
    b->data[b->len++] = byte;
    return O2P_OK;
}

int buf_append_str(o2p_buf *b, const char *s);
/* Appends n copies of src[0..len) (O2P_ELIMIT when len * n overflows). */
int buf_append_copies(o2p_buf *b, const uint8_t *src, size_t len, size_t n);
int buf_printf(o2p_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Returns a pointer to `n` writable bytes at the end and advances len. */
static inline uint8_t *buf_extend(o2p_buf *b, size_t n)
{
    if (buf_reserve(b, n) < 0) return NULL;
    uint8_t *p = b->data + b->len;
    b->len += n;
    return p;
}

/* Hands the allocation to the caller (free with mem_free; NULL when nothing
 * was ever allocated); b is left without storage (data NULL) and must be
 * initialised again with buf_init before reuse. */
uint8_t *buf_detach(o2p_buf *b, size_t *len_out);

#endif
