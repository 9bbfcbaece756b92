/*
 * http_response: the bodies the OTLP/HTTP ingest API answers with.
 *
 * Success is an Export{Logs,Trace,Metrics}ServiceResponse, failure a
 * google.rpc.Status, each in the encoding of the request: protobuf for
 * protobuf requests, OTLP/JSON (proto3 JSON mapping, int64 as a decimal
 * string) otherwise.  Encoders append to a caller-owned buffer and never
 * allocate beyond it, so the server can reuse one buffer per thread.
 */
#ifndef O2P_SERVER_HTTP_RESPONSE_H
#define O2P_SERVER_HTTP_RESPONSE_H

#include <stdint.h>

#include "core/buf.h"
#include "otlp/otlp.h"

#define HTTP_CT_PROTOBUF "application/x-protobuf"
#define HTTP_CT_JSON     "application/json"

/* gRPC status codes carried in google.rpc.Status.code. */
enum {
    HTTP_GRPC_OK = 0,
    HTTP_GRPC_INVALID_ARGUMENT = 3,
    HTTP_GRPC_NOT_FOUND = 5,
    HTTP_GRPC_RESOURCE_EXHAUSTED = 8,
    HTTP_GRPC_UNIMPLEMENTED = 12,
    HTTP_GRPC_INTERNAL = 13,
    HTTP_GRPC_UNAVAILABLE = 14,
    HTTP_GRPC_UNAUTHENTICATED = 16
};

/* The gRPC code that best describes an HTTP error status (400 ->
 * INVALID_ARGUMENT, 401 -> UNAUTHENTICATED, 404 -> NOT_FOUND, 405/415 ->
 * UNIMPLEMENTED, 413/429 -> RESOURCE_EXHAUSTED, 503 -> UNAVAILABLE, other
 * 5xx -> INTERNAL). */
int http_grpc_code(unsigned http_status);

/* Appends the Export*ServiceResponse for `signal`.  partial_success is
 * written only when rejected > 0 or message is non-empty (message may be
 * NULL); an all-accepted protobuf response is therefore zero bytes and the
 * JSON one is "{}". */
int http_response_export(o2p_buf *out, otlp_signal signal, int json, uint64_t rejected,
                         const char *message);

/* Appends a google.rpc.Status {code, message} (no details). */
int http_response_status(o2p_buf *out, int json, int grpc_code, const char *message);

#endif
