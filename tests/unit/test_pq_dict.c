/* Unit tests for the per-chunk hash dictionary. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/buf.h"
#include "core/mem.h"
#include "parquet/pq_dict.h"
#include "unit.h"

TEST(pq_dict_strings_keep_insertion_order)
{
    pq_dict d;
    pq_dict_init(&d, 0);
    const char *in[] = {"a", "bc", "a", "", "bc", ""};
    const uint32_t want[] = {0, 1, 0, 2, 1, 2};
    for (int i = 0; i < 6; i++) {
        uint32_t e = 99;
        CHECK_OK(pq_dict_insert(&d, in[i], strlen(in[i]), &e));
        CHECK_UINT(e, want[i]);
    }
    CHECK_UINT(d.count, 3);
    /* The dictionary page body: PLAIN byte arrays. */
    CHECK_BYTES(d.values.data, d.values.len, 1, 0, 0, 0, 'a', 2, 0, 0, 0, 'b', 'c', 0, 0, 0, 0);
    size_t len;
    const uint8_t *p = pq_dict_entry(&d, 1, &len);
    CHECK_MEM(p, len, "bc", 2);
    pq_dict_free(&d);
}

TEST(pq_dict_fixed_width_values)
{
    pq_dict d;
    pq_dict_init(&d, 8);
    /* PLAIN int64 values 5, -1, 5 */
    const uint8_t plain[24] = {5,    0,    0,    0,    0, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF,
                               0xFF, 0xFF, 0xFF, 0xFF, 5, 0, 0, 0, 0,    0,    0,    0};
    uint32_t e[3];
    CHECK_OK(pq_dict_encode(&d, plain, 3, e, 1 << 20));
    CHECK_UINT(e[0], 0);
    CHECK_UINT(e[1], 1);
    CHECK_UINT(e[2], 0);
    CHECK_MEM(d.values.data, d.values.len, plain, 16);
    uint32_t x;
    CHECK_INT(pq_dict_insert(&d, plain, 4, &x), O2P_EINVAL);
    /* Reset with a new width reuses the table. */
    pq_dict_reset(&d, 4);
    CHECK_UINT(d.count, 0);
    int32_t v = -7;
    CHECK_OK(pq_dict_insert(&d, &v, 4, &x));
    CHECK_UINT(x, 0);
    pq_dict_free(&d);
}

TEST(pq_dict_grows_and_finds_everything)
{
    pq_dict d;
    pq_dict_init(&d, 0);
    char key[32];
    for (int round = 0; round < 2; round++) {
        for (uint32_t i = 0; i < 50000; i++) {
            int n = snprintf(key, sizeof key, "key-%u", i * 7919u);
            uint32_t e;
            CHECK_OK(pq_dict_insert(&d, key, (size_t)n, &e));
            CHECK_UINT(e, i);
        }
    }
    CHECK_UINT(d.count, 50000);
    pq_dict_free(&d);
}

TEST(pq_dict_reset_after_a_large_chunk_forgets_every_entry)
{
    /* A large chunk sizes the table; the small chunks after it clear only
     * their own slots, and must still start from an empty dictionary. */
    pq_dict d;
    pq_dict_init(&d, 0);
    char key[32];
    uint32_t e;
    for (uint32_t i = 0; i < 20000; i++) {
        int n = snprintf(key, sizeof key, "big-%u", i);
        CHECK_OK(pq_dict_insert(&d, key, (size_t)n, &e));
    }
    for (int round = 0; round < 3; round++) {
        pq_dict_reset(&d, 0);
        CHECK_UINT(d.count, 0);
        for (uint32_t i = 0; i < 5; i++) {
            int n = snprintf(key, sizeof key, "big-%u", i * 3 + (uint32_t)round);
            CHECK_OK(pq_dict_insert(&d, key, (size_t)n, &e));
            CHECK_UINT(e, i); /* new: nothing of the earlier chunks is found */
        }
        CHECK_OK(pq_dict_insert(&d, "big-0", 5, &e));
        CHECK_UINT(e, round == 0 ? 0 : 5);
    }
    /* and a large chunk again, with the slots regrown in the same table */
    pq_dict_reset(&d, 0);
    for (uint32_t i = 0; i < 40000; i++) {
        int n = snprintf(key, sizeof key, "again-%u", i);
        CHECK_OK(pq_dict_insert(&d, key, (size_t)n, &e));
        CHECK_UINT(e, i);
    }
    pq_dict_reset(&d, 0);
    CHECK_OK(pq_dict_insert(&d, "again-7", 7, &e));
    CHECK_UINT(e, 0);
    pq_dict_free(&d);
}

