/* Unit tests for src/batch/batch_pool: several threads encode groups, the
 * files come back in group order, byte for byte what one thread makes, and
 * failures stop the run at the failing group. */
#include <stdio.h>
#include <string.h>

#include "batch/batch_pool.h"
#include "core/mem.h"
#include "log_rows.h"
#include "table/tbl_attrs.h"
#include "unit.h"

#define T0_NS       (1767225600ULL * 1000000000ULL) /* 2026-01-01T00:00:00Z */
#define POOL_GROUPS 9

/* Appends n log rows for service (bodies differ per service and row). */
static void add_logs(tbl_batch *rows, const char *service, int n)
{
    tbl_attrs empty;
    tbl_attrs_init(&empty, 0);
    tbl_attrs_finish(&empty);
    for (int i = 0; i < n; i++) {
        uint64_t ts_ns = T0_NS + (uint64_t)(n - i) * 1000000ULL; /* sorting has work to do */
        char body[64];
        int len = snprintf(body, sizeof body, "%s says %d", service, i % 17);
        CHECK_OK(log_row_add(rows, &empty, service, ts_ns, body, (size_t)len));
    }
    tbl_attrs_free(&empty);
}

typedef struct {
    tbl_schemas schemas;
    tbl_batch rows;
    const tbl_group *groups[POOL_GROUPS];
    o2p_buf want[POOL_GROUPS]; /* each group encoded alone, one thread */
} pool_fixture;

/* POOL_GROUPS groups of different sizes, and their files from one thread. */
static void fixture_init(pool_fixture *f)
{
    o2p_error err;
    CHECK_OK(tbl_schemas_init(&f->schemas, TBL_TS_MICROS, &err));
    tbl_batch_init(&f->rows, &f->schemas);
    for (int i = 0; i < POOL_GROUPS; i++) {
        char svc[32];
        snprintf(svc, sizeof svc, "svc-%d", i);
        add_logs(&f->rows, svc, 1 + (i * 977) % 3000);
    }
    size_t n = 0;
    for (size_t i = 0; i < f->rows.cap; i++)
        if (f->rows.groups[i].in_use) f->groups[n++] = &f->rows.groups[i];
    CHECK_UINT(n, POOL_GROUPS);
    pq_writer_options o;
    pq_writer_options_default(&o);
    for (int i = 0; i < POOL_GROUPS; i++) {
        char key[BATCH_POOL_KEY_MAX] = "";
        buf_init(&f->want[i], 0);
        CHECK_OK(batch_encode_group(f->groups[i], &o, &f->want[i], key, sizeof key, &err));
    }
}

static void fixture_free(pool_fixture *f)
{
    for (int i = 0; i < POOL_GROUPS; i++) buf_free(&f->want[i]);
    tbl_batch_free(&f->rows);
    tbl_schemas_free(&f->schemas);
}

typedef struct {
    pool_fixture *f;
    size_t calls;
    size_t fail_at; /* done fails for this index; SIZE_MAX: never */
} done_ctx;

static int check_done(void *ctx, size_t i, const o2p_buf *file, const char *key, o2p_error *err)
{
    done_ctx *d = ctx;
    CHECK_UINT(i, d->calls); /* in order, each once */
    d->calls++;
    CHECK_MSG(strncmp(key, "logs/svc-", 9) == 0, "key %s", key);
    CHECK_MEM(file->data, file->len, d->f->want[i].data, d->f->want[i].len);
    if (i == d->fail_at) return o2p_errorf(err, O2P_EIO, "storage said no to %zu", i);
    return O2P_OK;
}

TEST(batch_pool_files_in_order_and_same_bytes_for_any_thread_count)
{
    pool_fixture f;
    fixture_init(&f);
    pq_writer_options o;
    pq_writer_options_default(&o);
    const int counts[] = {1, 2, 3, 8};
    for (size_t k = 0; k < sizeof counts / sizeof counts[0]; k++) {
        batch_pool *p = NULL;
        o2p_error err;
        CHECK_OK(batch_pool_create(&p, counts[k], &o, &err));
        CHECK_INT(batch_pool_threads(p), counts[k]);
        for (int round = 0; round < 2; round++) { /* a pool is reused across calls */
            done_ctx d = {&f, 0, SIZE_MAX};
            CHECK_OK(batch_pool_encode(p, f.groups, POOL_GROUPS, check_done, &d, &err));
            CHECK_UINT(d.calls, POOL_GROUPS);
        }
        batch_pool_destroy(p);
    }
    fixture_free(&f);
}

/* check_done for a slice of the groups: index i is groups[offset + i]. */
typedef struct {
    done_ctx d;
    size_t offset;
} offset_ctx;

static int check_done_offset(void *ctx, size_t i, const o2p_buf *file, const char *key,
                             o2p_error *err)
{
    offset_ctx *o = ctx;
    CHECK_UINT(i, o->d.calls);
    o->d.calls++;
    (void)key;
    (void)err;
    CHECK_MEM(file->data, file->len, o->d.f->want[i + o->offset].data,
              o->d.f->want[i + o->offset].len);
    return O2P_OK;
}

