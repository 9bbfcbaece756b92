/*
 * pb_build: a tiny protobuf encoder for tests and benchmarks, so decoder
 * tests can state their input message by message instead of as opaque
 * bytes.  Nested messages: mark = pbw_begin(b, field); ...; pbw_end(b, mark)
 * (the length prefix is inserted at the end, minimally encoded).
 * Allocation failures are not expected here (tests run with ample memory).
 */
#ifndef O2P_TESTS_PB_BUILD_H
#define O2P_TESTS_PB_BUILD_H

#include <stdint.h>
#include <string.h>

#include "core/buf.h"

static inline size_t pbw_varint_to(uint8_t out[10], uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        out[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    out[n++] = (uint8_t)v;
    return n;
}

static inline void pbw_varint(o2p_buf *b, uint64_t v)
{
    uint8_t tmp[10];
    buf_append(b, tmp, pbw_varint_to(tmp, v));
}

static inline void pbw_tag(o2p_buf *b, uint32_t num, uint32_t wire)
{
    pbw_varint(b, (uint64_t)num << 3 | wire);
}

static inline void pbw_uint(o2p_buf *b, uint32_t num, uint64_t v)
{
    pbw_tag(b, num, 0);
    pbw_varint(b, v);
}

static inline void pbw_sint32(o2p_buf *b, uint32_t num, int32_t v)
{
    pbw_uint(b, num, (uint32_t)((uint32_t)v << 1) ^ (uint32_t)(v >> 31));
}

static inline void pbw_le(o2p_buf *b, uint64_t v, int n)
{
    for (int i = 0; i < n; i++) buf_push_byte(b, (uint8_t)(v >> (8 * i)));
}

static inline void pbw_fixed64(o2p_buf *b, uint32_t num, uint64_t v)
{
    pbw_tag(b, num, 1);
    pbw_le(b, v, 8);
}

static inline void pbw_fixed32(o2p_buf *b, uint32_t num, uint32_t v)
{
    pbw_tag(b, num, 5);
    pbw_le(b, v, 4);
}

static inline void pbw_double(o2p_buf *b, uint32_t num, double v)
{
    uint64_t bits;
    memcpy(&bits, &v, 8);
    pbw_fixed64(b, num, bits);
}

static inline void pbw_bytes(o2p_buf *b, uint32_t num, const void *p, size_t n)
{
    pbw_tag(b, num, 2);
    pbw_varint(b, n);
    buf_append(b, p, n);
}

static inline void pbw_str(o2p_buf *b, uint32_t num, const char *s)
{
    pbw_bytes(b, num, s, strlen(s));
}

static inline size_t pbw_begin(o2p_buf *b, uint32_t num)
{
    pbw_tag(b, num, 2);
    return b->len;
}

static inline void pbw_end(o2p_buf *b, size_t mark)
{
    size_t len = b->len - mark;
    uint8_t tmp[10];
    size_t n = pbw_varint_to(tmp, len);
    buf_reserve(b, n);
    memmove(b->data + mark + n, b->data + mark, len);
    memcpy(b->data + mark, tmp, n);
    b->len += n;
}

/* KeyValue{key, AnyValue{string_value}} as field `num`. */
static inline void pbw_kv_str(o2p_buf *b, uint32_t num, const char *key, const char *val)
{
    size_t kv = pbw_begin(b, num);
    pbw_str(b, 1, key);
    size_t av = pbw_begin(b, 2);
    pbw_str(b, 1, val);
    pbw_end(b, av);
    pbw_end(b, kv);
}

/* KeyValue{key, AnyValue{int_value}} as field `num`. */
static inline void pbw_kv_int(o2p_buf *b, uint32_t num, const char *key, int64_t val)
{
    size_t kv = pbw_begin(b, num);
    pbw_str(b, 1, key);
    size_t av = pbw_begin(b, 2);
    pbw_uint(b, 3, (uint64_t)val);
    pbw_end(b, av);
    pbw_end(b, kv);
}

#endif