TEST(pq_dict_byte_limit)
{
    pq_dict d;
    pq_dict_init(&d, 4);
    uint32_t plain[100], e[100];
    for (uint32_t i = 0; i < 100; i++) plain[i] = i;
    /* 10 entries are 40 bytes; the 11th passes a 40-byte limit. */
    CHECK_INT(pq_dict_encode(&d, (const uint8_t *)plain, 100, e, 40), O2P_ELIMIT);
    CHECK_UINT(d.count, 11);
    pq_dict_reset(&d, 4);
    for (uint32_t i = 0; i < 100; i++) plain[i] = i % 3;
    CHECK_OK(pq_dict_encode(&d, (const uint8_t *)plain, 100, e, 40));
    CHECK_UINT(d.count, 3);
    CHECK_UINT(e[99], 0);
    CHECK_UINT(e[98], 2);
    pq_dict_free(&d);
}

TEST(pq_dict_out_of_memory)
{
    pq_dict d;
    pq_dict_init(&d, 0);
    uint32_t e;
    mem_fail_after(0);
    int rc = pq_dict_insert(&d, "x", 1, &e);
    mem_fail_after(-1);
    CHECK_INT(rc, O2P_ENOMEM);
    CHECK_OK(pq_dict_insert(&d, "x", 1, &e));
    CHECK_UINT(e, 0);
    pq_dict_free(&d);
}

/* Encoding a chunk whose hash table outgrows the cache (where the encoder
 * hashes values ahead and prefetches their slots) gives the entry numbers
 * that inserting the values one at a time gives: mostly unique values
 * between repeated ones, as in a log attribute's value column. */
TEST(pq_dict_encode_large_mixed_chunk_matches_inserts)
{
    static const char *method[] = {"GET", "POST", "PUT", "DELETE"};
    o2p_buf plain;
    buf_init(&plain, 0);
    size_t count = 0;
    uint64_t x = 88172645463325252ull;
    for (int i = 0; i < 30000; i++) {
        char v[32];
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        const char *vals[3] = {method[x % 4], v, i % 7 == 0 ? "" : "user-1"};
        snprintf(v, sizeof v, "u-%08x", (unsigned)(x >> 36)); /* ~30,000 distinct */
        for (int k = 0; k < 3; k++) {
            uint32_t n = (uint32_t)strlen(vals[k]);
            CHECK(buf_append(&plain, &n, 4) == 0);
            CHECK(buf_append(&plain, vals[k], n) == 0);
            count++;
        }
    }
    uint32_t *got = mem_alloc(count * sizeof *got);
    CHECK(got != NULL);
    pq_dict enc, ref;
    pq_dict_init(&enc, 0);
    pq_dict_init(&ref, 0);
    CHECK_OK(pq_dict_encode(&enc, plain.data, count, got, SIZE_MAX));
    CHECK(enc.slot_mask + 1 >= 16384);
    const uint8_t *p = plain.data;
    for (size_t i = 0; i < count; i++) {
        uint32_t n, want;
        memcpy(&n, p, 4);
        CHECK_OK(pq_dict_insert(&ref, p + 4, n, &want));
        p += 4 + n;
        if (got[i] != want) CHECK_INT(got[i], want);
    }
    CHECK_INT(enc.count, ref.count);
    CHECK_MEM(enc.values.data, enc.values.len, ref.values.data, ref.values.len);
    mem_free(got);
    pq_dict_free(&enc);
    pq_dict_free(&ref);
    buf_free(&plain);
}

