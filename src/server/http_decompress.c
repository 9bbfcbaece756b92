/*
 * http_decompress: content negotiation and bounded decompression (see
 * http_decompress.h).
 *
 * gzip and deflate go through libdeflate, which is several times faster
 * than zlib but needs the whole output buffer up front: we guess a size
 * (gzip's ISIZE trailer, else a multiple of the input), and on "insufficient
 * space" double it, never beyond limit + 1.  That extra byte is what tells
 * "exactly at the limit" from "over it" without a streaming API.  zstd uses
 * the frame's declared size when there is one and otherwise streams into the
 * same capped buffer.
 */
#include "server/http_decompress.h"

#include <libdeflate.h>
#include <strings.h>
#include <zstd.h>
#include <zstd_errors.h>

#include "core/mem.h"
#include "server/snappy_frame.h"

/* Smallest first guess for codecs without a size hint. */
#define HTTP_DECOMP_MIN_GUESS (64 * 1024)

static int http_token_eq(const char *s, size_t len, const char *token)
{
    return strlen(token) == len && strncasecmp(s, token, len) == 0;
}

/* Trims blanks around [s, s+len) in place. */
static void http_trim(const char **s, size_t *len)
{
    while (*len > 0 && (**s == ' ' || **s == '\t')) {
        (*s)++;
        (*len)--;
    }
    while (*len > 0 && ((*s)[*len - 1] == ' ' || (*s)[*len - 1] == '\t')) (*len)--;
}

int http_encoding_parse(const char *value, http_encoding *out)
{
    *out = HTTP_ENC_IDENTITY;
    if (value == NULL) return O2P_OK;
    const char *s = value;
    size_t len = strlen(value);
    http_trim(&s, &len);
    if (len == 0 || http_token_eq(s, len, "identity") || http_token_eq(s, len, "none"))
        return O2P_OK;
    if (http_token_eq(s, len, "gzip") || http_token_eq(s, len, "x-gzip")) {
        *out = HTTP_ENC_GZIP;
        return O2P_OK;
    }
    if (http_token_eq(s, len, "deflate")) {
        *out = HTTP_ENC_DEFLATE;
        return O2P_OK;
    }
    if (http_token_eq(s, len, "zstd")) {
        *out = HTTP_ENC_ZSTD;
        return O2P_OK;
    }
    return O2P_EUNSUPPORTED;
}

const char *http_encoding_name(http_encoding enc)
{
    switch (enc) {
    case HTTP_ENC_GZIP:
        return "gzip";
    case HTTP_ENC_DEFLATE:
        return "deflate";
    case HTTP_ENC_ZSTD:
        return "zstd";
    case HTTP_ENC_SNAPPY:
        return "snappy";
    default:
        return "identity";
    }
}

int http_content_type_parse(const char *value, otlp_format *out)
{
    if (value == NULL) return O2P_EUNSUPPORTED;
    const char *s = value;
    const char *semi = strchr(value, ';');
    size_t len = semi ? (size_t)(semi - value) : strlen(value);
    http_trim(&s, &len);
    if (http_token_eq(s, len, "application/x-protobuf") ||
        http_token_eq(s, len, "application/protobuf")) {
        *out = OTLP_FMT_PROTOBUF;
        return O2P_OK;
    }
    if (http_token_eq(s, len, "application/json")) {
        *out = OTLP_FMT_JSON;
        return O2P_OK;
    }
    if (http_token_eq(s, len, "application/x-ndjson") ||
        http_token_eq(s, len, "application/jsonl")) {
        *out = OTLP_FMT_JSONL;
        return O2P_OK;
    }
    return O2P_EUNSUPPORTED;
}

void http_decompressor_init(http_decompressor *d, size_t limit)
{
    d->limit = limit;
    /* One byte of headroom so an output of limit + 1 bytes can be observed
     * and reported as over the limit. */
    buf_init(&d->out, limit < SIZE_MAX ? limit + 1 : limit);
    d->ldd = NULL;
    d->zstd = NULL;
}

void http_decompressor_free(http_decompressor *d)
{
    buf_free(&d->out);
    if (d->ldd) libdeflate_free_decompressor(d->ldd);
    ZSTD_freeDCtx(d->zstd);
    d->ldd = NULL;
    d->zstd = NULL;
}

