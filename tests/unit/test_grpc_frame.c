/* Tests for grpc_frame: message prefixes, routes, encodings, the status
 * mapping and the trailer values, byte for byte. */
#include <string.h>

#include "core/codec_text.h"
#include "server/grpc_frame.h"
#include "unit.h"

TEST(grpc_message_parse_one_message)
{
    o2p_error err;
    grpc_message m;
    const uint8_t body[] = {0, 0, 0, 0, 3, 'a', 'b', 'c'};
    CHECK_OK(grpc_message_parse(body, sizeof body, 100, &m, &err));
    CHECK_INT(m.compressed, 0);
    CHECK_MEM(m.data, m.len, "abc", 3);
    const uint8_t zipped[] = {1, 0, 0, 0, 1, 'z'};
    CHECK_OK(grpc_message_parse(zipped, sizeof zipped, 100, &m, &err));
    CHECK_INT(m.compressed, 1);
    CHECK_INT(m.len, 1);
    const uint8_t empty[] = {0, 0, 0, 0, 0};
    CHECK_OK(grpc_message_parse(empty, sizeof empty, 100, &m, &err));
    CHECK_INT(m.len, 0);
}

TEST(grpc_message_parse_refuses_bad_frames)
{
    o2p_error err;
    grpc_message m;
    CHECK_INT(grpc_message_parse(NULL, 0, 100, &m, &err), O2P_EINVAL);
    CHECK(strstr(err.msg, "no message") != NULL);
    const uint8_t shortp[] = {0, 0};
    CHECK_INT(grpc_message_parse(shortp, sizeof shortp, 100, &m, &err), O2P_EINVAL);
    CHECK(strstr(err.msg, "prefix truncated (2 of 5 bytes)") != NULL);
    const uint8_t flag[] = {2, 0, 0, 0, 0};
    CHECK_INT(grpc_message_parse(flag, sizeof flag, 100, &m, &err), O2P_EINVAL);
    CHECK(strstr(err.msg, "compressed flag 2") != NULL);
    const uint8_t past[] = {0, 0, 0, 0, 9, 'a'};
    CHECK_INT(grpc_message_parse(past, sizeof past, 100, &m, &err), O2P_EINVAL);
    CHECK(strstr(err.msg, "declares 9 bytes but the stream ended after 1") != NULL);
    const uint8_t two[] = {0, 0, 0, 0, 1, 'a', 0, 0, 0, 0, 0};
    CHECK_INT(grpc_message_parse(two, sizeof two, 100, &m, &err), O2P_EINVAL);
    CHECK(strstr(err.msg, "5 bytes after the message") != NULL);
    const uint8_t huge[] = {0, 0xff, 0xff, 0xff, 0xff};
    CHECK_INT(grpc_message_parse(huge, sizeof huge, 100, &m, &err), O2P_ELIMIT);
    CHECK(strstr(err.msg, "4294967295 bytes exceeds the 100 byte limit") != NULL);
}

TEST(grpc_prefix_append_big_endian)
{
    o2p_buf b;
    buf_init(&b, 0);
    CHECK_OK(grpc_prefix_append(&b, 0x01020304));
    CHECK_BYTES(b.data, b.len, 0, 1, 2, 3, 4);
    buf_free(&b);
}

