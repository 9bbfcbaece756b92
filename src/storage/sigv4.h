/*
 * sigv4: AWS Signature Version 4 (header-based, single-chunk payload).
 *
 * Pure functions over strings: no clock, no network, no credentials lookup,
 * so every step can be checked against the published AWS examples.  The S3
 * backend builds a sigv4_request per HTTP request and sends exactly what was
 * signed (same encoded path, same query string, same header values).
 *
 * Encoding follows the S3 rules: in paths each segment is URI-encoded once
 * (unreserved A-Z a-z 0-9 - _ . ~ kept, '/' kept between segments, every
 * other byte as %XX in uppercase), so "year=2026" is "year%3D2026" both in the
 * canonical request and in the URL on the wire.
 */
#ifndef O2P_STORAGE_SIGV4_H
#define O2P_STORAGE_SIGV4_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

#define SIGV4_HEX_LEN      64 /* hex of a SHA-256 digest */
#define SIGV4_AMZ_DATE_LEN 16 /* "20130524T000000Z" */
#define SIGV4_SECRET_MAX   256

typedef struct sigv4_header {
    const char *name;  /* any case; lowercased when signing */
    const char *value; /* trimmed, inner runs of spaces collapsed when signing */
} sigv4_header;

typedef struct sigv4_param {
    const char *name;  /* raw (not yet encoded) */
    const char *value; /* raw; "" for a valueless parameter like ?uploads */
} sigv4_param;

typedef struct sigv4_request {
    const char *method;          /* "GET", "PUT", ... */
    const char *canonical_uri;   /* already encoded (sigv4_encode_path) */
    const char *canonical_query; /* already canonical (sigv4_canonical_query); "" if none */
    const sigv4_header *headers; /* the signed headers (host and x-amz-date included) */
    size_t header_count;
    const char *payload_hash; /* hex SHA-256 of the body, as in x-amz-content-sha256 */
} sigv4_request;

typedef struct sigv4_signer {
    const char *access_key_id;
    const char *secret_access_key;
    const char *region;   /* "us-east-1" */
    const char *service;  /* "s3" */
    const char *amz_date; /* "YYYYMMDDTHHMMSSZ", the x-amz-date header value */
} sigv4_signer;

/* Lowercase hex of SHA-256(data) plus NUL. */
void sigv4_sha256_hex(const void *data, size_t len, char out[SIGV4_HEX_LEN + 1]);

/* Appends the URI encoding of s; '/' is kept when keep_slash (paths) and
 * encoded otherwise (query names and values).  Returns 0 or a buf error. */
int sigv4_uri_encode(o2p_buf *out, const char *s, size_t len, int keep_slash);

/* Appends "/" + the encoded path of an object key ("" gives "/"). */
int sigv4_encode_path(o2p_buf *out, const char *path);

/* Appends the canonical query string: names and values encoded, pairs sorted
 * by encoded name then value, joined with '&', "name=" for empty values. */
int sigv4_canonical_query(o2p_buf *out, const sigv4_param *params, size_t count);

/* kSigning = HMAC chain of "AWS4"+secret over date (YYYYMMDD), region,
 * service and "aws4_request".  Returns 0, or O2P_EINVAL for a secret longer
 * than SIGV4_SECRET_MAX (real ones are 40 characters). */
int sigv4_signing_key(const char *secret, const char *date8, const char *region,
                      const char *service, uint8_t out[32]);

/* Appends the canonical request (task 1 of the AWS description). */
int sigv4_canonical_request(o2p_buf *out, const sigv4_request *req);

/* Appends the string to sign for the given canonical request text. */
int sigv4_string_to_sign(o2p_buf *out, const sigv4_signer *signer, const char *canonical,
                         size_t canonical_len);

/* Appends the whole Authorization header value:
 *   AWS4-HMAC-SHA256 Credential=AKID/date/region/service/aws4_request,
 *   SignedHeaders=a;b;c,Signature=hex
 * signature_out (may be NULL) receives the hex signature.  Returns 0,
 * O2P_EINVAL for a malformed amz_date, too many headers or an overlong
 * secret, or a buf error. */
int sigv4_authorization(o2p_buf *out, const sigv4_request *req, const sigv4_signer *signer,
                        char signature_out[SIGV4_HEX_LEN + 1]);

#endif
