/* Tests for http_server: an in-process server on 127.0.0.1 driven with
 * libcurl — routes, methods, content negotiation, encodings, limits,
 * responses, auth, metrics and graceful stop. */
#include "server/http_server.h"

#include <libdeflate.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zstd.h>
#include <curl/curl.h>

#include "core/mem.h"
#include "test_http_util.h"
#include "unit.h"

static const char *const PB[] = {"Content-Type: application/x-protobuf", NULL};
static const char *const JSON[] = {"Content-Type: application/json", NULL};

/* Call before reading what the sink recorded.  The answer came over a
 * socket, which ThreadSanitizer does not count as ordering; taking the lock
 * the ingest callback released before that answer was sent does. */
static void sink_sync(http_sink *sink)
{
    pthread_mutex_lock(&sink->lock);
    pthread_mutex_unlock(&sink->lock);
}

static void post(uint16_t port, const char *path, const char *const *headers, const void *body,
                 size_t len, http_resp *out)
{
    http_req req = {.path = path, .headers = headers, .body = body, .len = len};
    http_do(port, &req, out, NULL);
}

static void get(uint16_t port, const char *method, const char *path, http_resp *out)
{
    http_req req = {.method = method, .path = path};
    http_do(port, &req, out, NULL);
}

TEST(http_health_ready)
{
    http_sink sink;
    http_sink_init(&sink);
    http_server *srv = http_test_server(&sink, 0, 2, NULL);
    uint16_t port = http_server_port(srv);
    http_resp r;
    get(port, "GET", "/health", &r);
    CHECK_INT(r.status, 200);
    CHECK_STR((char *)r.body.data, "{\"status\":\"healthy\"}");
    CHECK_STR(http_resp_header(&r, "Content-Type"), "application/json");
    http_resp_free(&r);
    get(port, "HEAD", "/health", &r);
    CHECK_INT(r.status, 200);
    http_resp_free(&r);
    get(port, "GET", "/ready", &r);
    CHECK_INT(r.status, 200);
    CHECK_STR((char *)r.body.data, "{\"status\":\"ready\"}");
    http_resp_free(&r);
    http_sink_set_ready(&sink, 0);
    get(port, "GET", "/ready", &r);
    CHECK_INT(r.status, 503);
    CHECK_STR((char *)r.body.data, "{\"status\":\"not ready\"}");
    http_resp_free(&r);
    http_server_stop(srv);
    http_sink_free(&sink);
}

TEST(http_not_found_and_methods)
{
    http_sink sink;
    http_sink_init(&sink);
    http_server *srv = http_test_server(&sink, 0, 1, NULL);
    uint16_t port = http_server_port(srv);
    http_resp r;
    get(port, "GET", "/v1/log", &r);
    CHECK_INT(r.status, 404);
    CHECK_STR((char *)r.body.data, "{\"code\":5,\"message\":\"no route for path '/v1/log'\"}");
    http_resp_free(&r);
    post(port, "/nowhere", PB, "x", 1, &r);
    CHECK_INT(r.status, 404);
    http_resp_free(&r);
    const char *ingest[] = {"/v1/logs", "/v1/traces", "/v1/metrics"};
    for (int i = 0; i < 3; i++) {
        get(port, "GET", ingest[i], &r);
        CHECK_INT(r.status, 405);
        CHECK_STR(http_resp_header(&r, "Allow"), "POST");
        http_resp_free(&r);
        get(port, "PUT", ingest[i], &r);
        CHECK_INT(r.status, 405);
        http_resp_free(&r);
    }
    const char *reads[] = {"/health", "/ready", "/metrics"};
    for (int i = 0; i < 3; i++) {
        post(port, reads[i], JSON, "{}", 2, &r);
        CHECK_INT(r.status, 405);
        CHECK_STR(http_resp_header(&r, "Allow"), "GET, HEAD");
        CHECK(strstr((char *)r.body.data, "\"code\":12") != NULL);
        http_resp_free(&r);
    }
    CHECK_INT(atomic_load(&sink.calls), 0);
    http_server_stop(srv);
    http_sink_free(&sink);
}

