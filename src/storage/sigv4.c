/* sigv4: AWS Signature Version 4 signing steps (see sigv4.h). */
#include "storage/sigv4.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/codec_text.h"
#include "core/error.h"

/* More than any request we make; fixed so sorting needs no allocation. */
#define SIGV4_MAX_ITEMS 16

/* Lowercase hex of bytes, NUL-terminated (SigV4 spells hashes this way). */
static void sigv4_hex(const uint8_t *bytes, size_t len, char *out)
{
    hex_encode(bytes, len, out);
    out[2 * len] = '\0';
}

void sigv4_sha256_hex(const void *data, size_t len, char out[SIGV4_HEX_LEN + 1])
{
    uint8_t digest[32];
    unsigned int digest_len = 0;
    EVP_Digest(data, len, digest, &digest_len, EVP_sha256(), NULL);
    sigv4_hex(digest, sizeof digest, out);
}

static void sigv4_hmac(const void *key, size_t key_len, const char *msg, size_t msg_len,
                       uint8_t out[32])
{
    unsigned int out_len = 32;
    HMAC(EVP_sha256(), key, (int)key_len, (const unsigned char *)msg, msg_len, out, &out_len);
}

static int sigv4_unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.' || c == '~';
}

int sigv4_uri_encode(o2p_buf *out, const char *s, size_t len, int keep_slash)
{
    static const char upper[] = "0123456789ABCDEF";
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        int rc;
        if (sigv4_unreserved(c) || (keep_slash && c == '/')) {
            rc = buf_push_byte(out, c);
        } else {
            char esc[3] = {'%', upper[c >> 4], upper[c & 0x0f]};
            rc = buf_append(out, esc, 3);
        }
        if (rc < 0) return rc;
    }
    return O2P_OK;
}

int sigv4_encode_path(o2p_buf *out, const char *path)
{
    O2P_TRY(buf_push_byte(out, '/'));
    return sigv4_uri_encode(out, path, strlen(path), 1);
}

/* Encoded name and value of one query parameter, as offsets into a scratch
 * buffer (the buffer may move while it grows). */
typedef struct sigv4_encoded_param {
    size_t name_off, name_len, value_off, value_len;
    const o2p_buf *scratch;
} sigv4_encoded_param;

static int sigv4_compare_params(const void *a, const void *b)
{
    const sigv4_encoded_param *pa = a, *pb = b;
    const char *base = (const char *)pa->scratch->data;
    size_t n = pa->name_len < pb->name_len ? pa->name_len : pb->name_len;
    int c = memcmp(base + pa->name_off, base + pb->name_off, n);
    if (c != 0) return c;
    if (pa->name_len != pb->name_len) return pa->name_len < pb->name_len ? -1 : 1;
    n = pa->value_len < pb->value_len ? pa->value_len : pb->value_len;
    c = memcmp(base + pa->value_off, base + pb->value_off, n);
    if (c != 0) return c;
    return pa->value_len == pb->value_len ? 0 : (pa->value_len < pb->value_len ? -1 : 1);
}

int sigv4_canonical_query(o2p_buf *out, const sigv4_param *params, size_t count)
{
    if (count > SIGV4_MAX_ITEMS) return O2P_EINVAL;
    sigv4_encoded_param enc[SIGV4_MAX_ITEMS];
    o2p_buf scratch;
    buf_init(&scratch, 0);
    int rc = O2P_OK;
    for (size_t i = 0; i < count && rc == O2P_OK; i++) {
        enc[i].scratch = &scratch;
        enc[i].name_off = scratch.len;
        rc = sigv4_uri_encode(&scratch, params[i].name, strlen(params[i].name), 0);
        enc[i].name_len = scratch.len - enc[i].name_off;
        enc[i].value_off = scratch.len;
        if (rc == O2P_OK)
            rc = sigv4_uri_encode(&scratch, params[i].value, strlen(params[i].value), 0);
        enc[i].value_len = scratch.len - enc[i].value_off;
    }
    if (rc == O2P_OK) {
        qsort(enc, count, sizeof enc[0], sigv4_compare_params);
        for (size_t i = 0; i < count && rc == O2P_OK; i++) {
            if (i > 0) rc = buf_push_byte(out, '&');
            if (rc == O2P_OK) rc = buf_append(out, scratch.data + enc[i].name_off, enc[i].name_len);
            if (rc == O2P_OK) rc = buf_push_byte(out, '=');
            if (rc == O2P_OK)
                rc = buf_append(out, scratch.data + enc[i].value_off, enc[i].value_len);
        }
    }
    buf_free(&scratch);
    return rc;
}

int sigv4_signing_key(const char *secret, const char *date8, const char *region,
                      const char *service, uint8_t out[32])
{
    /* "AWS4" + secret on the stack: the secret is never copied to the heap. */
    char prefixed[4 + SIGV4_SECRET_MAX];
    size_t secret_len = strlen(secret);
    if (secret_len > SIGV4_SECRET_MAX) return O2P_EINVAL;
    memcpy(prefixed, "AWS4", 4);
    memcpy(prefixed + 4, secret, secret_len);
    uint8_t k_date[32], k_region[32], k_service[32];
    sigv4_hmac(prefixed, secret_len + 4, date8, strlen(date8), k_date);
    sigv4_hmac(k_date, 32, region, strlen(region), k_region);
    sigv4_hmac(k_region, 32, service, strlen(service), k_service);
    sigv4_hmac(k_service, 32, "aws4_request", 12, out);
    OPENSSL_cleanse(prefixed, sizeof prefixed);
    OPENSSL_cleanse(k_date, sizeof k_date);
    OPENSSL_cleanse(k_region, sizeof k_region);
    OPENSSL_cleanse(k_service, sizeof k_service);
    return O2P_OK;
}

