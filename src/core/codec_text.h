/*
 * codec_text: the small text codecs OTLP needs — lowercase hex, standard
 * base64 (RFC 4648 with padding), UTF-8 validation and JSON string escaping.
 * Decoders are strict: they reject anything that is not exactly the format.
 */
#ifndef O2P_CORE_CODEC_TEXT_H
#define O2P_CORE_CODEC_TEXT_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

/* Writes 2*len lowercase hex digits to out (no NUL). */
void hex_encode(const uint8_t *data, size_t len, char *out);
/* Decodes exactly 2*out_len hex digits (either case); returns 0 or -1. */
int hex_decode(const char *text, size_t text_len, uint8_t *out, size_t out_len);

/* Length of the base64 text for n bytes. */
static inline size_t base64_encoded_len(size_t n)
{
    return (n + 2) / 3 * 4;
}
/* Appends the standard base64 of data to b. */
int base64_append(o2p_buf *b, const uint8_t *data, size_t len);
/* Strict standard-alphabet decode with required padding.  On success writes
 * the bytes to out (capacity out_cap) and their count to out_len; returns 0,
 * or -1 on bad characters/padding or too small out. */
int base64_decode(const char *text, size_t text_len, uint8_t *out, size_t out_cap, size_t *out_len);

/* Lenient decode for protobuf-JSON bytes fields: standard or URL-safe
 * alphabet, padding optional.  Appends the bytes to dst; returns 0, 1 when
 * the text is not base64 (dst unchanged), or the buffer's negative status. */
int base64_decode_lenient(const uint8_t *text, size_t text_len, o2p_buf *dst);

/* 1 when data is well-formed UTF-8 (no overlongs, no surrogates, <= U+10FFFF). */
int utf8_valid(const uint8_t *data, size_t len);
/* Largest prefix length <= max_len that ends on a character boundary. */
size_t utf8_truncate(const uint8_t *data, size_t len, size_t max_len);

/* Appends s as a JSON string literal (with quotes), escaping '"', '\\' and
 * control characters (\n \t \r \b \f, others as \u00XX). */
int json_append_string(o2p_buf *b, const char *s, size_t len);

#endif
