/* buf: capped growable byte buffer (see buf.h). */
#include "core/buf.h"

#include <stdarg.h>
#include <stdio.h>

#include "core/mem.h"

/* What an unallocated buffer points at: an empty buffer is still an empty
 * range of real memory, so `b->data + b->len` and memcpy(dst, b->data, 0)
 * are defined without every user special-casing a NULL pointer.  Nothing is
 * ever written here: appends grow the buffer first (cap is 0). */
static uint8_t buf_empty[1];

void buf_init(o2p_buf *b, size_t limit)
{
    b->data = buf_empty;
    b->len = 0;
    b->cap = 0;
    b->limit = limit;
}

void buf_free(o2p_buf *b)
{
    if (b->cap) mem_free(b->data);
    b->data = buf_empty;
    b->len = 0;
    b->cap = 0;
}

uint8_t *buf_yield(o2p_buf *b, size_t *cap)
{
    uint8_t *data = b->cap ? b->data : NULL;
    *cap = b->cap;
    b->data = buf_empty;
    b->len = 0;
    b->cap = 0;
    return data;
}

void buf_adopt(o2p_buf *b, uint8_t *data, size_t cap)
{
    if (b->cap) mem_free(b->data);
    b->data = cap ? data : buf_empty;
    b->len = 0;
    b->cap = cap;
}

/* Growth policy: at least 64 bytes, doubling up to 1 MiB, then by a
 * quarter (big buffers are the batcher's columns: their slack is memory the
 * budget pays for, while glibc's mremap makes growing them cheap), never
 * past the limit. */
#define BUF_DOUBLING_LIMIT ((size_t)1 << 20)
static size_t buf_next_cap(const o2p_buf *b, size_t need)
{
    size_t cap = b->cap < 64 ? 64 : b->cap;
    while (cap < need) {
        size_t step = cap < BUF_DOUBLING_LIMIT ? cap : cap / 4;
        cap = cap > SIZE_MAX - step ? need : cap + step;
    }
    if (b->limit != 0 && cap > b->limit) cap = b->limit;
    return cap;
}

size_t buf_capacity_after(const o2p_buf *b, size_t extra)
{
    if (extra > SIZE_MAX - b->len) return SIZE_MAX;
    size_t need = b->len + extra;
    return need <= b->cap ? b->cap : buf_next_cap(b, need);
}

int buf_grow(o2p_buf *b, size_t extra)
{
    if (extra > SIZE_MAX - b->len) return O2P_ELIMIT;
    size_t need = b->len + extra;
    if (b->limit != 0 && need > b->limit) return O2P_ELIMIT;
    if (need <= b->cap) return O2P_OK;
    size_t cap = buf_next_cap(b, need);
    uint8_t *p = mem_realloc(b->cap ? b->data : NULL, cap);
    if (p == NULL) return O2P_ENOMEM;
    b->data = p;
    b->cap = cap;
    return O2P_OK;
}

int buf_append_str(o2p_buf *b, const char *s)
{
    return buf_append(b, s, strlen(s));
}

int buf_printf(o2p_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) return O2P_EINVAL;
    int rc = buf_reserve(b, (size_t)n + 1);
    if (rc < 0) return rc;
    va_start(ap, fmt);
    vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return O2P_OK;
}

uint8_t *buf_detach(o2p_buf *b, size_t *len_out)
{
    uint8_t *p = b->cap ? b->data : NULL;
    if (len_out) *len_out = b->len;
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    return p;
}

int buf_append_copies(o2p_buf *b, const uint8_t *src, size_t len, size_t n)
{
    if (len == 0 || n == 0) return O2P_OK;
    if (n > SIZE_MAX / len) return O2P_ELIMIT;
    int rc = buf_reserve(b, len * n);
    if (rc < 0) return rc;
    uint8_t *dst = b->data + b->len;
    b->len += len * n;
    if (len == 1) {
        memset(dst, src[0], n);
        return O2P_OK;
    }
    for (size_t i = 0; i < n; i++) memcpy(dst + i * len, src, len);
    return O2P_OK;
}
