/*
 * http_decompress: request body content types and Content-Encodings, and
 * bounded decompression.
 *
 * A decompressor belongs to one server thread and keeps its output buffer
 * and codec state between requests, so the steady state allocates nothing.
 * The output never grows past the payload limit: a small body that would
 * inflate beyond it (a "zip bomb") stops with O2P_ELIMIT after producing at
 * most limit + 1 bytes.
 */
#ifndef O2P_SERVER_HTTP_DECOMPRESS_H
#define O2P_SERVER_HTTP_DECOMPRESS_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/error.h"
#include "otlp/otlp.h"

typedef enum http_encoding {
    HTTP_ENC_IDENTITY = 0,
    HTTP_ENC_GZIP,
    HTTP_ENC_DEFLATE,
    HTTP_ENC_ZSTD,
    HTTP_ENC_SNAPPY /* framed snappy (snappy_frame.h); only gRPC's grpc-encoding names it */
} http_encoding;

/* Parses a Content-Encoding value (case-insensitive, surrounding blanks
 * ignored): NULL, "", "identity", "none" -> identity; "gzip"/"x-gzip";
 * "deflate"; "zstd".  Anything else (including lists of several codings)
 * is O2P_EUNSUPPORTED. */
int http_encoding_parse(const char *value, http_encoding *out);
const char *http_encoding_name(http_encoding enc);

/* Parses a Content-Type value: application/x-protobuf or
 * application/protobuf -> protobuf; application/json -> JSON;
 * application/x-ndjson or application/jsonl -> JSONL.  Parameters after ';'
 * are ignored and the media type is compared case-insensitively.  Missing
 * or other types are O2P_EUNSUPPORTED. */
int http_content_type_parse(const char *value, otlp_format *out);

typedef struct http_decompressor {
    size_t limit;                        /* largest accepted decompressed size */
    o2p_buf out;                         /* decompressed body, reused */
    struct libdeflate_decompressor *ldd; /* created on first gzip/deflate body */
    struct ZSTD_DCtx_s *zstd;            /* created on first zstd body */
} http_decompressor;

void http_decompressor_init(http_decompressor *d, size_t limit);
void http_decompressor_free(http_decompressor *d);

/* Decompresses `in` (encoded with `enc`, not identity) into d->out, which
 * is reset first.  Returns O2P_OK; O2P_ELIMIT when the result would exceed
 * d->limit ("decompressed body exceeds N bytes"); O2P_EINVAL for corrupt
 * data, naming the encoding; O2P_ENOMEM. */
int http_decompress(http_decompressor *d, http_encoding enc, const uint8_t *in, size_t len,
                    o2p_error *err);

#endif
