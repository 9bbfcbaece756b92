/*
 * grpc_frame: length-prefixed messages, encodings, status mapping and
 * trailer values for the gRPC server (see grpc_frame.h).
 *
 * The Status detail is written by hand like the other tiny protobufs in
 * http_response.c:
 *   google.rpc.Status    { int32 code = 1; string message = 2; repeated Any details = 3; }
 *   google.protobuf.Any  { string type_url = 1; bytes value = 2; }
 *   google.rpc.RetryInfo { google.protobuf.Duration retry_delay = 1; }
 *   Duration             { int64 seconds = 1; int32 nanos = 2; }
 */
#include "server/grpc_frame.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/codec_text.h"

#define GRPC_RETRY_INFO_URL "type.googleapis.com/google.rpc.RetryInfo"

int grpc_route(const char *path, size_t len, otlp_signal *out)
{
    static const struct {
        const char *path;
        otlp_signal signal;
    } routes[] = {
        {"/opentelemetry.proto.collector.logs.v1.LogsService/Export", OTLP_LOGS},
        {"/opentelemetry.proto.collector.trace.v1.TraceService/Export", OTLP_TRACES},
        {"/opentelemetry.proto.collector.metrics.v1.MetricsService/Export", OTLP_METRICS},
    };
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        if (strlen(routes[i].path) == len && memcmp(routes[i].path, path, len) == 0) {
            *out = routes[i].signal;
            return O2P_OK;
        }
    }
    return O2P_EUNSUPPORTED;
}

int grpc_encoding_parse(const char *value, size_t len, http_encoding *out)
{
    static const struct {
        const char *name;
        http_encoding enc;
    } names[] = {{"identity", HTTP_ENC_IDENTITY},
                 {"gzip", HTTP_ENC_GZIP},
                 {"deflate", HTTP_ENC_DEFLATE},
                 {"zstd", HTTP_ENC_ZSTD},
                 {"snappy", HTTP_ENC_SNAPPY}};
    if (value == NULL || len == 0) {
        *out = HTTP_ENC_IDENTITY;
        return O2P_OK;
    }
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (strlen(names[i].name) == len && strncasecmp(names[i].name, value, len) == 0) {
            *out = names[i].enc;
            return O2P_OK;
        }
    }
    return O2P_EUNSUPPORTED;
}

int grpc_message_parse(const uint8_t *body, size_t len, size_t limit, grpc_message *out,
                       o2p_error *err)
{
    memset(out, 0, sizeof *out);
    if (len == 0) return o2p_errorf(err, O2P_EINVAL, "grpc: request has no message");
    if (len < GRPC_PREFIX_LEN)
        return o2p_errorf(err, O2P_EINVAL, "grpc: message prefix truncated (%zu of 5 bytes)", len);
    if (body[0] > 1)
        return o2p_errorf(err, O2P_EINVAL,
                          "grpc: message prefix has compressed flag %u; expected 0 or 1",
                          (unsigned)body[0]);
    size_t declared = ((size_t)body[1] << 24) | ((size_t)body[2] << 16) | ((size_t)body[3] << 8) |
                      (size_t)body[4];
    if (declared > limit)
        return o2p_errorf(err, O2P_ELIMIT, "grpc: message of %zu bytes exceeds the %zu byte limit",
                          declared, limit);
    size_t avail = len - GRPC_PREFIX_LEN;
    if (declared > avail)
        return o2p_errorf(err, O2P_EINVAL,
                          "grpc: message declares %zu bytes but the stream ended after %zu",
                          declared, avail);
    if (declared < avail)
        return o2p_errorf(err, O2P_EINVAL,
                          "grpc: %zu bytes after the message; a unary call carries exactly one",
                          avail - declared);
    out->compressed = body[0];
    out->data = body + GRPC_PREFIX_LEN;
    out->len = declared;
    return O2P_OK;
}

int grpc_prefix_append(o2p_buf *out, size_t len)
{
    uint8_t p[GRPC_PREFIX_LEN] = {0, (uint8_t)(len >> 24), (uint8_t)(len >> 16),
                                  (uint8_t)(len >> 8), (uint8_t)len};
    return buf_append(out, p, sizeof p);
}

int grpc_status_of(int rc)
{
    switch (rc) {
    case O2P_OK:
        return HTTP_GRPC_OK;
    case O2P_EINVAL:
        return HTTP_GRPC_INVALID_ARGUMENT;
    case O2P_EBUSY:
    case O2P_ELIMIT:
        return HTTP_GRPC_RESOURCE_EXHAUSTED;
    case O2P_EAUTH:
        return HTTP_GRPC_UNAUTHENTICATED;
    case O2P_EUNSUPPORTED:
        return HTTP_GRPC_UNIMPLEMENTED;
    default:
        return HTTP_GRPC_UNAVAILABLE;
    }
}

int grpc_status_retryable(int rc)
{
    return rc == O2P_EBUSY || (rc < 0 && grpc_status_of(rc) == HTTP_GRPC_UNAVAILABLE);
}

int grpc_message_encode(o2p_buf *out, const char *msg)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)(msg ? msg : ""); *p; p++) {
        if (*p >= 0x20 && *p <= 0x7e && *p != '%') {
            O2P_TRY(buf_push_byte(out, *p));
        } else {
            char esc[3] = {'%', hex[*p >> 4], hex[*p & 15]};
            O2P_TRY(buf_append(out, esc, 3));
        }
    }
    return O2P_OK;
}

static size_t grpc_varint_put(uint8_t *dst, uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        dst[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    dst[n++] = (uint8_t)v;
    return n;
}

/* Appends tag + length + bytes for a length-delimited field. */
static int grpc_put_bytes(o2p_buf *out, unsigned field, const void *data, size_t len)
{
    uint8_t hdr[12];
    size_t n = grpc_varint_put(hdr, (uint64_t)(field << 3 | 2));
    n += grpc_varint_put(hdr + n, len);
    O2P_TRY(buf_append(out, hdr, n));
    return buf_append(out, data, len);
}

int grpc_status_details(o2p_buf *out, int code, const char *message, int retry_secs)
{
    o2p_buf st;
    buf_init(&st, 0);
    int rc = http_response_status(&st, 0, code, message);
    if (rc == 0 && retry_secs > 0) {
        uint8_t dur[12], info[16];
        size_t dn = 0;
        dur[dn++] = 0x08; /* Duration.seconds */
        dn += grpc_varint_put(dur + dn, (uint64_t)retry_secs);
        size_t in = 0;
        info[in++] = 0x0a; /* RetryInfo.retry_delay */
        info[in++] = (uint8_t)dn;
        memcpy(info + in, dur, dn);
        in += dn;
        o2p_buf any;
        buf_init(&any, 0);
        rc = grpc_put_bytes(&any, 1, GRPC_RETRY_INFO_URL, strlen(GRPC_RETRY_INFO_URL));
        if (rc == 0) rc = grpc_put_bytes(&any, 2, info, in);
        if (rc == 0) rc = grpc_put_bytes(&st, 3, any.data, any.len);
        buf_free(&any);
    }
    if (rc == 0) rc = base64_append(out, st.data, st.len);
    buf_free(&st);
    return rc;
}
