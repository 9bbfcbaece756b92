/*
 * Unit tests for pq_sort: the row permutation by a timestamp column and the
 * gathering of column rows in that order, for flat, optional, nested
 * (repeated, with rep/def levels) and run-mode columns.
 */
#include <string.h>

#include "core/mem.h"
#include "parquet/pq_column.h"
#include "parquet/pq_schema.h"
#include "parquet/pq_sort.h"
#include "unit.h"

/* ts INT64 required, opt INT64 optional, tags LIST<STRING> (optional elements), svc STRING */
static pq_schema *sort_schema(void)
{
    pq_schema *s;
    o2p_error err;
    CHECK_OK(pq_schema_create(&s, "schema", &err));
    CHECK(pq_schema_add_leaf(s, 0, "ts", PQ_REQUIRED, PQ_INT64, PQ_LOGICAL_NONE, 0) > 0);
    CHECK(pq_schema_add_leaf(s, 0, "opt", PQ_OPTIONAL, PQ_INT64, PQ_LOGICAL_NONE, 0) > 0);
    CHECK(pq_schema_add_list_leaf(s, 0, "tags", PQ_REQUIRED, PQ_OPTIONAL, PQ_BYTE_ARRAY,
                                  PQ_LOGICAL_STRING) > 0);
    CHECK(pq_schema_add_leaf(s, 0, "svc", PQ_REQUIRED, PQ_BYTE_ARRAY, PQ_LOGICAL_STRING, 0) > 0);
    CHECK_OK(pq_schema_finish(s, &err));
    return s;
}

static int64_t i64_at(const pq_column *c, size_t k)
{
    int64_t v;
    memcpy(&v, c->values.data + 8 * k, 8);
    return v;
}

TEST(pq_sort_perm_is_stable_with_nulls_first)
{
    pq_schema *s = sort_schema();
    pq_colset cs;
    CHECK_OK(pq_colset_init(&cs, s));
    /* opt: 30, null, 10, 30, null, 20 */
    const int64_t vals[6] = {30, 0, 10, 30, 0, 20};
    for (int i = 0; i < 6; i++) {
        if (i == 1 || i == 4)
            pq_col_put_null(&cs.cols[1], 0, 0);
        else
            pq_col_put_i64(&cs.cols[1], vals[i], 1, 0);
    }
    pq_row_index ix;
    pq_row_index_init(&ix);
    uint32_t *perm;
    o2p_error err;
    CHECK_OK(pq_sort_perm(&cs.cols[1], 6, &ix, &perm, &err));
    CHECK(perm != NULL);
    const uint32_t want[6] = {1, 4, 2, 5, 0, 3};
    for (int i = 0; i < 6; i++) CHECK_INT(perm[i], want[i]);
    mem_free(perm);

    /* already ordered (equal keys included): no permutation */
    for (int i = 0; i < 5; i++) pq_col_put_i64(&cs.cols[0], i / 2, 0, 0);
    CHECK_OK(pq_sort_perm(&cs.cols[0], 5, &ix, &perm, &err));
    CHECK(perm == NULL);

    /* a string column cannot order rows: a clear error naming it */
    CHECK_INT(pq_sort_perm(&cs.cols[3], 0, &ix, &perm, &err), O2P_EINVAL);
    CHECK(strstr(err.msg, "svc") != NULL);
    /* the row count must match */
    CHECK_INT(pq_sort_perm(&cs.cols[0], 7, &ix, &perm, &err), O2P_EINVAL);
    CHECK(strstr(err.msg, "ts") != NULL);
    pq_row_index_free(&ix);
    pq_colset_free(&cs);
    pq_schema_destroy(s);
}

/* The row index keeps the sort's scratch between sorts: a large sort, a
 * smaller one, then a larger one still, with nulls between and after present
 * keys, each against an insertion sort of (null first, key, arrival). */
