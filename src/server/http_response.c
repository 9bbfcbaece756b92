/*
 * http_response: OTLP export responses and google.rpc.Status bodies (see
 * http_response.h).
 *
 * The protobuf forms are tiny and fixed, so they are written by hand here
 * rather than through a generic encoder:
 *   Export*ServiceResponse { Export*PartialSuccess partial_success = 1; }
 *   Export*PartialSuccess  { int64 rejected_<items> = 1; string error_message = 2; }
 *   google.rpc.Status      { int32 code = 1; string message = 2; }
 */
#include "server/http_response.h"

#include <string.h>

#include "core/codec_text.h"

#define HTTP_MSG_MAX 1024

int http_grpc_code(unsigned http_status)
{
    switch (http_status) {
    case 200:
        return HTTP_GRPC_OK;
    case 400:
        return HTTP_GRPC_INVALID_ARGUMENT;
    case 401:
        return HTTP_GRPC_UNAUTHENTICATED;
    case 404:
        return HTTP_GRPC_NOT_FOUND;
    case 405:
    case 415:
        return HTTP_GRPC_UNIMPLEMENTED;
    case 413:
    case 429:
        return HTTP_GRPC_RESOURCE_EXHAUSTED;
    case 502:
    case 503:
    case 504:
        return HTTP_GRPC_UNAVAILABLE;
    default:
        return http_status >= 500 ? HTTP_GRPC_INTERNAL : HTTP_GRPC_INVALID_ARGUMENT;
    }
}

static size_t http_varint_len(uint64_t v)
{
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

static int http_put_varint(o2p_buf *out, uint64_t v)
{
    uint8_t tmp[10];
    size_t n = 0;
    while (v >= 0x80) {
        tmp[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    tmp[n++] = (uint8_t)v;
    return buf_append(out, tmp, n);
}

/* Messages can quote client input (a field name, a header value); both
 * protobuf strings and JSON must be UTF-8, so bytes that do not form a valid
 * character become '?' instead of making the whole error body invalid. */
static size_t http_sanitize(const char *msg, char *out, size_t out_cap)
{
    size_t len = msg ? strlen(msg) : 0;
    if (len > out_cap) len = utf8_truncate((const uint8_t *)msg, len, out_cap);
    const uint8_t *p = (const uint8_t *)msg;
    size_t i = 0;
    while (i < len) {
        size_t seq = p[i] < 0x80 ? 1 : p[i] >= 0xf0 ? 4 : p[i] >= 0xe0 ? 3 : 2;
        if (seq <= len - i && utf8_valid(p + i, seq)) {
            memcpy(out + i, p + i, seq);
            i += seq;
        } else {
            out[i++] = '?';
        }
    }
    return len;
}

static const char *http_rejected_json_name(otlp_signal signal)
{
    switch (signal) {
    case OTLP_TRACES:
        return "rejectedSpans";
    case OTLP_METRICS:
        return "rejectedDataPoints";
    default:
        return "rejectedLogRecords";
    }
}

int http_response_export(o2p_buf *out, otlp_signal signal, int json, uint64_t rejected,
                         const char *message)
{
    char msg[HTTP_MSG_MAX];
    size_t msg_len = http_sanitize(message, msg, sizeof msg);
    if (rejected == 0 && msg_len == 0) return json ? buf_append(out, "{}", 2) : O2P_OK;

    if (json) {
        /* The proto3 JSON mapping writes int64 as a decimal string and omits
         * fields holding their default value. */
        O2P_TRY(buf_append_str(out, "{\"partialSuccess\":{"));
        if (rejected > 0)
            O2P_TRY(buf_printf(out, "\"%s\":\"%llu\"", http_rejected_json_name(signal),
                               (unsigned long long)rejected));
        if (msg_len > 0) {
            if (rejected > 0) O2P_TRY(buf_push_byte(out, ','));
            O2P_TRY(buf_append_str(out, "\"errorMessage\":"));
            O2P_TRY(json_append_string(out, msg, msg_len));
        }
        return buf_append(out, "}}", 2);
    }

    size_t inner = 0;
    if (rejected > 0) inner += 1 + http_varint_len(rejected);
    if (msg_len > 0) inner += 1 + http_varint_len(msg_len) + msg_len;
    O2P_TRY(buf_push_byte(out, 0x0a)); /* field 1, length-delimited */
    O2P_TRY(http_put_varint(out, inner));
    if (rejected > 0) {
        O2P_TRY(buf_push_byte(out, 0x08)); /* field 1, varint */
        O2P_TRY(http_put_varint(out, rejected));
    }
    if (msg_len > 0) {
        O2P_TRY(buf_push_byte(out, 0x12)); /* field 2, length-delimited */
        O2P_TRY(http_put_varint(out, msg_len));
        O2P_TRY(buf_append(out, msg, msg_len));
    }
    return O2P_OK;
}

int http_response_status(o2p_buf *out, int json, int grpc_code, const char *message)
{
    char msg[HTTP_MSG_MAX];
    size_t msg_len = http_sanitize(message, msg, sizeof msg);
    if (json) {
        O2P_TRY(buf_printf(out, "{\"code\":%d,\"message\":", grpc_code));
        O2P_TRY(json_append_string(out, msg, msg_len));
        return buf_push_byte(out, '}');
    }
    if (grpc_code != 0) {
        O2P_TRY(buf_push_byte(out, 0x08));
        /* int32 on the wire: negative values sign-extend to 64 bits. */
        O2P_TRY(http_put_varint(out, (uint64_t)(int64_t)grpc_code));
    }
    if (msg_len > 0) {
        O2P_TRY(buf_push_byte(out, 0x12));
        O2P_TRY(http_put_varint(out, msg_len));
        O2P_TRY(buf_append(out, msg, msg_len));
    }
    return O2P_OK;
}