/* The encoder's hashes of the values ahead survive values found without a
 * hash (the successor guess) and are dropped when it falls behind them:
 * runs of 0 to 8 new values alternate with 0 to 6 values of a recurring
 * sequence, the chunk ending inside a look-ahead; every prefix of the
 * chunk gives the entry numbers of one-at-a-time inserts. */
TEST(pq_dict_encode_lookahead_across_guessed_values_matches_inserts)
{
    o2p_buf plain;
    buf_init(&plain, 0);
    size_t count = 0;
    for (unsigned b = 0; count < 40003; b++) {
        char v[32];
        for (unsigned u = 0; u < b % 9; u++) {
            int n = snprintf(v, sizeof v, "new-%u-%u", b, u);
            uint32_t n32 = (uint32_t)n;
            CHECK(buf_append(&plain, &n32, 4) == 0);
            CHECK(buf_append(&plain, v, (size_t)n) == 0);
            count++;
        }
        for (unsigned r = 0; r < b * 5 % 7; r++) {
            int n = snprintf(v, sizeof v, "key%u", r);
            uint32_t n32 = (uint32_t)n;
            CHECK(buf_append(&plain, &n32, 4) == 0);
            CHECK(buf_append(&plain, v, (size_t)n) == 0);
            count++;
        }
    }
    uint32_t *want = mem_alloc(count * sizeof *want);
    uint32_t *got = mem_alloc(count * sizeof *got);
    CHECK(want != NULL && got != NULL);
    pq_dict ref;
    pq_dict_init(&ref, 0);
    const uint8_t *p = plain.data;
    for (size_t i = 0; i < count; i++) {
        uint32_t n;
        memcpy(&n, p, 4);
        CHECK_OK(pq_dict_insert(&ref, p + 4, n, &want[i]));
        p += 4 + n;
    }
    pq_dict enc;
    pq_dict_init(&enc, 0);
    for (size_t len = count - 3; len <= count; len++) {
        pq_dict_reset(&enc, 0);
        CHECK_OK(pq_dict_encode(&enc, plain.data, len, got, SIZE_MAX));
        CHECK(enc.slot_mask + 1 >= 16384);
        for (size_t i = 0; i < len; i++)
            if (got[i] != want[i]) CHECK_INT(got[i], want[i]);
    }
    CHECK_INT(enc.count, ref.count);
    CHECK_MEM(enc.values.data, enc.values.len, ref.values.data, ref.values.len);
    mem_free(want);
    mem_free(got);
    pq_dict_free(&enc);
    pq_dict_free(&ref);
    buf_free(&plain);
}

TEST(pq_dict_values_differing_in_any_one_byte_are_different_entries)
{
    /* every length from 1 to 24 bytes, each byte position changed once: the
     * hash reads the tail of a value without copying it, and every byte
     * must still count (values live at the end of a buffer, too) */
    pq_dict d;
    pq_dict_init(&d, 0);
    uint32_t next = 0;
    for (size_t len = 1; len <= 24; len++) {
        uint8_t *v = mem_alloc(len); /* exactly len bytes: reading past them is an error */
        CHECK(v != NULL);
        memset(v, 'a', len);
        uint32_t e, again;
        CHECK_OK(pq_dict_insert(&d, v, len, &e));
        CHECK_UINT(e, next++);
        for (size_t at = 0; at < len; at++) {
            v[at] = 'b';
            CHECK_OK(pq_dict_insert(&d, v, len, &e));
            CHECK_UINT(e, next++);
            CHECK_OK(pq_dict_insert(&d, v, len, &again));
            CHECK_UINT(again, e);
            v[at] = 'a';
        }
        mem_free(v);
    }
    pq_dict_free(&d);
}