TEST(batch_pool_slice_of_groups)
{
    pool_fixture f;
    fixture_init(&f);
    pq_writer_options o;
    pq_writer_options_default(&o);
    batch_pool *p = NULL;
    o2p_error err;
    CHECK_OK(batch_pool_create(&p, 2, &o, &err));
    offset_ctx oc = {{&f, 0, SIZE_MAX}, 4};
    CHECK_OK(batch_pool_encode(p, f.groups + 4, 3, check_done_offset, &oc, &err));
    CHECK_UINT(oc.d.calls, 3);
    CHECK_OK(batch_pool_encode(p, f.groups, 0, check_done_offset, &oc, &err));
    CHECK_UINT(oc.d.calls, 3);
    batch_pool_destroy(p);
    fixture_free(&f);
}

TEST(batch_pool_done_failure_stops_the_run)
{
    pool_fixture f;
    fixture_init(&f);
    pq_writer_options o;
    pq_writer_options_default(&o);
    batch_pool *p = NULL;
    o2p_error err;
    CHECK_OK(batch_pool_create(&p, 3, &o, &err));
    done_ctx d = {&f, 0, 2};
    int rc = batch_pool_encode(p, f.groups, POOL_GROUPS, check_done, &d, &err);
    CHECK_INT(rc, O2P_EIO);
    CHECK_UINT(d.calls, 3); /* 0, 1 and the failing 2; nothing after */
    CHECK_STR(err.msg, "storage said no to 2");
    /* the pool works again afterwards */
    done_ctx d2 = {&f, 0, SIZE_MAX};
    CHECK_OK(batch_pool_encode(p, f.groups, POOL_GROUPS, check_done, &d2, &err));
    CHECK_UINT(d2.calls, POOL_GROUPS);
    batch_pool_destroy(p);
    fixture_free(&f);
}

TEST(batch_pool_encode_failure_names_the_column)
{
    pool_fixture f;
    fixture_init(&f);
    /* group 3 gets one body value too many: its rows no longer line up */
    tbl_group *bad = (tbl_group *)f.groups[3];
    tbl_put_str(&bad->rows.cols[LOG_BODY], "stray", 5);
    pq_writer_options o;
    pq_writer_options_default(&o);
    batch_pool *p = NULL;
    o2p_error err;
    CHECK_OK(batch_pool_create(&p, 2, &o, &err));
    done_ctx d = {&f, 0, SIZE_MAX};
    int rc = batch_pool_encode(p, f.groups, POOL_GROUPS, check_done, &d, &err);
    CHECK_INT(rc, O2P_EINVAL);
    CHECK_UINT(d.calls, 3); /* the groups before the bad one were handed over */
    CHECK_MSG(strstr(err.msg, "column Body has") != NULL, "error does not name the column: %s",
              err.msg);
    batch_pool_destroy(p);
    fixture_free(&f);
}

TEST(batch_pool_rejects_negative_threads)
{
    pq_writer_options o;
    pq_writer_options_default(&o);
    batch_pool *p = NULL;
    o2p_error err;
    CHECK_INT(batch_pool_create(&p, -1, &o, &err), O2P_EINVAL);
    CHECK(p == NULL);
    CHECK_OK(batch_pool_create(&p, 0, &o, &err)); /* 0: one per online CPU */
    CHECK(batch_pool_threads(p) >= 1);
    batch_pool_destroy(p);
}

/* The group of (logs, service) in b, or NULL. */
static const tbl_group *find_group(const tbl_batch *b, const char *service)
{
    for (size_t i = 0; i < b->cap; i++)
        if (b->groups[i].in_use && strcmp(b->groups[i].service, service) == 0) return &b->groups[i];
    return NULL;
}

TEST(tbl_batch_append_joins_groups_after_their_rows)
{
    tbl_schemas schemas;
    o2p_error err;
    CHECK_OK(tbl_schemas_init(&schemas, TBL_TS_MICROS, &err));
    tbl_batch dst, a, b;
    tbl_batch_init(&dst, &schemas);
    tbl_batch_init(&a, &schemas);
    tbl_batch_init(&b, &schemas);
    add_logs(&a, "one", 3);
    add_logs(&a, "two", 5);
    add_logs(&b, "two", 7);
    add_logs(&b, "three", 2);
    CHECK_OK(tbl_batch_append(&dst, &a));
    CHECK_OK(tbl_batch_append(&dst, &b));
    CHECK_UINT(dst.num_groups, 3);
    CHECK_UINT(tbl_batch_rows(&dst, TBL_LOGS), 17);
    const tbl_group *two = find_group(&dst, "two");
    CHECK(two != NULL);
    CHECK_UINT(two->rows.num_rows, 12);
    CHECK_OK(pq_colset_check(&two->rows, &err));
    CHECK_INT(two->hour, find_group(&a, "two")->hour);
    /* add_logs counts time down: the 7-row batch reaches further out */
    CHECK_INT(two->min_ts_us, find_group(&a, "two")->min_ts_us);
    CHECK_INT(two->max_ts_us, find_group(&b, "two")->max_ts_us);
    /* a's rows come first */
    const pq_column *body = &two->rows.cols[LOG_BODY];
    uint32_t n;
    memcpy(&n, body->values.data, 4);
    CHECK_MEM(body->values.data + 4, n, "two says 0", 10);
    tbl_batch_free(&a);
    tbl_batch_free(&b);
    tbl_batch_free(&dst);
    tbl_schemas_free(&schemas);
}
