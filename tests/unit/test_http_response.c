/* Tests for http_response: the exact bytes of OTLP export responses and
 * google.rpc.Status, worked out by hand from the .proto definitions. */
#include "server/http_response.h"
#include "unit.h"

TEST(http_response_export_empty)
{
    o2p_buf b;
    buf_init(&b, 0);
    CHECK_OK(http_response_export(&b, OTLP_LOGS, 0, 0, NULL));
    CHECK_INT(b.len, 0);
    CHECK_OK(http_response_export(&b, OTLP_TRACES, 1, 0, ""));
    CHECK_MEM(b.data, b.len, "{}", 2);
    buf_free(&b);
}

TEST(http_response_export_partial_protobuf)
{
    o2p_buf b;
    buf_init(&b, 0);
    /* partial_success (1, LEN 7) { rejected (1, VARINT) 3; error_message (2, LEN 3) "bad" } */
    CHECK_OK(http_response_export(&b, OTLP_LOGS, 0, 3, "bad"));
    CHECK_BYTES(b.data, b.len, 0x0a, 0x07, 0x08, 0x03, 0x12, 0x03, 'b', 'a', 'd');
    buf_reset(&b);
    /* 300 = 0b10_0101100 -> varint 0xac 0x02 */
    CHECK_OK(http_response_export(&b, OTLP_METRICS, 0, 300, NULL));
    CHECK_BYTES(b.data, b.len, 0x0a, 0x03, 0x08, 0xac, 0x02);
    buf_reset(&b);
    /* message only: a warning without rejections */
    CHECK_OK(http_response_export(&b, OTLP_TRACES, 0, 0, "w"));
    CHECK_BYTES(b.data, b.len, 0x0a, 0x03, 0x12, 0x01, 'w');
    buf_free(&b);
}

TEST(http_response_export_partial_json)
{
    o2p_buf b;
    buf_init(&b, 0);
    CHECK_OK(http_response_export(&b, OTLP_LOGS, 1, 3, "bad \"x\""));
    buf_push_byte(&b, 0);
    CHECK_STR(
        (char *)b.data,
        "{\"partialSuccess\":{\"rejectedLogRecords\":\"3\",\"errorMessage\":\"bad \\\"x\\\"\"}}");
    buf_reset(&b);
    CHECK_OK(http_response_export(&b, OTLP_TRACES, 1, 2, NULL));
    buf_push_byte(&b, 0);
    CHECK_STR((char *)b.data, "{\"partialSuccess\":{\"rejectedSpans\":\"2\"}}");
    buf_reset(&b);
    CHECK_OK(http_response_export(&b, OTLP_METRICS, 1, 18446744073709551615ull, "m"));
    buf_push_byte(&b, 0);
    CHECK_STR((char *)b.data, "{\"partialSuccess\":{\"rejectedDataPoints\":"
                              "\"18446744073709551615\",\"errorMessage\":\"m\"}}");
    buf_free(&b);
}

TEST(http_response_status_encodings)
{
    o2p_buf b;
    buf_init(&b, 0);
    /* code (1, VARINT) 3; message (2, LEN 2) "no" */
    CHECK_OK(http_response_status(&b, 0, 3, "no"));
    CHECK_BYTES(b.data, b.len, 0x08, 0x03, 0x12, 0x02, 'n', 'o');
    buf_reset(&b);
    CHECK_OK(http_response_status(&b, 1, 8, "too\nbig"));
    buf_push_byte(&b, 0);
    CHECK_STR((char *)b.data, "{\"code\":8,\"message\":\"too\\nbig\"}");
    buf_reset(&b);
    /* invalid UTF-8 from client input is replaced, keeping the body valid */
    CHECK_OK(http_response_status(&b, 0, 16,
                                  "a\xff"
                                  "b\xc3"));
    CHECK_BYTES(b.data, b.len, 0x08, 0x10, 0x12, 0x04, 'a', '?', 'b', '?');
    buf_reset(&b);
    CHECK_OK(http_response_status(&b, 1, 3, "caf\xc3\xa9"));
    buf_push_byte(&b, 0);
    CHECK_STR((char *)b.data, "{\"code\":3,\"message\":\"caf\xc3\xa9\"}");
    buf_free(&b);
}

TEST(http_response_grpc_codes)
{
    CHECK_INT(http_grpc_code(400), 3);
    CHECK_INT(http_grpc_code(401), 16);
    CHECK_INT(http_grpc_code(404), 5);
    CHECK_INT(http_grpc_code(405), 12);
    CHECK_INT(http_grpc_code(413), 8);
    CHECK_INT(http_grpc_code(415), 12);
    CHECK_INT(http_grpc_code(429), 8);
    CHECK_INT(http_grpc_code(503), 14);
}
