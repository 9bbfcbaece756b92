/*
 * grpc_frame: the gRPC layer above HTTP/2 for unary OTLP calls — the
 * 5-byte length-prefixed message, grpc-encoding names, the status a
 * library result maps to, and the trailer values (grpc-message
 * percent-encoding, google.rpc.Status with RetryInfo for
 * grpc-status-details-bin).
 *
 * Everything here is pure: no sockets, no HTTP/2, so it is unit-tested and
 * fuzzed on its own.
 */
#ifndef O2P_SERVER_GRPC_FRAME_H
#define O2P_SERVER_GRPC_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/error.h"
#include "otlp/otlp.h"
#include "server/http_decompress.h"
#include "server/http_response.h" /* HTTP_GRPC_* status codes */

#define GRPC_PREFIX_LEN 5

/* The signal a :path names: "/opentelemetry.proto.collector.logs.v1.
 * LogsService/Export" and its trace and metrics siblings.  O2P_EUNSUPPORTED
 * for any other path. */
int grpc_route(const char *path, size_t len, otlp_signal *out);

/* Parses a grpc-encoding value: NULL/""/"identity" -> identity, "gzip",
 * "deflate", "zstd", "snappy" (the framing format).  Anything else is O2P_EUNSUPPORTED. */
int grpc_encoding_parse(const char *value, size_t len, http_encoding *out);

/* What grpc-accept-encoding advertises. */
#define GRPC_ACCEPT_ENCODING "identity,gzip,deflate,zstd,snappy"

typedef struct grpc_message {
    int compressed;      /* the prefix's compressed flag */
    const uint8_t *data; /* the message bytes, inside the parsed body */
    size_t len;
} grpc_message;

/* Splits a unary request body into its one message.  Errors (O2P_EINVAL
 * unless noted) name the problem: an empty body, a short prefix, a flag
 * other than 0 or 1, a length that runs past the body, bytes after the
 * message (a second message on a unary call), and O2P_ELIMIT for a
 * declared length above `limit`. */
int grpc_message_parse(const uint8_t *body, size_t len, size_t limit, grpc_message *out,
                       o2p_error *err);

/* Appends the 5-byte prefix for an uncompressed message of `len` bytes. */
int grpc_prefix_append(o2p_buf *out, size_t len);

/* The status for a library result (the same decisions as the HTTP
 * answers): O2P_OK -> OK, EINVAL -> INVALID_ARGUMENT, EBUSY and ELIMIT ->
 * RESOURCE_EXHAUSTED, EAUTH -> UNAUTHENTICATED, EUNSUPPORTED ->
 * UNIMPLEMENTED, everything else UNAVAILABLE. */
int grpc_status_of(int rc);

/* Whether a status tells the client to retry (it then carries RetryInfo). */
int grpc_status_retryable(int rc);

/* Appends `msg` percent-encoded as grpc-message wants: bytes outside
 * 0x20..0x7e and '%' become %XX. */
int grpc_message_encode(o2p_buf *out, const char *msg);

/* Appends base64(google.rpc.Status{code, message, details: [Any{
 * google.rpc.RetryInfo{retry_delay: retry_secs}}]}) for
 * grpc-status-details-bin; retry_secs <= 0 leaves the details out. */
int grpc_status_details(o2p_buf *out, int code, const char *message, int retry_secs);

#endif