static int http_too_big(http_decompressor *d, o2p_error *err)
{
    return o2p_errorf(err, O2P_ELIMIT, "decompressed body exceeds %zu bytes", d->limit);
}

static int http_corrupt(http_encoding enc, const char *detail, o2p_error *err)
{
    return o2p_errorf(err, O2P_EINVAL, "corrupt %s data in request body%s%s",
                      http_encoding_name(enc), detail ? ": " : "", detail ? detail : "");
}

/* Makes d->out's free space at least `want` bytes (capped by the limit). */
static int http_out_reserve(http_decompressor *d, size_t want, o2p_error *err)
{
    size_t room_max = d->out.limit - d->out.len;
    if (want > room_max) want = room_max;
    if (buf_reserve(&d->out, want) < 0)
        return o2p_errorf(err, O2P_ENOMEM, "out of memory decompressing request body");
    return O2P_OK;
}

/* Grows the buffer for a retry; O2P_ELIMIT when it is already at the cap. */
static int http_out_grow(http_decompressor *d, o2p_error *err)
{
    if (d->out.cap >= d->out.limit) return http_too_big(d, err);
    size_t want = d->out.cap * 2 - d->out.len;
    return http_out_reserve(d, want, err);
}

/* One gzip member, or a whole zlib / raw deflate stream, appended to
 * d->out.  *consumed gets the input bytes used (gzip members only). */
static int http_deflate_step(http_decompressor *d, http_encoding enc, int zlib_wrapped,
                             const uint8_t *in, size_t len, size_t *consumed, o2p_error *err)
{
    for (;;) {
        size_t avail = d->out.cap - d->out.len;
        size_t produced = 0;
        enum libdeflate_result r;
        uint8_t *dst = d->out.data + d->out.len;
        if (enc == HTTP_ENC_GZIP)
            r = libdeflate_gzip_decompress_ex(d->ldd, in, len, dst, avail, consumed, &produced);
        else if (zlib_wrapped)
            r = libdeflate_zlib_decompress(d->ldd, in, len, dst, avail, &produced);
        else
            r = libdeflate_deflate_decompress(d->ldd, in, len, dst, avail, &produced);
        if (r == LIBDEFLATE_SUCCESS) {
            d->out.len += produced;
            return d->out.len > d->limit ? http_too_big(d, err) : O2P_OK;
        }
        if (r != LIBDEFLATE_INSUFFICIENT_SPACE) return O2P_EINVAL;
        O2P_TRY(http_out_grow(d, err));
    }
}

static int http_inflate(http_decompressor *d, http_encoding enc, const uint8_t *in, size_t len,
                        o2p_error *err)
{
    if (d->ldd == NULL && (d->ldd = libdeflate_alloc_decompressor()) == NULL)
        return o2p_errorf(err, O2P_ENOMEM, "out of memory creating a decompressor");

    if (enc == HTTP_ENC_GZIP) {
        if (len < 18 || in[0] != 0x1f || in[1] != 0x8b)
            return http_corrupt(enc, "not a gzip stream", err);
        /* ISIZE (the last member's size mod 2^32) only sizes the first
         * allocation: it comes from the client, so the decompressor — not
         * the trailer — decides whether the body is too big or corrupt. */
        const uint8_t *t = in + len - 4;
        uint32_t isize =
            (uint32_t)t[0] | (uint32_t)t[1] << 8 | (uint32_t)t[2] << 16 | (uint32_t)t[3] << 24;
        size_t guess = (size_t)isize + 1;
        if (guess > d->limit + 1) guess = d->limit + 1;
        if (guess < HTTP_DECOMP_MIN_GUESS) guess = HTTP_DECOMP_MIN_GUESS;
        O2P_TRY(http_out_reserve(d, guess, err));
        size_t pos = 0;
        do {
            size_t used = 0;
            int rc = http_deflate_step(d, enc, 0, in + pos, len - pos, &used, err);
            if (rc == O2P_EINVAL) return http_corrupt(enc, NULL, err);
            O2P_TRY(rc);
            pos += used;
        } while (pos < len); /* concatenated members (RFC 1952 allows them) */
        return O2P_OK;
    }

    /* "deflate" is meant to be zlib (RFC 9110), but some clients send raw
     * deflate; a zlib header is recognisable (method 8, checksum mod 31). */
    int zlib_wrapped = len >= 2 && (in[0] & 0x0f) == 8 && (in[0] >> 4) <= 7 &&
                       (((unsigned)in[0] << 8) | in[1]) % 31 == 0;
    size_t guess = len > SIZE_MAX / 4 ? SIZE_MAX : len * 4;
    if (guess < HTTP_DECOMP_MIN_GUESS) guess = HTTP_DECOMP_MIN_GUESS;
    O2P_TRY(http_out_reserve(d, guess, err));
    int rc = http_deflate_step(d, enc, zlib_wrapped, in, len, NULL, err);
    if (rc == O2P_EINVAL && zlib_wrapped) {
        d->out.len = 0;
        rc = http_deflate_step(d, enc, 0, in, len, NULL, err);
    }
    if (rc == O2P_EINVAL) return http_corrupt(enc, NULL, err);
    return rc;
}