TEST(pq_sort_perm_reuses_its_scratch_across_sizes)
{
    pq_schema *s = sort_schema();
    pq_row_index ix;
    pq_row_index_init(&ix);
    const size_t sizes[3] = {3000, 17, 5000};
    uint64_t seed = 12345;
    for (int round = 0; round < 3; round++) {
        size_t n = sizes[round];
        pq_colset cs;
        CHECK_OK(pq_colset_init(&cs, s));
        int64_t *key = mem_alloc(n * sizeof *key);
        int *null = mem_alloc(n * sizeof *null);
        uint32_t *want = mem_alloc(n * sizeof *want);
        for (size_t i = 0; i < n; i++) {
            seed = seed * 6364136223846793005ull + 1442695040888963407ull;
            null[i] = (seed >> 60) == 0;                /* 1 in 16 */
            key[i] = (int64_t)((seed >> 33) % 97) - 40; /* negative keys and many equal */
            if (null[i])
                pq_col_put_null(&cs.cols[1], 0, 0);
            else
                pq_col_put_i64(&cs.cols[1], key[i], 1, 0);
        }
        for (size_t i = 0; i < n; i++) { /* stable insertion sort of the reference */
            size_t j = i;
            while (j > 0) {
                uint32_t a = want[j - 1];
                int after = null[a] ? 0 : null[i] ? 1 : key[a] > key[i];
                if (!after) break;
                want[j] = a;
                j--;
            }
            want[j] = (uint32_t)i;
        }
        uint32_t *perm;
        o2p_error err;
        CHECK_OK(pq_sort_perm(&cs.cols[1], n, &ix, &perm, &err));
        CHECK(perm != NULL);
        for (size_t i = 0; i < n; i++) CHECK_UINT(perm[i], want[i]);
        mem_free(perm);
        mem_free(key);
        mem_free(null);
        mem_free(want);
        pq_colset_free(&cs);
    }
    /* present keys in order, then a null: the null still goes first */
    pq_colset cs;
    CHECK_OK(pq_colset_init(&cs, s));
    pq_col_put_i64(&cs.cols[1], 1, 1, 0);
    pq_col_put_i64(&cs.cols[1], 2, 1, 0);
    pq_col_put_null(&cs.cols[1], 0, 0);
    uint32_t *perm;
    o2p_error err;
    CHECK_OK(pq_sort_perm(&cs.cols[1], 3, &ix, &perm, &err));
    CHECK(perm != NULL);
    CHECK_UINT(perm[0], 2);
    CHECK_UINT(perm[1], 0);
    CHECK_UINT(perm[2], 1);
    mem_free(perm);
    pq_colset_free(&cs);
    pq_row_index_free(&ix);
    pq_schema_destroy(s);
}

TEST(pq_sort_gathers_nested_and_run_columns)
{
    pq_schema *s = sort_schema();
    pq_colset cs;
    CHECK_OK(pq_colset_init(&cs, s));
    /* row r: ts = {5,3,9,1}[r]; tags row 0 = [a, null], row 1 = [], row 2 = [b],
     * row 3 = [c, d, e]; svc in run mode: rows 0-2 "x", row 3 "yy" */
    const int64_t ts[4] = {5, 3, 9, 1};
    for (int r = 0; r < 4; r++) pq_col_put_i64(&cs.cols[0], ts[r], 0, 0);
    pq_column *tags = &cs.cols[2];
    pq_col_put_bytes(tags, "a", 1, 2, 0);
    pq_col_put_null(tags, 1, 1);
    pq_col_put_null(tags, 0, 0);
    pq_col_put_bytes(tags, "b", 1, 2, 0);
    pq_col_put_bytes(tags, "c", 1, 2, 0);
    pq_col_put_bytes(tags, "d", 1, 2, 1);
    pq_col_put_bytes(tags, "e", 1, 2, 1);
    pq_column *svc = &cs.cols[3];
    for (int r = 0; r < 4; r++) {
        if (pq_col_run_row(svc, r < 3 ? 7 : 8)) {
            if (r < 3)
                pq_col_put_bytes(svc, "x", 1, 0, 0);
            else
                pq_col_put_bytes(svc, "yy", 2, 0, 0);
        }
    }
    CHECK(pq_col_is_run(svc));
    pq_row_index ix;
    pq_row_index_init(&ix);
    uint32_t *perm;
    o2p_error err;
    CHECK_OK(pq_sort_perm(&cs.cols[0], 4, &ix, &perm, &err));
    CHECK(perm != NULL);
    const uint32_t want[4] = {3, 1, 0, 2};
    for (int i = 0; i < 4; i++) CHECK_INT(perm[i], want[i]);

    pq_column out;
    pq_col_init(&out, cs.cols[0].leaf);
    CHECK_OK(pq_col_gather(&out, &cs.cols[0], 4, perm, 4, &ix));
    CHECK_INT(out.num_values, 4);
    for (int i = 0; i < 4; i++) CHECK_INT(i64_at(&out, (size_t)i), ts[want[i]]);

    /* the nested column keeps each row's levels: [c,d,e], [], [a,null], [b] */
    pq_col_reset(&out);
    out.leaf = tags->leaf;
    CHECK_OK(pq_col_gather(&out, tags, 4, perm, 4, &ix));
    const uint8_t want_def[7] = {2, 2, 2, 0, 2, 1, 2}, want_rep[7] = {0, 1, 1, 0, 0, 1, 0};
    CHECK_INT(out.num_entries, 7);
    CHECK_INT(out.num_values, 5);
    CHECK_MEM(out.def.data, out.def.len, want_def, 7);
    CHECK_MEM(out.rep.data, out.rep.len, want_rep, 7);
    static const uint8_t want_vals[] = {1, 0,   0, 0, 'c', 1, 0,   0, 0, 'd', 1, 0,  0,
                                        0, 'e', 1, 0, 0,   0, 'a', 1, 0, 0,   0, 'b'};
    CHECK_MEM(out.values.data, out.values.len, want_vals, sizeof want_vals);

    /* a part of the permutation (the second of two row groups) */
    pq_col_reset(&out);
    CHECK_OK(pq_col_gather(&out, tags, 4, perm + 2, 2, &ix));
    CHECK_INT(out.num_entries, 3);
    CHECK_MEM(out.def.data, out.def.len, want_def + 4, 3);

    /* the run-mode column comes out as plain entries: yy, x, x, x */
    pq_col_reset(&out);
    out.leaf = svc->leaf;
    CHECK_OK(pq_col_gather(&out, svc, 4, perm, 4, &ix));
    CHECK(!pq_col_is_run(&out));
    static const uint8_t want_svc[] = {2, 0, 0, 0, 'y', 'y', 1, 0, 0, 0,  'x',
                                       1, 0, 0, 0, 'x', 1,   0, 0, 0, 'x'};
    CHECK_INT(out.num_entries, 4);
    CHECK_MEM(out.values.data, out.values.len, want_svc, sizeof want_svc);

    /* a permutation naming a row the column does not have is refused */
    const uint32_t bad[1] = {4};
    pq_col_reset(&out);
    CHECK_INT(pq_col_gather(&out, svc, 4, bad, 1, &ix), O2P_EINVAL);

    pq_col_free(&out);
    mem_free(perm);
    pq_row_index_free(&ix);
    pq_colset_free(&cs);
    pq_schema_destroy(s);
}

