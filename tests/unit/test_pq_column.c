/*
 * Unit tests for pq_column's run mode: rows that share values (a
 * resource's) are stored once with a count, and everything downstream —
 * checks, appends, row-group splitting, the written file — behaves exactly
 * as if every row had been stored.
 */
#include <string.h>

#include "core/buf.h"
#include "parquet/pq_column.h"
#include "parquet/pq_schema.h"
#include "parquet/pq_writer.h"
#include "unit.h"

static pq_schema *run_schema(void)
{
    o2p_error err;
    pq_schema *s;
    if (pq_schema_create(&s, "schema", &err) < 0) return NULL;
    pq_schema_add_leaf(s, 0, "s", PQ_REQUIRED, PQ_BYTE_ARRAY, PQ_LOGICAL_STRING, 0);
    pq_schema_add_list_leaf(s, 0, "l", PQ_OPTIONAL, PQ_REQUIRED, PQ_INT32, PQ_LOGICAL_NONE);
    pq_schema_add_leaf(s, 0, "n", PQ_REQUIRED, PQ_INT64, PQ_LOGICAL_NONE, 0);
    if (pq_schema_finish(s, &err) < 0) return NULL;
    return s;
}

/* Row values: a string and a list that follow the run identity, and a
 * per-row number. */
static void put_shared(pq_column *c, int ident)
{
    if (ident == 1) {
        pq_col_put_bytes(&c[0], "x", 1, 0, 0);
        pq_col_put_i32(&c[1], 1, 2, 0);
        pq_col_put_i32(&c[1], 2, 2, 1);
    } else {
        pq_col_put_bytes(&c[0], "yy", 2, 0, 0);
        pq_col_put_null(&c[1], 0, 0);
    }
}

static const int idents[] = {1, 1, 1, 2, 2, 1, 1};
#define NROWS (sizeof idents / sizeof idents[0])

static void fill(pq_colset *cs, int runs)
{
    for (size_t r = 0; r < NROWS; r++) {
        uint64_t ident = (uint64_t)idents[r] + (r >= 5 ? 10 : 0); /* the last run is a new one */
        int put0 = runs ? pq_col_run_row(&cs->cols[0], ident) : 1;
        int put1 = runs ? pq_col_run_row(&cs->cols[1], ident) : 1;
        if (put0 && put1) put_shared(cs->cols, idents[r]);
        pq_col_put_i64(&cs->cols[2], (int64_t)r, 0, 0);
        cs->num_rows++;
    }
}

static void write_file(const pq_colset *cs, size_t row_group_rows, o2p_buf *out)
{
    o2p_error err;
    pq_writer_options o;
    pq_writer_options_default(&o);
    o.created_by = "test";
    o.row_group_rows = row_group_rows;
    pq_writer *w;
    buf_reset(out);
    CHECK_OK(pq_writer_open(&w, cs->schema, &o, pq_sink_buf(out), &err));
    CHECK_OK(pq_writer_write(w, cs, &err));
    CHECK_OK(pq_writer_close(w, &err));
    pq_writer_destroy(w);
}

TEST(pq_column_runs_store_shared_rows_once_and_write_the_same_file)
{
    pq_schema *s = run_schema();
    CHECK(s != NULL);
    pq_colset plain, runs;
    CHECK_OK(pq_colset_init(&plain, s));
    CHECK_OK(pq_colset_init(&runs, s));
    fill(&plain, 0);
    fill(&runs, 1);
    o2p_error err;
    CHECK_OK(pq_colset_check(&runs, &err));
    CHECK(pq_col_is_run(&runs.cols[0]));
    CHECK(!pq_col_is_run(&runs.cols[2]));
    CHECK_INT(runs.cols[0].num_entries, 3); /* three runs: x, yy, x */
    CHECK_INT(runs.cols[1].num_entries, 5); /* [1,2], null, [1,2] */

    /* rows [2, 5) expand to x, yy, yy */
    pq_column part;
    pq_col_init(&part, runs.cols[0].leaf);
    CHECK_OK(pq_col_expand_rows(&part, &runs.cols[0], 2, 3));
    CHECK_INT(part.num_values, 3);
    CHECK_MEM(part.values.data, part.values.len, "\1\0\0\0x\2\0\0\0yy\2\0\0\0yy", 17);
    pq_col_free(&part);

    /* the file is the same, in one row group or split inside runs */
    o2p_buf a, b;
    buf_init(&a, 0);
    buf_init(&b, 0);
    for (size_t rg = 1; rg <= NROWS; rg += 3) {
        write_file(&plain, rg, &a);
        write_file(&runs, rg, &b);
        CHECK_MEM(b.data, b.len, a.data, a.len);
    }

    /* appending keeps the runs; a wrong count is named */
    pq_colset both;
    CHECK_OK(pq_colset_init(&both, s));
    CHECK_OK(pq_colset_append(&both, &runs));
    CHECK_OK(pq_colset_append(&both, &runs));
    CHECK_INT(both.num_rows, 2 * NROWS);
    CHECK_OK(pq_colset_check(&both, &err));
    both.num_rows++;
    CHECK_INT(pq_colset_check(&both, &err), O2P_EINVAL);
    CHECK(strstr(err.msg, "column s has 14 rows, expected 15") != NULL);

    /* a plain column cannot join a run-mode one */
    CHECK_INT(pq_colset_append(&both, &plain), O2P_EINVAL);

    buf_free(&a);
    buf_free(&b);
    pq_colset_free(&both);
    pq_colset_free(&plain);
    pq_colset_free(&runs);
    pq_schema_destroy(s);
}
