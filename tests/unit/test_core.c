/* Unit tests for src/core: capped buffers, short copies, arena, counting allocator. */
#include <string.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/copy.h"
#include "core/error.h"
#include "core/mem.h"
#include "unit.h"

TEST(core_buf_append_and_limit)
{
    o2p_buf b;
    buf_init(&b, 10);
    CHECK_OK(buf_append(&b, "hello", 5));
    CHECK_OK(buf_append(&b, "world", 5));
    CHECK_INT(buf_append(&b, "!", 1), O2P_ELIMIT);
    CHECK_MEM(b.data, b.len, "helloworld", 10);
    buf_reset(&b);
    CHECK_INT(b.len, 0);
    CHECK_OK(buf_printf(&b, "%d-%s", 42, "x"));
    CHECK_MEM(b.data, b.len, "42-x", 4);
    buf_free(&b);
}

TEST(core_buf_append_copies)
{
    o2p_buf b;
    buf_init(&b, 12);
    CHECK_OK(buf_append_copies(&b, (const uint8_t *)"ab", 2, 3));
    CHECK_OK(buf_append_copies(&b, (const uint8_t *)"z", 1, 4));
    CHECK_OK(buf_append_copies(&b, (const uint8_t *)"q", 1, 0));
    CHECK_MEM(b.data, b.len, "abababzzzz", 10);
    CHECK_INT(buf_append_copies(&b, (const uint8_t *)"xy", 2, 2), O2P_ELIMIT);
    CHECK_INT(buf_append_copies(&b, (const uint8_t *)"xy", 2, SIZE_MAX / 2 + 1), O2P_ELIMIT);
    CHECK_INT(b.len, 10);
    buf_free(&b);
}

/* every length up to past COPY_SHORT_MAX, at every source and destination
 * alignment of 16: the bytes copied and nothing written before or after */
TEST(core_copy_short_copies_exactly_n_bytes)
{
    uint8_t src[COPY_SHORT_MAX + 64], dst[COPY_SHORT_MAX + 64];
    for (size_t i = 0; i < sizeof src; i++) src[i] = (uint8_t)(i * 7 + 1);
    for (size_t n = 0; n <= COPY_SHORT_MAX + 20; n++) {
        for (size_t so = 0; so < 16; so += 5) {
            for (size_t d0 = 1; d0 < 17; d0 += 3) {
                memset(dst, 0xAA, sizeof dst);
                copy_short(dst + d0, src + so, n);
                CHECK(memcmp(dst + d0, src + so, n) == 0);
                for (size_t k = 0; k < d0; k++) CHECK_INT(dst[k], 0xAA);
                for (size_t k = d0 + n; k < sizeof dst; k++) CHECK_INT(dst[k], 0xAA);
            }
        }
    }
}

TEST(core_buf_unlimited_grows)
{
    o2p_buf b;
    buf_init(&b, 0);
    for (int i = 0; i < 100000; i++) CHECK_OK(buf_push_byte(&b, (uint8_t)i));
    CHECK_INT(b.len, 100000);
    CHECK_INT(b.data[99999], (uint8_t)99999);
    size_t len;
    uint8_t *p = buf_detach(&b, &len);
    CHECK_INT(len, 100000);
    CHECK(b.data == NULL);
    mem_free(p);
}

/* An allocation moves from one buffer to another whole: the receiver keeps
 * its own limit, starts empty, and appends into the moved memory. */
TEST(core_buf_yield_and_adopt_move_an_allocation)
{
    o2p_buf a, b;
    buf_init(&a, 0);
    buf_init(&b, 100);
    CHECK_OK(buf_reserve(&a, 64));
    CHECK_OK(buf_append(&a, "abc", 3));
    uint8_t *mem = a.data;
    size_t cap;
    uint8_t *p = buf_yield(&a, &cap);
    CHECK(p == mem);
    CHECK(cap >= 64);
    CHECK_INT(a.cap, 0);
    CHECK_INT(a.len, 0);
    CHECK(a.data != NULL); /* still an empty buffer, usable at once */
    CHECK(buf_yield(&a, &cap) == NULL);
    CHECK_INT(cap, 0);
    buf_adopt(&b, p, 64);
    CHECK(b.data == mem);
    CHECK_INT(b.len, 0);
    CHECK_INT(b.limit, 100);
    CHECK_OK(buf_append(&b, "xyz", 3));
    CHECK(b.data == mem);
    CHECK_INT(buf_append(&b, mem, 98), O2P_ELIMIT);
    buf_free(&b);
    buf_free(&a);
}

TEST(core_buf_oom_keeps_contents)
{
    o2p_buf b;
    buf_init(&b, 0);
    CHECK_OK(buf_append(&b, "abc", 3));
    mem_fail_after(0);
    CHECK_INT(buf_append(
                  &b, "0123456789012345678901234567890123456789012345678901234567890123456789", 70),
              O2P_ENOMEM);
    mem_fail_after(-1);
    CHECK_MEM(b.data, b.len, "abc", 3);
    buf_free(&b);
}

TEST(core_arena_alignment_reset_limit)
{
    o2p_arena a;
    arena_init(&a, 1024, 4096);
    for (int i = 0; i < 50; i++) {
        void *p = arena_alloc(&a, (size_t)i + 1);
        CHECK(p != NULL);
        CHECK(((uintptr_t)p & 15) == 0);
    }
    CHECK(arena_alloc(&a, 8192) == NULL); /* over the limit */
    arena_reset(&a);
    CHECK(a.total <= 1024);
    char *s = arena_strndup(&a, "abcdef", 3);
    CHECK_STR(s, "abc");
    arena_free(&a);
}

TEST(core_mem_counts_bytes)
{
    mem_stats before, after;
    mem_get_stats(&before);
    void *p = mem_alloc(1000);
    mem_get_stats(&after);
    CHECK_UINT(after.bytes_in_use - before.bytes_in_use, 1000);
    CHECK_UINT(after.allocations - before.allocations, 1);
    p = mem_realloc(p, 3000);
    mem_get_stats(&after);
    CHECK_UINT(after.bytes_in_use - before.bytes_in_use, 3000);
    mem_free(p);
    mem_get_stats(&after);
    CHECK_UINT(after.bytes_in_use, before.bytes_in_use);
}

TEST(core_error_format_and_prefix)
{
    o2p_error e;
    o2p_error_clear(&e);
    CHECK_INT(o2p_errorf(&e, O2P_EINVAL, "expected %d hex digits", 32), O2P_EINVAL);
    o2p_error_prefix(&e, "spans[%d].traceId", 3);
    CHECK_STR(e.msg, "spans[3].traceId: expected 32 hex digits");
    CHECK_STR(o2p_strerror(O2P_ELIMIT), "limit exceeded");
}