TEST(pq_sort_time_cut_ends_row_groups_at_span_boundaries)
{
    pq_schema *s = sort_schema();
    pq_colset cs;
    CHECK_OK(pq_colset_init(&cs, s));
    /* sorted keys, span 10: spans [-10,0) [0,10) [10,20) [30,40) */
    const int64_t keys[] = {-5, -1, 0, 3, 9, 10, 10, 19, 30, 31};
    const size_t n = sizeof keys / sizeof keys[0];
    for (size_t i = 0; i < n; i++) pq_col_put_i64(&cs.cols[0], keys[i], 0, 0);
    const pq_column *ts = &cs.cols[0];
    /* first row group: ends where the key leaves [-10, 0) (negative keys round down) */
    CHECK_INT(pq_sort_time_cut(ts, NULL, 0, 1, n, 10), 2);
    /* from row 2: [0, 10) holds rows 2..4 */
    CHECK_INT(pq_sort_time_cut(ts, NULL, 2, 3, n, 10), 5);
    /* at least 4 rows: the boundary after row 4 is too early, the next one is taken */
    CHECK_INT(pq_sort_time_cut(ts, NULL, 2, 6, n, 10), 8);
    /* no boundary before max_end: max_end */
    CHECK_INT(pq_sort_time_cut(ts, NULL, 5, 6, 8, 10), 8);
    CHECK_INT(pq_sort_time_cut(ts, NULL, 8, 9, n, 10), n);
    /* off, or nothing to choose: max_end */
    CHECK_INT(pq_sort_time_cut(ts, NULL, 0, 1, n, 0), n);
    CHECK_INT(pq_sort_time_cut(ts, NULL, 0, 0, n, 10), n);
    CHECK_INT(pq_sort_time_cut(ts, NULL, 0, n, n, 10), n);
    /* through a permutation: rows stored in reverse */
    pq_colset rev;
    CHECK_OK(pq_colset_init(&rev, s));
    uint32_t perm[sizeof keys / sizeof keys[0]];
    for (size_t i = 0; i < n; i++) {
        pq_col_put_i64(&rev.cols[0], keys[n - 1 - i], 0, 0);
        perm[i] = (uint32_t)(n - 1 - i);
    }
    CHECK_INT(pq_sort_time_cut(&rev.cols[0], perm, 2, 3, n, 10), 5);
    CHECK_INT(pq_sort_time_cut(&rev.cols[0], perm, 5, 6, n, 10), 8);
    /* a nullable key cannot be looked up by position: max_end */
    for (size_t i = 0; i < n; i++) pq_col_put_i64(&cs.cols[1], keys[i], 1, 0);
    CHECK_INT(pq_sort_time_cut(&cs.cols[1], NULL, 0, 1, n, 10), n);
    /* keys near the end of the range do not overflow the next span's start */
    pq_colset big;
    CHECK_OK(pq_colset_init(&big, s));
    pq_col_put_i64(&big.cols[0], INT64_MAX - 5, 0, 0);
    pq_col_put_i64(&big.cols[0], INT64_MAX, 0, 0);
    CHECK_INT(pq_sort_time_cut(&big.cols[0], NULL, 0, 1, 2, 1000), 2);
    pq_colset_free(&big);
    pq_colset_free(&rev);
    pq_colset_free(&cs);
    pq_schema_destroy(s);
}