static int http_unzstd(http_decompressor *d, const uint8_t *in, size_t len, o2p_error *err)
{
    if (d->zstd == NULL) {
        if ((d->zstd = ZSTD_createDCtx()) == NULL)
            return o2p_errorf(err, O2P_ENOMEM, "out of memory creating a decompressor");
        /* A window larger than the whole allowed output is never needed;
         * bounding it keeps a hostile frame header from reserving 2 GiB. */
        int wlog = 23;
        while (wlog < 27 && ((size_t)1 << wlog) < d->out.limit) wlog++;
        ZSTD_DCtx_setParameter(d->zstd, ZSTD_d_windowLogMax, wlog);
    }
    ZSTD_DCtx_reset(d->zstd, ZSTD_reset_session_only);

    unsigned long long declared = ZSTD_getFrameContentSize(in, len);
    if (declared == ZSTD_CONTENTSIZE_ERROR)
        return http_corrupt(HTTP_ENC_ZSTD, "bad frame header", err);
    size_t guess;
    if (declared != ZSTD_CONTENTSIZE_UNKNOWN) {
        /* The first frame alone already exceeds the limit. */
        if (declared > d->limit) return http_too_big(d, err);
        guess = (size_t)declared + 1;
    } else {
        guess = len > SIZE_MAX / 4 ? SIZE_MAX : len * 4;
        if (guess < HTTP_DECOMP_MIN_GUESS) guess = HTTP_DECOMP_MIN_GUESS;
    }
    O2P_TRY(http_out_reserve(d, guess, err));

    ZSTD_inBuffer src = {in, len, 0};
    for (;;) {
        ZSTD_outBuffer dst = {d->out.data, d->out.cap, d->out.len};
        size_t r = ZSTD_decompressStream(d->zstd, &dst, &src);
        d->out.len = dst.pos;
        if (ZSTD_isError(r)) {
            if (ZSTD_getErrorCode(r) == ZSTD_error_frameParameter_windowTooLarge)
                return o2p_errorf(err, O2P_ELIMIT,
                                  "zstd window of the request body exceeds the %zu byte limit",
                                  d->limit);
            return http_corrupt(HTTP_ENC_ZSTD, ZSTD_getErrorName(r), err);
        }
        if (d->out.len > d->limit) return http_too_big(d, err);
        if (r == 0 && src.pos == src.size) return O2P_OK;
        if (dst.pos < dst.size) {
            /* Output space left over yet the frame is unfinished: the
             * decoder wants input that is not there. */
            if (src.pos == src.size) return http_corrupt(HTTP_ENC_ZSTD, "truncated frame", err);
            continue;
        }
        O2P_TRY(http_out_grow(d, err));
    }
}

int http_decompress(http_decompressor *d, http_encoding enc, const uint8_t *in, size_t len,
                    o2p_error *err)
{
    buf_reset(&d->out);
    switch (enc) {
    case HTTP_ENC_GZIP:
    case HTTP_ENC_DEFLATE:
        return http_inflate(d, enc, in, len, err);
    case HTTP_ENC_ZSTD:
        return http_unzstd(d, in, len, err);
    case HTTP_ENC_SNAPPY:
        return snappy_frame_decode(in, len, d->limit, &d->out, err);
    default:
        break;
    }
    /* Identity bodies are used in place by the server; copying here keeps
     * the function total for other callers. */
    if (len > d->limit) return http_too_big(d, err);
    if (buf_append(&d->out, in, len) < 0)
        return o2p_errorf(err, O2P_ENOMEM, "out of memory copying request body");
    return O2P_OK;
}