/* Header indexes in canonical (lowercase name) order. */
static int sigv4_sorted_headers(const sigv4_request *req, size_t order[SIGV4_MAX_ITEMS])
{
    if (req->header_count > SIGV4_MAX_ITEMS) return O2P_EINVAL;
    for (size_t i = 0; i < req->header_count; i++) {
        size_t j = i;
        while (j > 0 && strcasecmp(req->headers[order[j - 1]].name, req->headers[i].name) > 0) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = i;
    }
    return O2P_OK;
}

static int sigv4_append_lower(o2p_buf *out, const char *s)
{
    for (; *s; s++) {
        char c = *s;
        if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
        O2P_TRY(buf_push_byte(out, (uint8_t)c));
    }
    return O2P_OK;
}

/* Value with leading/trailing spaces removed and inner runs collapsed. */
static int sigv4_append_trimmed(o2p_buf *out, const char *value)
{
    while (*value == ' ' || *value == '\t') value++;
    int pending_space = 0;
    for (; *value; value++) {
        if (*value == ' ' || *value == '\t') {
            pending_space = 1;
            continue;
        }
        if (pending_space) O2P_TRY(buf_push_byte(out, ' '));
        pending_space = 0;
        O2P_TRY(buf_push_byte(out, (uint8_t)*value));
    }
    return O2P_OK;
}

static int sigv4_signed_header_list(o2p_buf *out, const sigv4_request *req,
                                    const size_t order[SIGV4_MAX_ITEMS])
{
    for (size_t i = 0; i < req->header_count; i++) {
        if (i > 0) O2P_TRY(buf_push_byte(out, ';'));
        O2P_TRY(sigv4_append_lower(out, req->headers[order[i]].name));
    }
    return O2P_OK;
}

int sigv4_canonical_request(o2p_buf *out, const sigv4_request *req)
{
    size_t order[SIGV4_MAX_ITEMS];
    O2P_TRY(sigv4_sorted_headers(req, order));
    O2P_TRY(buf_printf(out, "%s\n%s\n%s\n", req->method, req->canonical_uri,
                       req->canonical_query ? req->canonical_query : ""));
    for (size_t i = 0; i < req->header_count; i++) {
        const sigv4_header *h = &req->headers[order[i]];
        O2P_TRY(sigv4_append_lower(out, h->name));
        O2P_TRY(buf_push_byte(out, ':'));
        O2P_TRY(sigv4_append_trimmed(out, h->value));
        O2P_TRY(buf_push_byte(out, '\n'));
    }
    O2P_TRY(buf_push_byte(out, '\n'));
    O2P_TRY(sigv4_signed_header_list(out, req, order));
    O2P_TRY(buf_push_byte(out, '\n'));
    return buf_append_str(out, req->payload_hash);
}

static int sigv4_valid_amz_date(const char *d)
{
    if (strlen(d) != SIGV4_AMZ_DATE_LEN || d[8] != 'T' || d[15] != 'Z') return 0;
    for (int i = 0; i < 15; i++)
        if (i != 8 && (d[i] < '0' || d[i] > '9')) return 0;
    return 1;
}

int sigv4_string_to_sign(o2p_buf *out, const sigv4_signer *signer, const char *canonical,
                         size_t canonical_len)
{
    if (!sigv4_valid_amz_date(signer->amz_date)) return O2P_EINVAL;
    char hash[SIGV4_HEX_LEN + 1];
    sigv4_sha256_hex(canonical, canonical_len, hash);
    return buf_printf(out, "AWS4-HMAC-SHA256\n%s\n%.8s/%s/%s/aws4_request\n%s", signer->amz_date,
                      signer->amz_date, signer->region, signer->service, hash);
}

int sigv4_authorization(o2p_buf *out, const sigv4_request *req, const sigv4_signer *signer,
                        char signature_out[SIGV4_HEX_LEN + 1])
{
    size_t order[SIGV4_MAX_ITEMS];
    O2P_TRY(sigv4_sorted_headers(req, order));
    if (!sigv4_valid_amz_date(signer->amz_date)) return O2P_EINVAL;

    o2p_buf scratch;
    buf_init(&scratch, 0);
    int rc = sigv4_canonical_request(&scratch, req);
    size_t canonical_len = scratch.len;
    if (rc == O2P_OK)
        rc = sigv4_string_to_sign(&scratch, signer, (const char *)scratch.data, canonical_len);
    if (rc < 0) {
        buf_free(&scratch);
        return rc;
    }
    char date8[9];
    memcpy(date8, signer->amz_date, 8);
    date8[8] = '\0';
    uint8_t key[32], mac[32];
    rc = sigv4_signing_key(signer->secret_access_key, date8, signer->region, signer->service, key);
    if (rc < 0) {
        buf_free(&scratch);
        return rc;
    }
    sigv4_hmac(key, sizeof key, (const char *)scratch.data + canonical_len,
               scratch.len - canonical_len, mac);
    OPENSSL_cleanse(key, sizeof key);
    buf_free(&scratch);

    char signature[SIGV4_HEX_LEN + 1];
    sigv4_hex(mac, sizeof mac, signature);
    if (signature_out) memcpy(signature_out, signature, sizeof signature);
    rc = buf_printf(out, "AWS4-HMAC-SHA256 Credential=%s/%s/%s/%s/aws4_request,SignedHeaders=",
                    signer->access_key_id, date8, signer->region, signer->service);
    if (rc == O2P_OK) rc = sigv4_signed_header_list(out, req, order);
    if (rc == O2P_OK) rc = buf_printf(out, ",Signature=%s", signature);
    return rc;
}
