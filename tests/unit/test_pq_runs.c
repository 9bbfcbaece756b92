/*
 * Unit tests for pq_runs: a run-mode column chunk encoded from its runs
 * gives the dictionary, the entry numbers and the file bytes of the same
 * rows stored one by one — sorted or not, with the dictionary's sample
 * boundary inside a stored row, with a dictionary that does not pay (PLAIN)
 * or that passes the size limit, with bloom filters.
 */
#include <stdio.h>
#include <string.h>

#include "core/buf.h"
#include "core/mem.h"
#include "parquet/pq_column.h"
#include "parquet/pq_dict.h"
#include "parquet/pq_runs.h"
#include "parquet/pq_schema.h"
#include "parquet/pq_writer.h"
#include "unit.h"

/* t: the sort key; s: a shared string; l: a shared list of strings (levels,
 * empty and null lists); n: a per-row number. */
static pq_schema *runs_schema(void)
{
    o2p_error err;
    pq_schema *s;
    if (pq_schema_create(&s, "schema", &err) < 0) return NULL;
    pq_schema_add_leaf(s, 0, "t", PQ_REQUIRED, PQ_INT64, PQ_LOGICAL_TIMESTAMP_NANOS, 0);
    pq_schema_add_leaf(s, 0, "s", PQ_REQUIRED, PQ_BYTE_ARRAY, PQ_LOGICAL_STRING, 0);
    pq_schema_add_list_leaf(s, 0, "l", PQ_OPTIONAL, PQ_REQUIRED, PQ_BYTE_ARRAY, PQ_LOGICAL_STRING);
    pq_schema_add_leaf(s, 0, "n", PQ_REQUIRED, PQ_INT64, PQ_LOGICAL_NONE, 0);
    if (pq_schema_finish(s, &err) < 0) return NULL;
    return s;
}