TEST(grpc_route_and_encoding)
{
    otlp_signal s;
    const char *p = "/opentelemetry.proto.collector.trace.v1.TraceService/Export";
    CHECK_OK(grpc_route(p, strlen(p), &s));
    CHECK_INT(s, OTLP_TRACES);
    p = "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export";
    CHECK_OK(grpc_route(p, strlen(p), &s));
    CHECK_INT(s, OTLP_METRICS);
    p = "/opentelemetry.proto.collector.logs.v1.LogsService/Export";
    CHECK_OK(grpc_route(p, strlen(p), &s));
    CHECK_INT(s, OTLP_LOGS);
    CHECK_INT(grpc_route(p, strlen(p) - 1, &s), O2P_EUNSUPPORTED);
    CHECK_INT(grpc_route("/x", 2, &s), O2P_EUNSUPPORTED);

    http_encoding e;
    CHECK_OK(grpc_encoding_parse(NULL, 0, &e));
    CHECK_INT(e, HTTP_ENC_IDENTITY);
    CHECK_OK(grpc_encoding_parse("gzip", 4, &e));
    CHECK_INT(e, HTTP_ENC_GZIP);
    CHECK_OK(grpc_encoding_parse("zstd", 4, &e));
    CHECK_INT(e, HTTP_ENC_ZSTD);
    CHECK_OK(grpc_encoding_parse("deflate", 7, &e));
    CHECK_INT(e, HTTP_ENC_DEFLATE);
    CHECK_OK(grpc_encoding_parse("snappy", 6, &e));
    CHECK_INT(e, HTTP_ENC_SNAPPY);
    CHECK_OK(grpc_encoding_parse("identity", 8, &e));
    CHECK_INT(e, HTTP_ENC_IDENTITY);
    CHECK_INT(grpc_encoding_parse("br", 2, &e), O2P_EUNSUPPORTED);
    CHECK_INT(grpc_encoding_parse("gzipx", 5, &e), O2P_EUNSUPPORTED);
}

TEST(grpc_status_mapping)
{
    CHECK_INT(grpc_status_of(O2P_OK), 0);
    CHECK_INT(grpc_status_of(O2P_EINVAL), 3);
    CHECK_INT(grpc_status_of(O2P_EBUSY), 8);
    CHECK_INT(grpc_status_of(O2P_ELIMIT), 8);
    CHECK_INT(grpc_status_of(O2P_EAUTH), 16);
    CHECK_INT(grpc_status_of(O2P_EUNSUPPORTED), 12);
    CHECK_INT(grpc_status_of(O2P_EIO), 14);
    CHECK_INT(grpc_status_of(O2P_ENOMEM), 14);
    CHECK(grpc_status_retryable(O2P_EBUSY));
    CHECK(grpc_status_retryable(O2P_EIO));
    CHECK(!grpc_status_retryable(O2P_ELIMIT));
    CHECK(!grpc_status_retryable(O2P_EINVAL));
    CHECK(!grpc_status_retryable(O2P_OK));
}

TEST(grpc_message_percent_encoding)
{
    o2p_buf b;
    buf_init(&b, 0);
    CHECK_OK(grpc_message_encode(&b, "50% of \"x\"\n\xc3\xa9"));
    CHECK_MEM(b.data, b.len, "50%25 of \"x\"%0A%C3%A9", 21);
    buf_free(&b);
}

TEST(grpc_status_details_retry_info)
{
    o2p_buf b;
    buf_init(&b, 0);
    CHECK_OK(grpc_status_details(&b, 8, "full", 3));
    uint8_t raw[256];
    size_t n;
    CHECK_OK(base64_decode((const char *)b.data, b.len, raw, sizeof raw, &n));
    /* Status{code 8, message "full", details [Any{type_url, value RetryInfo{retry_delay{3s}}}]} */
    static const char url[] = "type.googleapis.com/google.rpc.RetryInfo";
    uint8_t want[128];
    size_t w = 0;
    const uint8_t head[] = {0x08, 0x08, 0x12, 0x04,           'f',  'u',
                            'l',  'l',  0x1a, 2 + 40 + 2 + 4, 0x0a, 40};
    memcpy(want, head, sizeof head);
    w = sizeof head;
    memcpy(want + w, url, 40);
    w += 40;
    const uint8_t tail[] = {0x12, 0x04, 0x0a, 0x02, 0x08, 0x03};
    memcpy(want + w, tail, sizeof tail);
    w += sizeof tail;
    CHECK_MEM(raw, n, want, w);

    buf_reset(&b);
    CHECK_OK(grpc_status_details(&b, 3, "bad", 0));
    CHECK_OK(base64_decode((const char *)b.data, b.len, raw, sizeof raw, &n));
    CHECK_BYTES(raw, n, 0x08, 0x03, 0x12, 0x03, 'b', 'a', 'd');
    buf_free(&b);
}
