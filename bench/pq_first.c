/*
 * pq_first: first Parquet-encoder benchmark.  Encodes 1,000,000 rows of one
 * column with ZSTD (level 3) into memory and prints the median over several
 * runs of throughput (MB/s of PLAIN input bytes, rows/s) and the output size,
 * for three columns:
 *   log_strings     log-line-like strings from a few hundred templates
 *   unique_strings  request-id-like strings, nearly all distinct
 *   timestamps      INT64 microsecond timestamps, increasing with jitter
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/buf.h"
#include "core/mem.h"
#include "parquet/pq_writer.h"

#define ROWS 1000000
#define RUNS 7

static uint64_t rng_state = 0x2545F4914F6CDD1Dull;

static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static const char *verbs[] = {"GET", "POST", "PUT", "DELETE"};
static const char *paths[] = {"/api/v1/users",     "/api/v1/orders", "/healthz",
                              "/api/v2/search",    "/static/app.js", "/login",
                              "/api/v1/cart/items"};
static const char *msgs[] = {"request completed", "cache miss, fetching from origin",
                             "slow query detected", "user session refreshed",
                             "connection reset by peer"};

static void fill_log_strings(pq_column *c)
{
    char line[256];
    for (size_t i = 0; i < ROWS; i++) {
        uint64_t r = rng();
        int n = snprintf(line, sizeof line, "%s %s status=%d %s shard=%u", verbs[r % 4],
                         paths[(r >> 8) % 7], (int)(200 + ((r >> 16) % 4) * 100),
                         msgs[(r >> 24) % 5], (unsigned)((r >> 32) % 16));
        pq_col_put_bytes(c, line, (size_t)n, 0, 0);
    }
}

static void fill_unique_strings(pq_column *c)
{
    char line[64];
    for (size_t i = 0; i < ROWS; i++) {
        int n = snprintf(line, sizeof line, "req-%016llx-%zu", (unsigned long long)rng(), i);
        pq_col_put_bytes(c, line, (size_t)n, 0, 0);
    }
}

static void fill_timestamps(pq_column *c)
{
    int64_t t = 1700000000000000LL;
    for (size_t i = 0; i < ROWS; i++) {
        t += 50 + (int64_t)(rng() % 200);
        pq_col_put_i64(c, t, 0, 0);
    }
}

static int bench(const char *name, pq_physical physical, pq_logical logical,
                 void (*fill)(pq_column *))
{
    o2p_error err = {0};
    pq_schema *schema;
    if (pq_schema_create(&schema, "schema", &err) < 0 ||
        pq_schema_add_leaf(schema, PQ_SCHEMA_ROOT, name, PQ_REQUIRED, physical, logical, 0) < 0 ||
        pq_schema_finish(schema, &err) < 0) {
        fprintf(stderr, "schema: %s\n", err.msg);
        return 1;
    }
    pq_colset rows;
    if (pq_colset_init(&rows, schema) < 0) return 1;
    fill(&rows.cols[0]);
    rows.num_rows = ROWS;
    size_t input = rows.cols[0].values.len;
    double secs[RUNS];
    size_t out_size = 0;
    o2p_buf out;
    buf_init(&out, 0);
    for (int run = 0; run < RUNS; run++) {
        pq_writer_options opts;
        pq_writer_options_default(&opts);
        pq_writer *w;
        buf_reset(&out);
        double t0 = now();
        if (pq_writer_open(&w, schema, &opts, pq_sink_buf(&out), &err) < 0 ||
            pq_writer_write(w, &rows, &err) < 0 || pq_writer_close(w, &err) < 0) {
            fprintf(stderr, "%s: %s\n", name, err.msg);
            return 1;
        }
        secs[run] = now() - t0;
        pq_writer_destroy(w);
        out_size = out.len;
    }
    qsort(secs, RUNS, sizeof secs[0], cmp_double);
    double med = secs[RUNS / 2];
    printf("%-15s %8.1f MB/s %12.0f rows/s  input %6.1f MB  output %7.2f MB  (median of %d, "
           "min %.1f ms, max %.1f ms)\n",
           name, (double)input / med / 1e6, ROWS / med, (double)input / 1e6, (double)out_size / 1e6,
           RUNS, secs[0] * 1e3, secs[RUNS - 1] * 1e3);
    buf_free(&out);
    pq_colset_free(&rows);
    pq_schema_destroy(schema);
    return 0;
}

int main(void)
{
    printf("pq_first: %d rows per column, zstd level 3, output to memory\n", ROWS);
    int rc = bench("log_strings", PQ_BYTE_ARRAY, PQ_LOGICAL_STRING, fill_log_strings);
    rc |= bench("unique_strings", PQ_BYTE_ARRAY, PQ_LOGICAL_STRING, fill_unique_strings);
    rc |= bench("timestamps", PQ_INT64, PQ_LOGICAL_TIMESTAMP_MICROS, fill_timestamps);
    return rc;
}