TEST(http_routes_reach_callback)
{
    http_sink sink;
    http_sink_init(&sink);
    http_server *srv = http_test_server(&sink, 0, 2, NULL);
    uint16_t port = http_server_port(srv);
    static const struct {
        const char *path;
        otlp_signal signal;
        const char *ctype;
        otlp_format format;
    } cases[] = {
        {"/v1/logs", OTLP_LOGS, "Content-Type: application/x-protobuf", OTLP_FMT_PROTOBUF},
        {"/v1/traces", OTLP_TRACES, "Content-Type: application/protobuf", OTLP_FMT_PROTOBUF},
        {"/v1/metrics", OTLP_METRICS, "Content-Type: application/json; charset=utf-8",
         OTLP_FMT_JSON},
        {"/v1/logs", OTLP_LOGS, "Content-Type: APPLICATION/JSON", OTLP_FMT_JSON},
        {"/v1/traces", OTLP_TRACES, "Content-Type: application/x-ndjson", OTLP_FMT_JSONL},
        {"/v1/metrics", OTLP_METRICS, "Content-Type: application/jsonl", OTLP_FMT_JSONL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *hdrs[] = {cases[i].ctype, NULL};
        char body[32];
        int n = snprintf(body, sizeof body, "payload-%zu", i);
        http_resp r;
        post(port, cases[i].path, hdrs, body, (size_t)n, &r);
        CHECK_INT(r.status, 200);
        sink_sync(&sink);
        CHECK_INT(sink.signal, cases[i].signal);
        CHECK_INT(sink.format, cases[i].format);
        CHECK_MEM(sink.body.data, sink.body.len, body, (size_t)n);
        if (cases[i].format == OTLP_FMT_PROTOBUF) {
            CHECK_INT(r.body.len, 0);
            CHECK_STR(http_resp_header(&r, "Content-Type"), "application/x-protobuf");
        } else {
            CHECK_STR((char *)r.body.data, "{}");
            CHECK_STR(http_resp_header(&r, "Content-Type"), "application/json");
        }
        http_resp_free(&r);
    }
    /* an empty body is the callback's to judge */
    http_resp r;
    post(port, "/v1/logs", PB, "", 0, &r);
    CHECK_INT(r.status, 200);
    sink_sync(&sink);
    CHECK_INT(sink.body.len, 0);
    http_resp_free(&r);
    CHECK_INT(atomic_load(&sink.calls), 7);
    http_server_stop(srv);
    http_sink_free(&sink);
}

TEST(http_unsupported_type_and_encoding)
{
    http_sink sink;
    http_sink_init(&sink);
    http_server *srv = http_test_server(&sink, 0, 1, NULL);
    uint16_t port = http_server_port(srv);
    http_resp r;
    const char *text[] = {"Content-Type: text/plain", NULL};
    post(port, "/v1/logs", text, "x", 1, &r);
    CHECK_INT(r.status, 415);
    CHECK_STR(http_resp_header(&r, "Content-Type"), "application/json");
    CHECK(strstr((char *)r.body.data, "\"code\":12") != NULL);
    CHECK(strstr((char *)r.body.data, "text/plain") != NULL);
    http_resp_free(&r);
    const char *none[] = {"Content-Type:", NULL};
    post(port, "/v1/logs", none, "x", 1, &r);
    CHECK_INT(r.status, 415);
    http_resp_free(&r);
    /* a protobuf request gets a protobuf Status */
    const char *br[] = {"Content-Type: application/x-protobuf", "Content-Encoding: br", NULL};
    post(port, "/v1/traces", br, "x", 1, &r);
    CHECK_INT(r.status, 415);
    CHECK_STR(http_resp_header(&r, "Content-Type"), "application/x-protobuf");
    static const char want_msg[] =
        "unsupported Content-Encoding 'br'; expected gzip, deflate, zstd or identity";
    CHECK_INT(r.body.len, 4 + sizeof want_msg - 1);
    CHECK_BYTES(r.body.data, 4, 0x08, 12, 0x12, sizeof want_msg - 1);
    CHECK_MEM(r.body.data + 4, r.body.len - 4, want_msg, sizeof want_msg - 1);
    http_resp_free(&r);
    CHECK_INT(atomic_load(&sink.calls), 0);
    http_server_stop(srv);
    http_sink_free(&sink);
}

static uint8_t *make_payload(size_t len)
{
    uint8_t *p = mem_alloc(len);
    for (size_t i = 0; i < len; i++) p[i] = (uint8_t)("otlp rows "[i % 10] + (i / 997) % 3);
    return p;
}

TEST(http_compressed_bodies)
{
    http_sink sink;
    http_sink_init(&sink);
    http_server *srv = http_test_server(&sink, 1 << 20, 2, NULL);
    uint16_t port = http_server_port(srv);
    size_t len = 200000;
    uint8_t *plain = make_payload(len);
    struct libdeflate_compressor *lc = libdeflate_alloc_compressor(6);
    size_t cap = ZSTD_compressBound(len) + 1024;
    uint8_t *z = mem_alloc(cap);
    static const struct {
        const char *encoding;
        int kind; /* 0 gzip, 1 zlib, 2 raw deflate, 3 zstd */
    } cases[] = {{"gzip", 0}, {"deflate", 1}, {"deflate", 2}, {"zstd", 3}, {"identity", 4}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t zlen;
        switch (cases[i].kind) {
        case 0:
            zlen = libdeflate_gzip_compress(lc, plain, len, z, cap);
            break;
        case 1:
            zlen = libdeflate_zlib_compress(lc, plain, len, z, cap);
            break;
        case 2:
            zlen = libdeflate_deflate_compress(lc, plain, len, z, cap);
            break;
        case 3:
            zlen = ZSTD_compress(z, cap, plain, len, 3);
            break;
        default:
            memcpy(z, plain, len);
            zlen = len;
        }
        char enc[64];
        snprintf(enc, sizeof enc, "Content-Encoding: %s", cases[i].encoding);
        const char *hdrs[] = {"Content-Type: application/x-protobuf", enc, NULL};
        for (int chunked = 0; chunked <= 1; chunked++) {
            http_req req = {
                .path = "/v1/logs", .headers = hdrs, .body = z, .len = zlen, .chunked = chunked};
            http_resp r;
            http_do(port, &req, &r, NULL);
            CHECK_MSG(r.status == 200, "%s chunked=%d: %ld %s", cases[i].encoding, chunked,
                      r.status, (char *)r.body.data);
            sink_sync(&sink);
            CHECK_MEM(sink.body.data, sink.body.len, plain, len);
            http_resp_free(&r);
        }
    }
    /* the decompressed bytes are counted separately from the wire bytes */
    const http_metrics *m = http_server_metrics(srv);
    CHECK(atomic_load((_Atomic uint64_t *)&m->decompressed_bytes[HTTP_ROUTE_LOGS]) == 10 * len);
    CHECK(atomic_load((_Atomic uint64_t *)&m->body_bytes[HTTP_ROUTE_LOGS]) < 10 * len);
    libdeflate_free_compressor(lc);
    mem_free(z);
    mem_free(plain);
    http_server_stop(srv);
    http_sink_free(&sink);
}

TEST(http_size_limits)
{
    http_sink sink;
    http_sink_init(&sink);
    size_t limit = 256 * 1024;
    http_server *srv = http_test_server(&sink, limit, 1, NULL);
    uint16_t port = http_server_port(srv);
    uint8_t *big = make_payload(limit + 1);
    http_resp r;

    /* exactly the limit is fine, either way it is sent */
    for (int chunked = 0; chunked <= 1; chunked++) {
        http_req req = {
            .path = "/v1/logs", .headers = PB, .body = big, .len = limit, .chunked = chunked};
        http_do(port, &req, &r, NULL);
        CHECK_INT(r.status, 200);
        http_resp_free(&r);
    }
    /* Content-Length over the limit: refused before the body is sent */
    http_req declared = {
        .path = "/v1/logs", .headers = PB, .body = big, .len = limit + 1, .expect_continue = 1};
    http_do(port, &declared, &r, NULL);
    CHECK_INT(r.status, 413);
    CHECK(strstr((char *)r.body.data, "exceeds the 262144 byte limit") != NULL);
    http_resp_free(&r);
    /* chunked over the limit: noticed while accumulating */
    http_req chunked = {
        .path = "/v1/logs", .headers = JSON, .body = big, .len = limit + 1, .chunked = 1};
    http_do(port, &chunked, &r, NULL);
    CHECK_INT(r.status, 413);
    CHECK_STR((char *)r.body.data,
              "{\"code\":8,\"message\":\"request body exceeds 262144 bytes\"}");
    http_resp_free(&r);

    /* zip bomb: 64 MiB of zeros in ~64 KiB of gzip */
    size_t bomb_len = (size_t)64 << 20;
    uint8_t *zeros = mem_calloc(1, bomb_len);
    struct libdeflate_compressor *lc = libdeflate_alloc_compressor(9);
    uint8_t *gz = mem_alloc(1 << 20);
    size_t gzlen = libdeflate_gzip_compress(lc, zeros, bomb_len, gz, 1 << 20);
    CHECK(gzlen > 0 && gzlen < limit);
    const char *gzhdrs[] = {"Content-Type: application/json", "Content-Encoding: gzip", NULL};
    post(port, "/v1/logs", gzhdrs, gz, gzlen, &r);
    CHECK_INT(r.status, 413);
    CHECK_STR((char *)r.body.data,
              "{\"code\":8,\"message\":\"decompressed body exceeds 262144 bytes\"}");
    http_resp_free(&r);
    memset(gz + gzlen - 4, 0, 4); /* the trailer lies: still stopped at the limit */
    post(port, "/v1/logs", gzhdrs, gz, gzlen, &r);
    CHECK_INT(r.status, 413);
    http_resp_free(&r);
    size_t zlen = ZSTD_compress(gz, 1 << 20, zeros, bomb_len, 1);
    const char *zhdrs[] = {"Content-Type: application/json", "Content-Encoding: zstd", NULL};
    post(port, "/v1/logs", zhdrs, gz, zlen, &r);
    CHECK_INT(r.status, 413);
    http_resp_free(&r);

    /* corrupt gzip: 400 naming the encoding */
    size_t small = libdeflate_gzip_compress(lc, big, 5000, gz, 1 << 20);
    gz[small / 2] ^= 0xff;
    post(port, "/v1/logs", gzhdrs, gz, small, &r);
    CHECK_INT(r.status, 400);
    CHECK_STR((char *)r.body.data,
              "{\"code\":3,\"message\":\"corrupt gzip data in request body\"}");
    CHECK(http_resp_header(&r, "Retry-After") == NULL);
    http_resp_free(&r);
    CHECK_INT(atomic_load(&sink.calls), 2);

    /* the connection-level state recovered: a normal request still works */
    post(port, "/v1/logs", PB, "ok", 2, &r);
    CHECK_INT(r.status, 200);
    http_resp_free(&r);
    libdeflate_free_compressor(lc);
    mem_free(gz);
    mem_free(zeros);
    mem_free(big);
    http_server_stop(srv);
    http_sink_free(&sink);
}

TEST(http_partial_success_responses)
{
    http_sink sink;
    http_sink_init(&sink);
    sink.reply.rejected = 3; /* before the server's threads start */
    snprintf(sink.reply.message, sizeof sink.reply.message, "3 points without a value");
    http_server *srv = http_test_server(&sink, 0, 1, NULL);
    uint16_t port = http_server_port(srv);
    http_resp r;
    post(port, "/v1/metrics", PB, "x", 1, &r);
    CHECK_INT(r.status, 200);
    CHECK_STR(http_resp_header(&r, "Content-Type"), "application/x-protobuf");
    /* ExportMetricsServiceResponse.partial_success (1, LEN 28) {
     *   rejected_data_points (1, VARINT) 3; error_message (2, LEN 24) "..." } */
    static const char msg[] = "3 points without a value";
    CHECK_INT(r.body.len, 2 + 2 + 2 + 24);
    CHECK_BYTES(r.body.data, 6, 0x0a, 28, 0x08, 0x03, 0x12, 24);
    CHECK_MEM(r.body.data + 6, r.body.len - 6, msg, 24);
    http_resp_free(&r);

    post(port, "/v1/logs", JSON, "{}", 2, &r);
    CHECK_INT(r.status, 200);
    CHECK_STR(http_resp_header(&r, "Content-Type"), "application/json");
    CHECK_STR((char *)r.body.data, "{\"partialSuccess\":{\"rejectedLogRecords\":\"3\","
                                   "\"errorMessage\":\"3 points without a value\"}}");
    http_resp_free(&r);
    const char *jsonl[] = {"Content-Type: application/x-ndjson", NULL};
    post(port, "/v1/traces", jsonl, "{}\n", 3, &r);
    CHECK_STR((char *)r.body.data, "{\"partialSuccess\":{\"rejectedSpans\":\"3\","
                                   "\"errorMessage\":\"3 points without a value\"}}");
    http_resp_free(&r);
    http_server_stop(srv);
    http_sink_free(&sink);
}

TEST(http_callback_errors)
{
    http_sink sink;
    http_sink_init(&sink);
    http_server *srv = http_test_server(&sink, 0, 1, NULL);
    uint16_t port = http_server_port(srv);
    http_resp r;

    http_sink_answer(&sink, O2P_EINVAL, 0, "logs: resourceLogs[0]: bad wire type");
    post(port, "/v1/logs", PB, "x", 1, &r);
    CHECK_INT(r.status, 400);
    static const char m400[] = "logs: resourceLogs[0]: bad wire type";
    CHECK_INT(r.body.len, 4 + sizeof m400 - 1);
    CHECK_BYTES(r.body.data, 4, 0x08, 0x03, 0x12, sizeof m400 - 1);
    CHECK_MEM(r.body.data + 4, r.body.len - 4, m400, sizeof m400 - 1);
    http_resp_free(&r);
    post(port, "/v1/logs", JSON, "x", 1, &r);
    CHECK_INT(r.status, 400);
    CHECK_STR((char *)r.body.data,
              "{\"code\":3,\"message\":\"logs: resourceLogs[0]: bad wire type\"}");
    http_resp_free(&r);

    http_sink_answer(&sink, O2P_EBUSY, 7, "memory budget exhausted");
    post(port, "/v1/logs", JSON, "x", 1, &r);
    CHECK_INT(r.status, 429);
    CHECK_STR(http_resp_header(&r, "Retry-After"), "7");
    CHECK_STR((char *)r.body.data, "{\"code\":8,\"message\":\"memory budget exhausted\"}");
    http_resp_free(&r);

    http_sink_answer(&sink, O2P_EIO, 0, "storage failing");
    post(port, "/v1/logs", JSON, "x", 1, &r);
    CHECK_INT(r.status, 503);
    CHECK_STR(http_resp_header(&r, "Retry-After"), "1");
    CHECK_STR((char *)r.body.data, "{\"code\":14,\"message\":\"storage failing\"}");
    http_resp_free(&r);

    http_sink_answer(&sink, O2P_ENOMEM, 0, NULL);
    post(port, "/v1/logs", JSON, "x", 1, &r);
    CHECK_INT(r.status, 503);
    http_resp_free(&r);
    http_sink_answer(&sink, O2P_ELIMIT, 0, NULL);
    post(port, "/v1/logs", JSON, "x", 1, &r);
    CHECK_INT(r.status, 413);
    http_resp_free(&r);
    http_sink_answer(&sink, O2P_EUNSUPPORTED, 0, NULL);
    post(port, "/v1/logs", JSON, "x", 1, &r);
    CHECK_INT(r.status, 415);
    http_resp_free(&r);
    http_server_stop(srv);
    http_sink_free(&sink);
}

TEST(http_auth_token)
{
    http_sink sink;
    http_sink_init(&sink);
    http_server *srv = http_test_server(&sink, 0, 1, "s3cret");
    uint16_t port = http_server_port(srv);
    http_resp r;
    post(port, "/v1/logs", PB, "x", 1, &r);
    CHECK_INT(r.status, 401);
    CHECK_STR(http_resp_header(&r, "WWW-Authenticate"), "Bearer");
    CHECK_BYTES(r.body.data, 2, 0x08, 16);
    http_resp_free(&r);
    const char *wrong[] = {"Content-Type: application/json", "Authorization: Bearer s3cre", NULL};
    post(port, "/v1/logs", wrong, "x", 1, &r);
    CHECK_INT(r.status, 401);
    CHECK(strstr((char *)r.body.data, "\"code\":16") != NULL);
    http_resp_free(&r);
    const char *longer[] = {"Content-Type: application/json", "Authorization: Bearer s3cret1",
                            NULL};
    post(port, "/v1/logs", longer, "x", 1, &r);
    CHECK_INT(r.status, 401);
    http_resp_free(&r);
    const char *basic[] = {"Content-Type: application/json", "Authorization: Basic s3cret", NULL};
    post(port, "/v1/logs", basic, "x", 1, &r);
    CHECK_INT(r.status, 401);
    http_resp_free(&r);
    CHECK_INT(atomic_load(&sink.calls), 0);
    const char *right[] = {"Content-Type: application/json", "Authorization: Bearer s3cret", NULL};
    post(port, "/v1/logs", right, "x", 1, &r);
    CHECK_INT(r.status, 200);
    http_resp_free(&r);
    get(port, "GET", "/health", &r);
    CHECK_INT(r.status, 200);
    http_resp_free(&r);
    http_server_stop(srv);
    http_sink_free(&sink);
}

/* One keep-alive connection, so each request's completion (where it is
 * counted) has run before the next request is read. */
TEST(http_metrics_endpoint)
{
    http_sink sink;
    http_sink_init(&sink);
    http_server *srv = http_test_server(&sink, 0, 2, NULL);
    uint16_t port = http_server_port(srv);
    void *curl = curl_easy_init();
    http_resp r;
    for (int i = 0; i < 3; i++) {
        http_req req = {.path = "/v1/logs", .headers = PB, .body = "abcd", .len = 4};
        http_do(port, &req, &r, curl);
        http_resp_free(&r);
    }
    http_req nope = {.path = "/nope"};
    http_do(port, &nope, &r, curl);
    http_resp_free(&r);
    http_sink_answer(&sink, O2P_EBUSY, 0, NULL);
    http_req busy = {.path = "/v1/traces", .headers = JSON, .body = "x", .len = 1};
    http_do(port, &busy, &r, curl);
    http_resp_free(&r);
    http_req metrics = {.path = "/metrics"};
    http_do(port, &metrics, &r, curl);
    CHECK_INT(r.status, 200);
    CHECK_STR(http_resp_header(&r, "Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
    const char *text = (const char *)r.body.data;
    const char *want[] = {
        "# TYPE otlp2parquet_http_requests_total counter\n",
        "otlp2parquet_http_requests_total{route=\"/v1/logs\",status=\"200\"} 3\n",
        "otlp2parquet_http_requests_total{route=\"/v1/traces\",status=\"429\"} 1\n",
        "otlp2parquet_http_requests_total{route=\"other\",status=\"404\"} 1\n",
        "# TYPE otlp2parquet_http_request_duration_seconds histogram\n",
        "otlp2parquet_http_request_duration_seconds_bucket{route=\"/v1/logs\",le=\"+Inf\"} 3\n",
        "otlp2parquet_http_request_duration_seconds_count{route=\"/v1/logs\"} 3\n",
        "otlp2parquet_http_request_duration_seconds_count{route=\"/v1/metrics\"} 0\n",
        "otlp2parquet_http_request_body_bytes_total{route=\"/v1/logs\"} 12\n",
        "otlp2parquet_http_request_decompressed_bytes_total{route=\"/v1/logs\"} 12\n",
        "otlp2parquet_http_requests_in_flight 1\n", /* this very request */
        "test_extra_metric 42\n",
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        CHECK_MSG(strstr(text, want[i]) != NULL, "missing %s in:\n%s", want[i], text);
    http_resp_free(&r);
    curl_easy_cleanup(curl);
    CHECK_INT(http_metrics_requests(http_server_metrics(srv), HTTP_ROUTE_LOGS, 200), 3);
    http_server_stop(srv);
    http_sink_free(&sink);
}

/* The value of an unlabelled sample in a /metrics text, or -1. */
static long long metric_value(const char *text, const char *name)
{
    char key[128];
    snprintf(key, sizeof key, "\n%s ", name);
    const char *p = strstr(text, key);
    return p ? strtoll(p + strlen(key), NULL, 10) : -1;
}

/* Body buffers follow the requests, not the connections: 20 keep-alive
 * connections, each of which has sent a 200 KB body and now idles, leave
 * one buffer behind (the thread's spare that each request reused), not 20. */
TEST(http_idle_connections_hold_no_body_buffer)
{
    enum { CONNS = 20, BODY = 200000 };
    http_sink sink;
    http_sink_init(&sink);
    http_server *srv = http_test_server(&sink, 0, 1, NULL);
    uint16_t port = http_server_port(srv);
    uint8_t *body = make_payload(BODY);
    void *curl[CONNS];
    for (int i = 0; i < CONNS; i++) {
        curl[i] = curl_easy_init();
        http_req req = {.path = "/v1/logs", .headers = PB, .body = body, .len = BODY};
        http_resp r;
        http_do(port, &req, &r, curl[i]);
        CHECK_INT(r.status, 200);
        http_resp_free(&r);
    }
    for (int i = 0; i < CONNS; i++) {
        /* the connections are still open: a second request needs none new */
        http_req req = {.path = "/v1/logs", .headers = PB, .body = body, .len = BODY};
        http_resp r;
        http_do(port, &req, &r, curl[i]);
        CHECK_INT(r.new_connections, 0);
        http_resp_free(&r);
    }
    http_resp r;
    get(port, "GET", "/metrics", &r);
    CHECK_INT(r.status, 200);
    long long held = metric_value((const char *)r.body.data, "otlp2parquet_http_body_buffer_bytes");
    CHECK_MSG(held >= BODY && held < 2 * (long long)BODY, "body buffers held: %lld bytes", held);
    http_resp_free(&r);
    for (int i = 0; i < CONNS; i++) curl_easy_cleanup(curl[i]);
    sink_sync(&sink);
    CHECK_INT(sink.calls, 2 * CONNS);
    http_server_stop(srv);
    mem_free(body);
    http_sink_free(&sink);
}

TEST(http_keepalive_and_thread_index)
{
    http_sink sink;
    http_sink_init(&sink);
    http_server *srv = http_test_server(&sink, 0, 3, NULL);
    CHECK_INT(http_server_threads(srv), 3);
    uint16_t port = http_server_port(srv);
    void *curl = curl_easy_init();
    for (int i = 0; i < 20; i++) {
        http_req req = {.path = "/v1/logs", .headers = PB, .body = "x", .len = 1};
        http_resp r;
        http_do(port, &req, &r, curl);
        CHECK_INT(r.status, 200);
        if (i > 0) CHECK_INT(r.new_connections, 0);
        http_resp_free(&r);
    }
    curl_easy_cleanup(curl);
    sink_sync(&sink);
    CHECK(sink.max_thread_index < 3);
    http_server_stop(srv);
    http_sink_free(&sink);
}

/* Which thread served the last request. */
typedef struct thread_probe {
    pthread_mutex_t lock;
    pthread_t last;
} thread_probe;

static int probe_ingest(void *ctx, unsigned thread_index, otlp_signal signal, otlp_format format,
                        const uint8_t *body, size_t len, http_ingest_reply *reply, o2p_error *err)
{
    (void)thread_index, (void)signal, (void)format, (void)body, (void)len, (void)reply, (void)err;
    thread_probe *p = ctx;
    pthread_mutex_lock(&p->lock);
    p->last = pthread_self();
    pthread_mutex_unlock(&p->lock);
    return O2P_OK;
}

/* As many keep-alive connections as pool threads, opened one after the
 * other: each is served by one thread, and no two share one (the pool
 * threads used to race for the listening socket, and one could take all). */
TEST(http_connections_spread_over_threads)
{
    enum { THREADS = 3, ROUNDS = 3 };
    thread_probe probe = {.lock = PTHREAD_MUTEX_INITIALIZER};
    http_config cfg = {.listen_addr = "127.0.0.1:0", .threads = THREADS};
    http_handlers h = {.ctx = &probe, .ingest = probe_ingest};
    http_server *srv = NULL;
    o2p_error err;
    o2p_error_clear(&err);
    CHECK_MSG(http_server_start(&srv, &cfg, &h, &err) == 0, "http_server_start: %s", err.msg);
    uint16_t port = http_server_port(srv);
    void *curl[THREADS];
    pthread_t served[THREADS];
    for (int round = 0; round < ROUNDS; round++) {
        for (int i = 0; i < THREADS; i++) {
            if (round == 0) curl[i] = curl_easy_init();
            http_req req = {.path = "/v1/logs", .headers = PB, .body = "x", .len = 1};
            http_resp r;
            http_do(port, &req, &r, curl[i]);
            CHECK_INT(r.status, 200);
            CHECK_INT(r.new_connections, round == 0 ? 1 : 0);
            http_resp_free(&r);
            pthread_mutex_lock(&probe.lock);
            pthread_t t = probe.last;
            pthread_mutex_unlock(&probe.lock);
            if (round == 0)
                served[i] = t;
            else
                CHECK_MSG(pthread_equal(served[i], t), "connection %d moved to another thread", i);
        }
    }
    for (int i = 0; i < THREADS; i++)
        for (int j = i + 1; j < THREADS; j++)
            CHECK_MSG(!pthread_equal(served[i], served[j]),
                      "connections %d and %d were served by the same thread", i, j);
    for (int i = 0; i < THREADS; i++) curl_easy_cleanup(curl[i]);
    http_server_stop(srv);
}

typedef struct slow_client {
    uint16_t port;
    long status;
} slow_client;

static void *slow_client_run(void *arg)
{
    slow_client *sc = arg;
    http_req req = {.path = "/v1/logs", .headers = JSON, .body = "{}", .len = 2};
    http_resp r;
    http_do(sc->port, &req, &r, NULL);
    sc->status = r.status;
    http_resp_free(&r);
    return NULL;
}

TEST(http_graceful_stop)
{
    http_sink sink;
    http_sink_init(&sink);
    sink.sleep_ms = 400;
    http_server *srv = http_test_server(&sink, 0, 2, NULL);
    slow_client sc = {http_server_port(srv), 0};
    pthread_t t;
    CHECK_OK(pthread_create(&t, NULL, slow_client_run, &sc));
    for (int i = 0; i < UNIT_POLLS_10MS && !atomic_load(&sink.entered); i++) {
        struct timespec ts = {0, 10000000};
        nanosleep(&ts, NULL);
    }
    CHECK(atomic_load(&sink.entered));
    http_server_stop(srv);
    /* stop returned only after the in-flight request was answered */
    CHECK_INT(atomic_load(&sink.calls), 1);
    pthread_join(t, NULL);
    CHECK_INT(sc.status, 200);
    /* and nothing listens any more */
    http_resp r;
    get(sc.port, "GET", "/health", &r);
    CHECK_INT(r.status, 0);
    http_resp_free(&r);
    http_sink_free(&sink);
}

static int never_ingest(void *ctx, unsigned thread_index, otlp_signal signal, otlp_format format,
                        const uint8_t *body, size_t len, http_ingest_reply *reply, o2p_error *err)
{
    (void)ctx, (void)thread_index, (void)signal, (void)format, (void)body, (void)len, (void)reply;
    return o2p_errorf(err, O2P_EINVAL, "unreachable");
}

TEST(http_listen_addr_errors)
{
    http_sink sink;
    http_sink_init(&sink);
    http_server *srv = http_test_server(&sink, 0, 1, NULL);
    char busy[64];
    snprintf(busy, sizeof busy, "127.0.0.1:%u", http_server_port(srv));
    o2p_error err;
    http_server *other = NULL;
    http_handlers no_ingest = {0};
    http_config any = {.listen_addr = "127.0.0.1:0"};
    CHECK_INT(http_server_start(&other, &any, &no_ingest, &err), O2P_EINVAL);
    CHECK(other == NULL);

    const char *bad[] = {"nonsense", "127.0.0.1:99999", "127.0.0.1:", "[::1", "999.1.1.1:80", busy};
    http_handlers h = {.ingest = never_ingest};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        http_config cfg = {.listen_addr = bad[i]};
        CHECK_MSG(http_server_start(&other, &cfg, &h, &err) < 0, "'%s' accepted", bad[i]);
        CHECK(other == NULL);
        CHECK_MSG(strstr(err.msg, bad[i]) != NULL, "%s", err.msg);
    }
    CHECK_MSG(strstr(err.msg, "in use") != NULL, "%s", err.msg);
    http_server_stop(srv);
    http_sink_free(&sink);
}

/* An allocation failure while a body arrives is the server's problem, not
 * the client's: 503 with Retry-After, never 500, and the server lives on. */
TEST(http_out_of_memory_is_503)
{
    http_sink sink;
    http_sink_init(&sink);
    http_server *srv = http_test_server(&sink, 0, 1, NULL);
    uint16_t port = http_server_port(srv);
    void *curl = curl_easy_init();
    uint8_t *body = make_payload(100000);
    http_req small = {.path = "/v1/logs", .headers = PB, .body = body, .len = 10};
    http_req large = {.path = "/v1/logs", .headers = PB, .body = body, .len = 100000};
    http_resp r;
    http_do(port, &small, &r, curl);
    CHECK_INT(r.status, 200);
    http_resp_free(&r);
    /* the connection's buffer must grow for this body; make that fail */
    mem_fail_after(0);
    http_do(port, &large, &r, curl);
    mem_fail_after(-1);
    /* (the test's own capture buffers cannot grow either: status only) */
    CHECK_INT(r.status, 503);
    http_resp_free(&r);
    http_do(port, &large, &r, curl);
    CHECK_INT(r.status, 200);
    http_resp_free(&r);
    curl_easy_cleanup(curl);
    mem_free(body);
    http_server_stop(srv);
    http_sink_free(&sink);
}

TEST(http_listen_ipv6)
{
    http_sink sink;
    http_sink_init(&sink);
    http_config cfg = {.listen_addr = "[::1]:0", .threads = 1};
    http_handlers h = {.ctx = &sink, .ingest = never_ingest};
    http_server *srv = NULL;
    o2p_error err;
    if (http_server_start(&srv, &cfg, &h, &err) < 0) {
        printf("SKIP http_listen_ipv6: %s\n", err.msg); /* no IPv6 loopback here */
        http_sink_free(&sink);
        return;
    }
    CURL *curl = curl_easy_init();
    char url[64];
    snprintf(url, sizeof url, "http://[::1]:%u/health", http_server_port(srv));
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
    CHECK_INT(curl_easy_perform(curl), CURLE_OK);
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    CHECK_INT(status, 200);
    curl_easy_cleanup(curl);
    http_server_stop(srv);
    http_sink_free(&sink);
}