static uint64_t next_rand(uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

/* The shared values of resource r: `distinct` sets how many different
 * strings the resources use (few: a dictionary pays; many: it does not). */
static void put_resource(pq_column *c, unsigned r, unsigned distinct)
{
    char v[48];
    int n = snprintf(v, sizeof v, "service-%u", r % distinct);
    pq_col_put_bytes(&c[0], v, (size_t)n, 0, 0);
    unsigned items = r % 14; /* 0: null list, 1: empty list, else items - 1 strings */
    if (items == 0) {
        pq_col_put_null(&c[1], 0, 0);
    } else if (items == 1) {
        pq_col_put_null(&c[1], 1, 0);
    } else {
        for (unsigned i = 0; i + 1 < items; i++) {
            n = snprintf(v, sizeof v, "attr-%u-value-%u", i, (r * 7 + i) % distinct);
            pq_col_put_bytes(&c[1], v, (size_t)n, 2, i ? 1 : 0);
        }
    }
}

/* rows rows in runs of 1..max_run rows of a random resource among
 * resources; with runs, s and l are in run mode. */
static void fill(pq_colset *cs, int runs, size_t rows, unsigned resources, unsigned max_run,
                 unsigned distinct)
{
    uint64_t x = 88172645463325252ull;
    uint64_t ident = 0;
    size_t left = 0;
    unsigned r = 0;
    for (size_t row = 0; row < rows; row++) {
        if (left == 0) {
            r = (unsigned)(next_rand(&x) % resources);
            left = 1 + next_rand(&x) % max_run;
            ident++;
        }
        left--;
        /* mostly ascending times, some out of order: a real permutation */
        int64_t t = (int64_t)(row * 10) - (int64_t)(next_rand(&x) % 50);
        pq_col_put_i64(&cs->cols[0], t, 0, 0);
        int put1 = runs ? pq_col_run_row(&cs->cols[1], ident) : 1;
        int put2 = runs ? pq_col_run_row(&cs->cols[2], ident) : 1;
        if (put1 && put2) put_resource(&cs->cols[1], r, distinct);
        pq_col_put_i64(&cs->cols[3], (int64_t)row, 0, 0);
        cs->num_rows++;
    }
}

static void write_file(const pq_colset *cs, int sorted, size_t row_group_rows,
                       size_t dictionary_limit, o2p_buf *out)
{
    o2p_error err;
    pq_writer_options o;
    pq_writer_options_default(&o);
    o.created_by = "test";
    o.row_group_rows = row_group_rows;
    o.sorted_row_group_rows = row_group_rows;
    o.row_group_span_secs = 0;
    o.sort_leaf = sorted ? 0 : -1;
    o.page_rows = 700; /* several pages per chunk */
    o.dictionary_limit = dictionary_limit;
    o.bloom_columns = "s,l.list.element";
    pq_writer *w;
    buf_reset(out);
    CHECK_OK(pq_writer_open(&w, cs->schema, &o, pq_sink_buf(out), &err));
    CHECK_OK(pq_writer_write(w, cs, &err));
    CHECK_OK(pq_writer_close(w, &err));
    pq_writer_destroy(w);
}

static void check_same_files(size_t rows, unsigned resources, unsigned max_run, unsigned distinct,
                             size_t dictionary_limit)
{
    pq_schema *s = runs_schema();
    CHECK(s != NULL);
    pq_colset plain, runs;
    CHECK_OK(pq_colset_init(&plain, s));
    CHECK_OK(pq_colset_init(&runs, s));
    fill(&plain, 0, rows, resources, max_run, distinct);
    fill(&runs, 1, rows, resources, max_run, distinct);
    CHECK(pq_col_is_run(&runs.cols[1]) && pq_col_is_run(&runs.cols[2]));
    CHECK(runs.cols[2].num_values <= plain.cols[2].num_values);
    o2p_buf a, b;
    buf_init(&a, 0);
    buf_init(&b, 0);
    for (int sorted = 0; sorted <= 1; sorted++) {
        for (size_t rg = rows / 3; rg <= rows; rg += rows / 3) {
            write_file(&plain, sorted, rg, dictionary_limit, &a);
            write_file(&runs, sorted, rg, dictionary_limit, &b);
            CHECK_MEM(b.data, b.len, a.data, a.len);
        }
    }
    buf_free(&a);
    buf_free(&b);
    pq_colset_free(&plain);
    pq_colset_free(&runs);
    pq_schema_destroy(s);
}

TEST(pq_runs_chunks_write_the_same_file_as_expanded_rows)
{
    /* few distinct values: dictionaries; > 4,096 list values per chunk, so
     * the dictionary's sample ends inside some stored row */
    check_same_files(9000, 40, 300, 9, 1u << 20);
    /* runs of one row (the sort breaks nothing) */
    check_same_files(3000, 40, 1, 9, 1u << 20);
}

TEST(pq_runs_chunks_without_a_dictionary_write_the_same_file)
{
    /* every resource's strings differ and most rows are their own run: the
     * dictionary does not pay and the chunk is written PLAIN */
    check_same_files(9000, 9000, 2, 1000000, 1u << 20);
    /* a dictionary past its size limit */
    check_same_files(9000, 40, 300, 9, 200);
}

/* The expanded values of chunk rows [row0, row0 + n) of a run-mode column,
 * with pq_col_expand_rows. */
static void expand(const pq_column *src, size_t row0, size_t n, pq_column *out)
{
    pq_col_reset(out);
    out->leaf = src->leaf;
    CHECK_OK(pq_col_expand_rows(out, src, row0, n));
}

TEST(pq_runs_dict_encode_matches_the_expanded_values_at_every_split)
{
    pq_schema *s = runs_schema();
    CHECK(s != NULL);
    pq_colset runs;
    CHECK_OK(pq_colset_init(&runs, s));
    fill(&runs, 1, 400, 30, 9, 7);
    const pq_column *src = &runs.cols[2];
    pq_column plain;
    pq_col_init(&plain, src->leaf);
    pq_runs rs;
    pq_runs_init(&rs);
    pq_dict want, got;
    pq_dict_init(&want, 0);
    pq_dict_init(&got, 0);
    size_t row0 = 37, n = 300;
    expand(src, row0, n, &plain);
    CHECK_OK(pq_runs_build(&rs, src, runs.num_rows, NULL, row0, n));
    CHECK_INT(rs.values, plain.num_values);
    CHECK_INT(pq_runs_bytes(&rs, src, rs.values), plain.values.len);
    uint32_t *we = mem_alloc(plain.num_values * sizeof *we);
    uint32_t *ge = mem_alloc(plain.num_values * sizeof *ge);
    CHECK(we != NULL && ge != NULL);
    pq_dict_reset(&want, 0);
    CHECK_OK(pq_dict_encode(&want, plain.values.data, plain.num_values, we, SIZE_MAX));
    for (size_t split = 0; split <= plain.num_values; split += 13) {
        CHECK_OK(pq_runs_build(&rs, src, runs.num_rows, NULL, row0, n));
        pq_dict_reset(&got, 0);
        memset(ge, 0xff, plain.num_values * sizeof *ge);
        CHECK_OK(pq_runs_dict_encode(&rs, src, &got, 0, split, ge, SIZE_MAX));
        CHECK_OK(pq_runs_dict_encode(&rs, src, &got, split, plain.num_values, ge, SIZE_MAX));
        CHECK_MEM(got.values.data, got.values.len, want.values.data, want.values.len);
        CHECK_MEM(ge, plain.num_values * sizeof *ge, we, plain.num_values * sizeof *we);
    }
    /* the first values' bytes, for the dictionary's sample */
    size_t off = 0;
    for (size_t i = 0; i < 50; i++) {
        uint32_t len;
        memcpy(&len, plain.values.data + off, 4);
        off += 4 + (size_t)len;
    }
    CHECK_INT(pq_runs_bytes(&rs, src, 50), off);
    mem_free(we);
    mem_free(ge);
    pq_dict_free(&want);
    pq_dict_free(&got);
    pq_runs_free(&rs);
    pq_col_free(&plain);
    pq_colset_free(&runs);
    pq_schema_destroy(s);
}

TEST(pq_runs_build_rejects_rows_out_of_range_and_bad_framing)
{
    pq_schema *s = runs_schema();
    CHECK(s != NULL);
    pq_colset runs;
    CHECK_OK(pq_colset_init(&runs, s));
    fill(&runs, 1, 100, 10, 5, 7);
    pq_runs rs;
    pq_runs_init(&rs);
    uint32_t perm[3] = {0, 99, 100};
    CHECK_INT(pq_runs_build(&rs, &runs.cols[1], runs.num_rows, perm, 0, 3), O2P_EINVAL);
    CHECK_OK(pq_runs_build(&rs, &runs.cols[1], runs.num_rows, perm, 0, 2));
    CHECK_INT(pq_runs_build(&rs, &runs.cols[1], runs.num_rows, NULL, 90, 11), O2P_EINVAL);
    /* a length prefix past the end of the values */
    uint32_t huge = 1u << 30;
    memcpy(runs.cols[1].values.data, &huge, 4);
    CHECK_INT(pq_runs_build(&rs, &runs.cols[1], runs.num_rows, NULL, 0, 10), O2P_EINVAL);
    pq_runs_free(&rs);
    pq_colset_free(&runs);
    pq_schema_destroy(s);
}
