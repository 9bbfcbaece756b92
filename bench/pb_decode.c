/*
 * pb_decode: protobuf decode throughput (decode only, into a tbl_batch that
 * is reset between requests).
 *
 * Builds one synthetic ExportLogsServiceRequest of 1,000 realistic records
 * (a resource with 5 attributes, a scope, records with 5 attributes of mixed
 * types, a ~100-byte string body, trace and span ids) and decodes it 1,000
 * times (1,000,000 records) per round; prints each round and the median.
 *
 *   build/bench/pb_decode [rounds]
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "../tests/unit/pb_build.h"
#include "core/mem.h"
#include "otlp/otlp.h"

#define RECORDS_PER_REQUEST 1000
#define REQUESTS_PER_ROUND  1000
#define MAX_ROUNDS          64

static const char *const routes[] = {"/api/users", "/api/orders/{id}", "/api/cart", "/health",
                                     "/api/products/{id}"};
static const char *const methods[] = {"GET", "POST", "PUT", "DELETE"};

static void put_kv_double(o2p_buf *b, uint32_t num, const char *key, double v)
{
    size_t kv = pbw_begin(b, num);
    pbw_str(b, 1, key);
    size_t av = pbw_begin(b, 2);
    pbw_double(b, 4, v);
    pbw_end(b, av);
    pbw_end(b, kv);
}

static void build_request(o2p_buf *b)
{
    uint64_t t0 = 1760741572000000000ULL;
    size_t rl = pbw_begin(b, 1);
    size_t res = pbw_begin(b, 1);
    pbw_kv_str(b, 1, "service.name", "checkout-service");
    pbw_kv_str(b, 1, "service.version", "1.42.0");
    pbw_kv_str(b, 1, "host.name", "ip-10-0-12-34.ec2.internal");
    pbw_kv_str(b, 1, "deployment.environment", "production");
    pbw_kv_str(b, 1, "telemetry.sdk.language", "go");
    pbw_end(b, res);
    size_t sl = pbw_begin(b, 2);
    size_t sc = pbw_begin(b, 1);
    pbw_str(b, 1, "github.com/acme/checkout/internal/http");
    pbw_str(b, 2, "0.9.1");
    pbw_end(b, sc);
    uint64_t rng = 0x9e3779b97f4a7c15ULL;
    for (int i = 0; i < RECORDS_PER_REQUEST; i++) {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        size_t rec = pbw_begin(b, 2);
        pbw_fixed64(b, 1, t0 + (uint64_t)i * 1000003);
        pbw_fixed64(b, 11, t0 + (uint64_t)i * 1000003 + 250000);
        pbw_uint(b, 2, 9);
        pbw_str(b, 3, "INFO");
        char body[160];
        snprintf(body, sizeof body,
                 "request completed method=%s route=%s status=%d bytes=%llu user=u-%05llu "
                 "latency_ms=%.3f",
                 methods[i % 4], routes[i % 5], 200 + (int)(rng % 3) * 100,
                 (unsigned long long)(rng % 100000), (unsigned long long)(rng % 50000),
                 (double)(rng % 100000) / 997.0);
        size_t av = pbw_begin(b, 5);
        pbw_str(b, 1, body);
        pbw_end(b, av);
        pbw_kv_str(b, 6, "http.method", methods[i % 4]);
        pbw_kv_str(b, 6, "http.route", routes[i % 5]);
        pbw_kv_int(b, 6, "http.status_code", 200 + (int64_t)(rng % 3) * 100);
        char user[24];
        snprintf(user, sizeof user, "u-%05llu", (unsigned long long)(rng % 50000));
        pbw_kv_str(b, 6, "enduser.id", user);
        put_kv_double(b, 6, "http.duration_ms", (double)(rng % 100000) / 997.0);
        uint8_t tid[16], sid[8];
        for (int k = 0; k < 16; k++) tid[k] = (uint8_t)(rng >> (k * 4));
        for (int k = 0; k < 8; k++) sid[k] = (uint8_t)(rng >> (k * 8)) | 1;
        pbw_bytes(b, 9, tid, 16);
        pbw_bytes(b, 10, sid, 8);
        pbw_fixed32(b, 8, 1);
        pbw_end(b, rec);
    }
    pbw_end(b, sl);
    pbw_end(b, rl);
}

/* CPU time of this thread: the decoder is single-threaded, and CPU time
 * stays meaningful on a machine busy with other work (wall time is printed
 * alongside). */
static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    int rounds = argc > 1 ? atoi(argv[1]) : 5;
    if (rounds < 1 || rounds > MAX_ROUNDS) rounds = 5;
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
    otlp_decoder *dec;
    if (otlp_decoder_create(&dec, &opts, &err) < 0) {
        fprintf(stderr, "decoder: %s\n", err.msg);
        return 1;
    }
    o2p_buf req;
    buf_init(&req, 0);
    build_request(&req);
    otlp_stats stats = {0};

    /* warm-up: grows every scratch and column buffer to its steady size */
    for (int i = 0; i < 20; i++) {
        tbl_batch_reset(&batch);
        if (otlp_decode(dec, OTLP_LOGS, OTLP_FMT_PROTOBUF, req.data, req.len, 0, &batch, &stats,
                        &err) < 0) {
            fprintf(stderr, "decode: %s\n", err.msg);
            return 1;
        }
    }
    mem_stats before, after;
    mem_get_stats(&before);
    double rates[MAX_ROUNDS];
    for (int r = 0; r < rounds; r++) {
        double t = now_s(), c = cpu_s();
        for (int i = 0; i < REQUESTS_PER_ROUND; i++) {
            tbl_batch_reset(&batch);
            otlp_decode(dec, OTLP_LOGS, OTLP_FMT_PROTOBUF, req.data, req.len, 0, &batch, &stats,
                        &err);
        }
        double secs = cpu_s() - c, wall = now_s() - t;
        rates[r] = RECORDS_PER_REQUEST * (double)REQUESTS_PER_ROUND / secs;
        printf("round %d: %.0f records/s, %.1f MB/s (%.3f s CPU, %.3f s wall, %d records)\n", r + 1,
               rates[r], (double)req.len * REQUESTS_PER_ROUND / secs / 1e6, secs, wall,
               RECORDS_PER_REQUEST * REQUESTS_PER_ROUND);
    }
    mem_get_stats(&after);
    qsort(rates, (size_t)rounds, sizeof rates[0], cmp_double);
    double median = rates[rounds / 2];
    printf("pb_decode logs: request %zu bytes, %d records; median %.0f records/s, %.1f MB/s (CPU "
           "time); "
           "allocations in timed rounds: %llu\n",
           req.len, RECORDS_PER_REQUEST, median,
           median * (double)req.len / RECORDS_PER_REQUEST / 1e6,
           (unsigned long long)(after.allocations - before.allocations));
    buf_free(&req);
    otlp_decoder_destroy(dec);
    tbl_batch_free(&batch);
    tbl_schemas_free(&schemas);
    return 0;
}
