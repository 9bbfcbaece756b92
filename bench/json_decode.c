/*
 * json_decode: OTLP/JSON logs throughput.
 *
 * Builds one synthetic ExportLogsServiceRequest in OTLP/JSON with 1,000
 * realistic records (the same content as bench/pb_decode: a resource with 5
 * attributes, a scope, records with 5 attributes of mixed types, a ~100-byte
 * string body with escapes in some records, hex trace and span ids) and
 * decodes it 1,000 times (1,000,000 records) per round.
 *
 *   build/bench/json_decode [rounds]           decode only (batch reset per request)
 *   build/bench/json_decode [rounds] parquet   JSON -> Parquet (zstd): rows accumulate
 *                                              and are written every 200,000 records
 *
 * Prints each round and the median records/s and MB/s of JSON input, by
 * wall time and by the process's CPU time (the latter is what one core
 * achieves when the machine is shared with other work).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/buf.h"
#include "core/mem.h"
#include "otlp/otlp.h"
#include "otlp/otlp_json.h"
#include "parquet/pq_writer.h"

#define RECORDS_PER_REQUEST 1000
#define REQUESTS_PER_ROUND  1000
#define REQUESTS_PER_FILE   200
#define MAX_ROUNDS          64

static const char *const routes[] = {"/api/users", "/api/orders/{id}", "/api/cart", "/health",
                                     "/api/products/{id}"};
static const char *const methods[] = {"GET", "POST", "PUT", "DELETE"};

static void kv_str(o2p_buf *b, const char *key, const char *value, int comma)
{
    buf_printf(b, "%s{\"key\":\"%s\",\"value\":{\"stringValue\":\"%s\"}}", comma ? "," : "", key,
               value);
}

static void build_request(o2p_buf *b)
{
    uint64_t t0 = 1760741572000000000ULL;
    buf_append_str(b, "{\"resourceLogs\":[{\"resource\":{\"attributes\":[");
    kv_str(b, "service.name", "checkout-service", 0);
    kv_str(b, "service.version", "1.42.0", 1);
    kv_str(b, "host.name", "ip-10-0-12-34.ec2.internal", 1);
    kv_str(b, "deployment.environment", "production", 1);
    kv_str(b, "telemetry.sdk.language", "go", 1);
    buf_append_str(b, "]},\"scopeLogs\":[{\"scope\":{\"name\":\"github.com/acme/checkout/internal/"
                      "http\",\"version\":\"0.9.1\"},\"logRecords\":[");
    uint64_t rng = 0x9e3779b97f4a7c15ULL;
    for (int i = 0; i < RECORDS_PER_REQUEST; i++) {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        uint64_t t = t0 + (uint64_t)i * 1000003;
        char body[200];
        /* every fourth body carries quotes, as access logs do */
        snprintf(body, sizeof body,
                 i % 4 == 0 ? "request completed method=%s route=\\\"%s\\\" status=%d bytes=%llu "
                              "user=u-%05llu latency_ms=%.3f"
                            : "request completed method=%s route=%s status=%d bytes=%llu "
                              "user=u-%05llu latency_ms=%.3f",
                 methods[i % 4], routes[i % 5], 200 + (int)(rng % 3) * 100,
                 (unsigned long long)(rng % 100000), (unsigned long long)(rng % 50000),
                 (double)(rng % 100000) / 997.0);
        char user[24];
        snprintf(user, sizeof user, "u-%05llu", (unsigned long long)(rng % 50000));
        char tid[33], sid[17];
        for (int k = 0; k < 16; k++)
            snprintf(tid + 2 * k, 3, "%02x", (unsigned)((rng >> (k * 4)) & 0xff));
        for (int k = 0; k < 8; k++)
            snprintf(sid + 2 * k, 3, "%02x", (unsigned)((rng >> (k * 8)) & 0xff) | 1);
        buf_printf(
            b,
            "%s{\"timeUnixNano\":\"%llu\",\"observedTimeUnixNano\":\"%llu\","
            "\"severityNumber\":9,\"severityText\":\"INFO\",\"body\":{\"stringValue\":\"%s\"},"
            "\"attributes\":[",
            i ? "," : "", (unsigned long long)t, (unsigned long long)(t + 250000), body);
        kv_str(b, "http.method", methods[i % 4], 0);
        kv_str(b, "http.route", routes[i % 5], 1);
        buf_printf(b, ",{\"key\":\"http.status_code\",\"value\":{\"intValue\":\"%d\"}}",
                   200 + (int)(rng % 3) * 100);
        kv_str(b, "enduser.id", user, 1);
        buf_printf(b, ",{\"key\":\"http.duration_ms\",\"value\":{\"doubleValue\":%.17g}}",
                   (double)(rng % 100000) / 997.0);
        buf_printf(b, "],\"traceId\":\"%s\",\"spanId\":\"%s\",\"flags\":1}", tid, sid);
    }
    buf_append_str(b, "]}]}]}");
}

static double clock_s(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Writes every group of the batch as one zstd Parquet file into out. */
static int write_files(tbl_batch *batch, o2p_buf *out, o2p_error *err)
{
    pq_writer_options o;
    pq_writer_options_default(&o);
    for (size_t i = 0; i < batch->cap; i++) {
        tbl_group *g = &batch->groups[i];
        if (!g->in_use || g->rows.num_rows == 0) continue;
        buf_reset(out);
        pq_writer *w;
        O2P_TRY(pq_writer_open(&w, g->rows.schema, &o, pq_sink_buf(out), err));
        int rc = pq_writer_write(w, &g->rows, err);
        if (rc == 0) rc = pq_writer_close(w, err);
        pq_writer_destroy(w);
        if (rc < 0) return rc;
    }
    return O2P_OK;
}

int main(int argc, char **argv)
{
    int rounds = argc > 1 ? atoi(argv[1]) : 5;
    if (rounds < 1) rounds = 1;
    if (rounds > MAX_ROUNDS) rounds = MAX_ROUNDS;
    int parquet = argc > 2 && strcmp(argv[2], "parquet") == 0;

    o2p_error err = {0};
    tbl_schemas schemas;
    if (tbl_schemas_init(&schemas, TBL_TS_MICROS, &err) < 0) {
        fprintf(stderr, "schemas: %s\n", err.msg);
        return 1;
    }
    tbl_batch batch;
    tbl_batch_init(&batch, &schemas);
    otlp_options opts;
    otlp_options_default(&opts);
    otlp_json_state *st;
    if (otlp_json_state_create(&st, &opts) < 0) {
        fprintf(stderr, "out of memory\n");
        return 1;
    }
    o2p_buf req, file;
    buf_init(&req, 0);
    buf_init(&file, 0);
    build_request(&req);

    double rates[MAX_ROUNDS], mbps[MAX_ROUNDS], cpu_rates[MAX_ROUNDS];
    size_t file_bytes = 0;
    mem_stats m0, m1;
    for (int r = 0; r < rounds; r++) {
        if (r == rounds - 1) mem_get_stats(&m0);
        double start = clock_s(CLOCK_MONOTONIC), cpu_start = clock_s(CLOCK_PROCESS_CPUTIME_ID);
        for (int q = 0; q < REQUESTS_PER_ROUND; q++) {
            if (!parquet) tbl_batch_reset(&batch);
            otlp_stats stats = {0};
            if (otlp_json_decode(st, OTLP_LOGS, req.data, req.len, 0, 1, &batch, &stats, &err) <
                0) {
                fprintf(stderr, "decode: %s\n", err.msg);
                return 1;
            }
            if (parquet && (q + 1) % REQUESTS_PER_FILE == 0) {
                if (write_files(&batch, &file, &err) < 0) {
                    fprintf(stderr, "parquet: %s\n", err.msg);
                    return 1;
                }
                file_bytes = file.len;
                tbl_batch_reset(&batch);
            }
        }
        double secs = clock_s(CLOCK_MONOTONIC) - start;
        double cpu_secs = clock_s(CLOCK_PROCESS_CPUTIME_ID) - cpu_start;
        if (r == rounds - 1) mem_get_stats(&m1);
        double records = (double)RECORDS_PER_REQUEST * REQUESTS_PER_ROUND;
        rates[r] = records / secs;
        cpu_rates[r] = records / cpu_secs;
        mbps[r] = (double)req.len * REQUESTS_PER_ROUND / secs / 1e6;
        printf("round %d: %.0f records/s, %.1f MB/s (%.3f s for %.0f records); CPU time %.3f s: "
               "%.0f records/s\n",
               r + 1, rates[r], mbps[r], secs, records, cpu_secs, cpu_rates[r]);
    }
    qsort(rates, (size_t)rounds, sizeof rates[0], cmp_double);
    qsort(mbps, (size_t)rounds, sizeof mbps[0], cmp_double);
    qsort(cpu_rates, (size_t)rounds, sizeof cpu_rates[0], cmp_double);
    printf("json_decode logs%s: request %zu bytes, %d records; median %.0f records/s, %.1f MB/s "
           "(by CPU time %.0f records/s, %.1f MB/s); allocations in the last round: %llu",
           parquet ? " -> parquet (zstd)" : "", req.len, RECORDS_PER_REQUEST, rates[rounds / 2],
           mbps[rounds / 2], cpu_rates[rounds / 2],
           cpu_rates[rounds / 2] * (double)req.len / RECORDS_PER_REQUEST / 1e6,
           (unsigned long long)(m1.allocations - m0.allocations));
    if (parquet)
        printf("; %zu bytes per %d-record file", file_bytes,
               REQUESTS_PER_FILE * RECORDS_PER_REQUEST);
    printf("\n");

    buf_free(&req);
    buf_free(&file);
    otlp_json_state_destroy(st);
    tbl_batch_free(&batch);
    tbl_schemas_free(&schemas);
    return 0;
}
