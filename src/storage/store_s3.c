/*
 * store_s3: the S3 backend — libcurl for HTTP, sigv4.c for signing.
 *
 * Objects below multipart_threshold go up in one PUT with Content-MD5; bigger
 * ones as a multipart upload (CreateMultipartUpload, UploadPart with
 * Content-MD5 each, CompleteMultipartUpload; AbortMultipartUpload when any
 * step finally fails, so no orphaned parts are billed).  Every request signs
 * its payload (x-amz-content-sha256 = SHA-256 of the body) and sends exactly
 * the encoded path and query it signed.
 *
 * Transient failures (connection errors, timeouts, 5xx, 429, S3's 400
 * RequestTimeout, a 200 CompleteMultipartUpload carrying an <Error>) are
 * retried per request with backoff (retry.h); a new x-amz-date is signed for
 * each attempt.  What remains is mapped to O2P_EIO (retry later) or
 * O2P_EAUTH (fix the configuration), with S3's error Code in the message.
 *
 * Connections: a pool of curl easy handles per store.  A put borrows one for
 * its whole duration, so concurrent puts use separate handles and each handle
 * keeps its keep-alive connection between puts.
 */
#include <curl/curl.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/version.h"
#include "storage/s3_creds.h"
#include "storage/s3_curl.h"
#include "storage/s3_xml.h"
#include "storage/sigv4.h"
#include "storage/store_impl.h"

#define S3_REPLY_BODY_MAX    ((size_t)64 << 10)
#define S3_MAX_PARTS         10000
#define S3_DEFAULT_THRESHOLD ((size_t)16 << 20)
#define S3_DEFAULT_PART_SIZE ((size_t)8 << 20)
#define S3_MAX_HEADERS       10

typedef struct s3_conn {
    CURL *curl;
    struct s3_conn *next;
} s3_conn;

typedef struct store_s3 {
    store base;
    char *bucket;
    char *region;
    char *prefix;    /* "" or ends with '/' */
    char *origin;    /* scheme://authority the requests go to */
    char *host;      /* Host header value (signed) */
    char *path_base; /* "/bucket" (path-style, encoded) or "" (virtual-hosted) */
    s3_credentials creds;
    size_t multipart_threshold;
    size_t part_size;
    uint32_t connect_timeout_ms;
    uint32_t stall_timeout_ms;
    store_retry_policy retry;
    pthread_mutex_t pool_lock;
    s3_conn *idle;
} store_s3;

typedef struct s3_call {
    const char *op; /* for messages: "PUT", "UploadPart 3", ... */
    const char *method;
    const char *key;   /* full key (prefix included); NULL for the bucket */
    const char *query; /* canonical query string, "" for none */
    const uint8_t *body;
    size_t body_len;
    const char *content_type; /* NULL: none */
    int send_md5;
} s3_call;

typedef struct s3_reply {
    long status;
    CURLcode curl_rc;
    char curl_error[CURL_ERROR_SIZE];
    o2p_buf body;
    char etag[128];
    char bucket_region[64];
} s3_reply;

typedef struct s3_upload {
    const uint8_t *data;
    size_t len;
    size_t pos;
} s3_upload;

/* ---- curl callbacks ---------------------------------------------------- */

static size_t s3_read_cb(char *dst, size_t size, size_t nmemb, void *userdata)
{
    s3_upload *up = userdata;
    size_t room = size * nmemb, left = up->len - up->pos;
    size_t n = left < room ? left : room;
    if (n) memcpy(dst, up->data + up->pos, n);
    up->pos += n;
    return n;
}

/* curl rewinds when it resends a request on a reused connection that the
 * server had closed. */
static int s3_seek_cb(void *userdata, curl_off_t offset, int origin)
{
    s3_upload *up = userdata;
    if (origin != SEEK_SET || offset < 0 || (size_t)offset > up->len) return CURL_SEEKFUNC_FAIL;
    up->pos = (size_t)offset;
    return CURL_SEEKFUNC_OK;
}

static size_t s3_write_cb(char *src, size_t size, size_t nmemb, void *userdata)
{
    s3_reply *reply = userdata;
    /* Error documents are small; past the cap the rest is dropped, not failed. */
    (void)buf_append(&reply->body, src, size * nmemb);
    return size * nmemb;
}

static void s3_copy_header_value(const char *value, size_t len, char *out, size_t cap)
{
    while (len > 0 && (*value == ' ' || *value == '\t')) {
        value++;
        len--;
    }
    while (len > 0 && (value[len - 1] == '\r' || value[len - 1] == '\n' || value[len - 1] == ' '))
        len--;
    if (len >= cap) len = cap - 1;
    memcpy(out, value, len);
    out[len] = '\0';
}

static size_t s3_header_cb(char *line, size_t size, size_t nmemb, void *userdata)
{
    s3_reply *reply = userdata;
    size_t len = size * nmemb;
    if (len > 5 && strncasecmp(line, "ETag:", 5) == 0)
        s3_copy_header_value(line + 5, len - 5, reply->etag, sizeof reply->etag);
    else if (len > 20 && strncasecmp(line, "x-amz-bucket-region:", 20) == 0)
        s3_copy_header_value(line + 20, len - 20, reply->bucket_region,
                             sizeof reply->bucket_region);
    return len;
}

/* ---- connection pool --------------------------------------------------- */

static s3_conn *s3_conn_take(store_s3 *s3)
{
    pthread_mutex_lock(&s3->pool_lock);
    s3_conn *conn = s3->idle;
    if (conn) s3->idle = conn->next;
    pthread_mutex_unlock(&s3->pool_lock);
    if (conn) return conn;
    conn = mem_calloc(1, sizeof *conn);
    if (conn == NULL) return NULL;
    conn->curl = s3_curl.easy_init();
    if (conn->curl == NULL) {
        mem_free(conn);
        return NULL;
    }
    return conn;
}

static void s3_conn_give_back(store_s3 *s3, s3_conn *conn)
{
    pthread_mutex_lock(&s3->pool_lock);
    conn->next = s3->idle;
    s3->idle = conn;
    pthread_mutex_unlock(&s3->pool_lock);
}

/* ---- one request ------------------------------------------------------- */

static void s3_amz_date(char out[SIGV4_AMZ_DATE_LEN + 1])
{
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(out, SIGV4_AMZ_DATE_LEN + 1, "%Y%m%dT%H%M%SZ", &tm);
}

/* Base64 MD5 of the body for Content-MD5; 0 when MD5 is unavailable (a FIPS
 * build), in which case the signed SHA-256 alone guards the payload. */
static int s3_content_md5(const uint8_t *data, size_t len, char out[32])
{
    uint8_t digest[16];
    unsigned int digest_len = 0;
    if (EVP_Digest(data, len, digest, &digest_len, EVP_md5(), NULL) != 1) return 0;
    EVP_EncodeBlock((unsigned char *)out, digest, 16);
    return 1;
}

typedef struct s3_prepared {
    char payload_hash[SIGV4_HEX_LEN + 1];
    char md5[32];
    int has_md5;
    o2p_buf uri; /* canonical URI, also the URL path */
} s3_prepared;

static int s3_prepare(const store_s3 *s3, const s3_call *call, s3_prepared *prep)
{
    sigv4_sha256_hex(call->body ? (const void *)call->body : "", call->body_len,
                     prep->payload_hash);
    prep->has_md5 = call->send_md5 && s3_content_md5(call->body, call->body_len, prep->md5);
    buf_init(&prep->uri, 0);
    O2P_TRY(buf_append_str(&prep->uri, s3->path_base));
    O2P_TRY(sigv4_encode_path(&prep->uri, call->key ? call->key : ""));
    O2P_TRY(buf_push_byte(&prep->uri, 0));
    prep->uri.len--; /* keep the NUL out of the length */
    return O2P_OK;
}

/* Sends one signed request.  Returns 0 when an HTTP exchange (of any status)
 * or a transport failure was recorded in reply, or O2P_ENOMEM. */
static int s3_perform(const store_s3 *s3, s3_conn *conn, const s3_call *call,
                      const s3_prepared *prep, s3_reply *reply)
{
    char amz_date[SIGV4_AMZ_DATE_LEN + 1];
    s3_amz_date(amz_date);
    sigv4_header headers[S3_MAX_HEADERS];
    size_t count = 0;
    headers[count++] = (sigv4_header){"host", s3->host};
    headers[count++] = (sigv4_header){"x-amz-content-sha256", prep->payload_hash};
    headers[count++] = (sigv4_header){"x-amz-date", amz_date};
    if (s3->creds.session_token)
        headers[count++] = (sigv4_header){"x-amz-security-token", s3->creds.session_token};
    if (prep->has_md5) headers[count++] = (sigv4_header){"content-md5", prep->md5};
    if (call->content_type) headers[count++] = (sigv4_header){"content-type", call->content_type};

    sigv4_request req = {call->method, (const char *)prep->uri.data,
                         call->query,  headers,
                         count,        prep->payload_hash};
    sigv4_signer signer = {s3->creds.access_key_id, s3->creds.secret_access_key, s3->region, "s3",
                           amz_date};
    o2p_buf auth, line, url;
    buf_init(&auth, 0);
    buf_init(&line, 0);
    buf_init(&url, 0);
    struct curl_slist *list = NULL;
    int rc = buf_append_str(&auth, "Authorization: ");
    if (rc == O2P_OK) rc = sigv4_authorization(&auth, &req, &signer, NULL);
    if (rc == O2P_OK) rc = buf_push_byte(&auth, 0);
    for (size_t i = 0; i < count && rc == O2P_OK; i++) {
        buf_reset(&line);
        rc = buf_printf(&line, "%s: %s", headers[i].name, headers[i].value);
        struct curl_slist *grown =
            rc == O2P_OK ? s3_curl.slist_append(list, (char *)line.data) : NULL;
        if (grown == NULL)
            rc = O2P_ENOMEM;
        else
            list = grown;
    }
    /* No "Expect: 100-continue" round trip: bodies are in memory anyway. */
    const char *extra[] = {(const char *)auth.data, "Expect:"};
    for (size_t i = 0; i < 2 && rc == O2P_OK; i++) {
        struct curl_slist *grown = s3_curl.slist_append(list, extra[i]);
        if (grown == NULL)
            rc = O2P_ENOMEM;
        else
            list = grown;
    }
    if (rc == O2P_OK)
        rc = buf_printf(&url, "%s%s%s%s", s3->origin, (const char *)prep->uri.data,
                        call->query[0] ? "?" : "", call->query);
    if (auth.data) OPENSSL_cleanse(auth.data, auth.len);
    buf_free(&auth);
    buf_free(&line);
    if (rc < 0) {
        s3_curl.slist_free_all(list);
        buf_free(&url);
        return O2P_ENOMEM;
    }

    CURL *c = conn->curl;
    s3_curl.easy_reset(c);
    s3_upload upload = {call->body, call->body_len, 0};
    reply->curl_error[0] = '\0';
    s3_curl.easy_setopt(c, CURLOPT_URL, (const char *)url.data);
    s3_curl.easy_setopt(c, CURLOPT_HTTPHEADER, list);
    s3_curl.easy_setopt(c, CURLOPT_PATH_AS_IS, 1L);
    s3_curl.easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    s3_curl.easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
    s3_curl.easy_setopt(c, CURLOPT_USERAGENT, "otlp2parquet/" O2P_VERSION);
    s3_curl.easy_setopt(c, CURLOPT_ERRORBUFFER, reply->curl_error);
    s3_curl.easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)s3->connect_timeout_ms);
    s3_curl.easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
    s3_curl.easy_setopt(c, CURLOPT_LOW_SPEED_TIME, (long)((s3->stall_timeout_ms + 999) / 1000));
    s3_curl.easy_setopt(c, CURLOPT_WRITEFUNCTION, s3_write_cb);
    s3_curl.easy_setopt(c, CURLOPT_WRITEDATA, reply);
    s3_curl.easy_setopt(c, CURLOPT_HEADERFUNCTION, s3_header_cb);
    s3_curl.easy_setopt(c, CURLOPT_HEADERDATA, reply);
    if (strcmp(call->method, "PUT") == 0 || strcmp(call->method, "POST") == 0) {
        s3_curl.easy_setopt(c, CURLOPT_UPLOAD, 1L);
        s3_curl.easy_setopt(c, CURLOPT_READFUNCTION, s3_read_cb);
        s3_curl.easy_setopt(c, CURLOPT_READDATA, &upload);
        s3_curl.easy_setopt(c, CURLOPT_SEEKFUNCTION, s3_seek_cb);
        s3_curl.easy_setopt(c, CURLOPT_SEEKDATA, &upload);
        s3_curl.easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)call->body_len);
    }
    if (strcmp(call->method, "HEAD") == 0)
        s3_curl.easy_setopt(c, CURLOPT_NOBODY, 1L);
    else if (strcmp(call->method, "GET") != 0)
        s3_curl.easy_setopt(c, CURLOPT_CUSTOMREQUEST, call->method);

    reply->curl_rc = s3_curl.easy_perform(c);
    reply->status = 0;
    if (reply->curl_rc == CURLE_OK) s3_curl.easy_getinfo(c, CURLINFO_RESPONSE_CODE, &reply->status);
    /* The header list holds the Authorization value; nothing else keeps it. */
    s3_curl.easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
    s3_curl.slist_free_all(list);
    buf_free(&url);
    return O2P_OK;
}

/* ---- outcome ----------------------------------------------------------- */

static int s3_curl_rc_permanent(CURLcode rc)
{
    return rc == CURLE_URL_MALFORMAT || rc == CURLE_UNSUPPORTED_PROTOCOL ||
           rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CACERT_BADFILE ||
           rc == CURLE_SSL_CERTPROBLEM;
}

static int s3_is_multipart_complete(const s3_call *call)
{
    return strcmp(call->method, "POST") == 0 && strncmp(call->query, "uploadId=", 9) == 0;
}

/* Whether another attempt of the same request may succeed. */
static int s3_transient(const s3_call *call, const s3_reply *reply)
{
    if (reply->curl_rc != CURLE_OK) return !s3_curl_rc_permanent(reply->curl_rc);
    if (reply->status >= 500 || reply->status == 429) return 1;
    char code[64];
    s3_xml_value((const char *)reply->body.data, reply->body.len, "Code", code, sizeof code);
    if (reply->status == 400)
        return strcmp(code, "RequestTimeout") == 0 || strcmp(code, "BadDigest") == 0;
    /* CompleteMultipartUpload may fail after its 200 header was sent. */
    if (reply->status == 200 && s3_is_multipart_complete(call))
        return memmem(reply->body.data, reply->body.len, "<Error>", 7) != NULL;
    return 0;
}

/* "s3://bucket/key" (or the bucket alone) for messages. */
static void s3_target(const store_s3 *s3, const s3_call *call, char *out, size_t cap)
{
    snprintf(out, cap, "s3://%s/%s", s3->bucket, call->key ? call->key : "");
}

/* One line for the retry log: what went wrong, no secrets. */
static void s3_failure_summary(const s3_reply *reply, char *out, size_t cap)
{
    if (reply->curl_rc != CURLE_OK) {
        snprintf(out, cap, "%s",
                 reply->curl_error[0] ? reply->curl_error : s3_curl.easy_strerror(reply->curl_rc));
        return;
    }
    char code[64];
    s3_xml_value((const char *)reply->body.data, reply->body.len, "Code", code, sizeof code);
    snprintf(out, cap, "HTTP %ld%s%s", reply->status, code[0] ? " " : "", code);
}

/* Maps the final reply of a request to 0, O2P_EIO or O2P_EAUTH. */
static int s3_outcome(const store_s3 *s3, const s3_call *call, const s3_reply *reply,
                      o2p_error *err)
{
    char target[320];
    s3_target(s3, call, target, sizeof target);
    if (reply->curl_rc != CURLE_OK) {
        const char *why =
            reply->curl_error[0] ? reply->curl_error : s3_curl.easy_strerror(reply->curl_rc);
        const char *hint = "";
        if (reply->curl_rc == CURLE_COULDNT_CONNECT || reply->curl_rc == CURLE_COULDNT_RESOLVE_HOST)
            hint = " (is the endpoint right and the server up?)";
        else if (reply->curl_rc == CURLE_OPERATION_TIMEDOUT)
            hint = " (timed out)";
        return o2p_errorf(err, O2P_EIO, "S3 %s %s via %s: %s%s", call->op, target, s3->origin, why,
                          hint);
    }
    if (reply->status >= 200 && reply->status < 300 && !s3_transient(call, reply)) return O2P_OK;

    char code[64], message[200];
    const char *body = (const char *)reply->body.data;
    s3_xml_value(body, reply->body.len, "Code", code, sizeof code);
    s3_xml_value(body, reply->body.len, "Message", message, sizeof message);
    const char *source = s3->creds.source;

    if (reply->status == 403) {
        if (strcmp(code, "InvalidAccessKeyId") == 0)
            return o2p_errorf(err, O2P_EAUTH,
                              "S3 %s %s: the access key id is not known to %s "
                              "(InvalidAccessKeyId); check the credentials from %s",
                              call->op, target, s3->origin, source);
        if (strcmp(code, "SignatureDoesNotMatch") == 0)
            return o2p_errorf(err, O2P_EAUTH,
                              "S3 %s %s: request signature rejected (SignatureDoesNotMatch); "
                              "the secret access key from %s is probably wrong",
                              call->op, target, source);
        if (strcmp(code, "RequestTimeTooSkewed") == 0)
            return o2p_errorf(err, O2P_EAUTH,
                              "S3 %s %s: the system clock is too far off (RequestTimeTooSkewed)",
                              call->op, target);
        return o2p_errorf(err, O2P_EAUTH,
                          "S3 %s %s: access denied (HTTP 403 %s%s%s); check the permissions of "
                          "the credentials from %s",
                          call->op, target, code[0] ? code : "no error code",
                          message[0] ? ": " : "", message, source);
    }
    if (reply->status == 404 && (strcmp(code, "NoSuchBucket") == 0 || call->key == NULL))
        return o2p_errorf(err, O2P_EAUTH, "S3 bucket '%s' does not exist at %s (%s)", s3->bucket,
                          s3->origin, code[0] ? code : "HTTP 404");
    if (reply->bucket_region[0] && strcmp(reply->bucket_region, s3->region) != 0)
        return o2p_errorf(err, O2P_EAUTH,
                          "S3 bucket '%s' is in region '%s', not '%s': set storage.s3.region",
                          s3->bucket, reply->bucket_region, s3->region);
    if (reply->status == 301 || reply->status == 307 ||
        strcmp(code, "AuthorizationHeaderMalformed") == 0 || strcmp(code, "InvalidToken") == 0 ||
        strcmp(code, "ExpiredToken") == 0 || strcmp(code, "InvalidBucketName") == 0 ||
        strcmp(code, "InvalidAccessKeyId") == 0)
        return o2p_errorf(err, O2P_EAUTH, "S3 %s %s: HTTP %ld %s%s%s", call->op, target,
                          reply->status, code[0] ? code : "redirect", message[0] ? ": " : "",
                          message);
    return o2p_errorf(err, O2P_EIO, "S3 %s %s: HTTP %ld%s%s%s%s", call->op, target, reply->status,
                      code[0] ? " " : "", code, message[0] ? ": " : "", message);
}

/* Runs a request with the in-call retries.  On 0, reply holds the successful
 * exchange (the caller frees reply->body). */
static int s3_execute(const store_s3 *s3, s3_conn *conn, const s3_call *call, s3_reply *reply,
                      uint32_t max_attempts, o2p_error *err)
{
    s3_prepared prep;
    buf_init(&reply->body, S3_REPLY_BODY_MAX);
    if (s3_prepare(s3, call, &prep) < 0) {
        buf_free(&prep.uri);
        return o2p_errorf(err, O2P_ENOMEM, "S3 %s: out of memory", call->op);
    }
    int rc = O2P_OK;
    for (uint32_t attempt = 1;; attempt++) {
        buf_reset(&reply->body);
        reply->etag[0] = '\0';
        reply->bucket_region[0] = '\0';
        if (s3_perform(s3, conn, call, &prep, reply) < 0) {
            rc = o2p_errorf(err, O2P_ENOMEM, "S3 %s: out of memory", call->op);
            break;
        }
        if (!s3_transient(call, reply) || attempt >= max_attempts) {
            rc = s3_outcome(s3, call, reply, err);
            break;
        }
        uint32_t delay = store_retry_delay_ms(&s3->retry, attempt);
        char why[CURL_ERROR_SIZE + 32], target[320];
        s3_failure_summary(reply, why, sizeof why);
        s3_target(s3, call, target, sizeof target);
        LOG_WARN("S3 %s %s failed (%s); retry %u of %u in %u ms", call->op, target, why, attempt,
                 max_attempts - 1, delay);
        store_retry_sleep_ms(delay);
    }
    buf_free(&prep.uri);
    return rc;
}

/* ---- operations -------------------------------------------------------- */

static int s3_put_single(store_s3 *s3, s3_conn *conn, const char *key, const uint8_t *data,
                         size_t len, o2p_error *err)
{
    s3_call call = {"PUT", "PUT", key, "", data, len, "application/octet-stream", 1};
    s3_reply reply;
    int rc = s3_execute(s3, conn, &call, &reply, s3->retry.max_attempts, err);
    buf_free(&reply.body);
    return rc;
}

static int s3_upload_query(o2p_buf *out, const char *upload_id, const char *part_number)
{
    sigv4_param params[2] = {{"uploadId", upload_id}, {"partNumber", part_number}};
    buf_reset(out);
    O2P_TRY(sigv4_canonical_query(out, params, part_number ? 2 : 1));
    O2P_TRY(buf_push_byte(out, 0));
    out->len--; /* keep the NUL out of the length */
    return O2P_OK;
}

static void s3_abort_upload(store_s3 *s3, s3_conn *conn, const char *key, const char *query)
{
    s3_call call = {"AbortMultipartUpload", "DELETE", key, query, NULL, 0, NULL, 0};
    s3_reply reply;
    o2p_error ignored;
    /* Best effort, one try: a leftover upload is only storage cost, and a
     * bucket lifecycle rule can reap it. */
    if (s3_execute(s3, conn, &call, &reply, 1, &ignored) < 0)
        LOG_WARN("S3 could not abort a multipart upload of %s: %s", key, ignored.msg);
    buf_free(&reply.body);
}

static int s3_upload_parts(store_s3 *s3, s3_conn *conn, const char *key, const char *upload_id,
                           const uint8_t *data, size_t len, o2p_buf *complete_xml, o2p_error *err)
{
    size_t part_size = s3->part_size;
    /* S3 allows 10,000 parts: grow the parts (in MiB steps) when needed. */
    if (len / part_size >= S3_MAX_PARTS) {
        part_size = (len + S3_MAX_PARTS - 1) / S3_MAX_PARTS;
        part_size = (part_size + ((size_t)1 << 20) - 1) & ~(((size_t)1 << 20) - 1);
    }
    o2p_buf query;
    buf_init(&query, 0);
    int rc = buf_append_str(complete_xml, "<CompleteMultipartUpload>");
    size_t part = 1;
    for (size_t off = 0; rc == O2P_OK && off < len; off += part_size, part++) {
        size_t n = len - off < part_size ? len - off : part_size;
        char number[24], op[40];
        snprintf(number, sizeof number, "%zu", part);
        snprintf(op, sizeof op, "UploadPart %zu", part);
        if (s3_upload_query(&query, upload_id, number) < 0) {
            rc = o2p_errorf(err, O2P_ENOMEM, "S3 multipart upload: out of memory");
            break;
        }
        s3_call call = {op, "PUT", key, (const char *)query.data, data + off, n, NULL, 1};
        s3_reply reply;
        rc = s3_execute(s3, conn, &call, &reply, s3->retry.max_attempts, err);
        if (rc == O2P_OK && reply.etag[0] == '\0')
            rc = o2p_errorf(err, O2P_EIO, "S3 %s s3://%s/%s: no ETag in the reply", op, s3->bucket,
                            key);
        if (rc == O2P_OK &&
            (buf_printf(complete_xml, "<Part><PartNumber>%zu</PartNumber><ETag>", part) < 0 ||
             s3_xml_append_escaped(complete_xml, reply.etag) < 0 ||
             buf_append_str(complete_xml, "</ETag></Part>") < 0))
            rc = o2p_errorf(err, O2P_ENOMEM, "S3 multipart upload: out of memory");
        buf_free(&reply.body);
    }
    if (rc == O2P_OK && buf_append_str(complete_xml, "</CompleteMultipartUpload>") < 0)
        rc = o2p_errorf(err, O2P_ENOMEM, "S3 multipart upload: out of memory");
    buf_free(&query);
    return rc;
}

static int s3_put_multipart(store_s3 *s3, s3_conn *conn, const char *key, const uint8_t *data,
                            size_t len, o2p_error *err)
{
    s3_call create = {"CreateMultipartUpload",    "POST", key, "uploads=", NULL, 0,
                      "application/octet-stream", 0};
    s3_reply reply;
    int rc = s3_execute(s3, conn, &create, &reply, s3->retry.max_attempts, err);
    char upload_id[1024];
    if (rc == O2P_OK && !s3_xml_value((const char *)reply.body.data, reply.body.len, "UploadId",
                                      upload_id, sizeof upload_id))
        rc = o2p_errorf(err, O2P_EIO, "S3 CreateMultipartUpload s3://%s/%s: no UploadId in reply",
                        s3->bucket, key);
    buf_free(&reply.body);
    if (rc < 0) return rc;

    o2p_buf xml, query;
    buf_init(&xml, 0);
    buf_init(&query, 0);
    rc = s3_upload_parts(s3, conn, key, upload_id, data, len, &xml, err);
    if (s3_upload_query(&query, upload_id, NULL) < 0 && rc == O2P_OK)
        rc = o2p_errorf(err, O2P_ENOMEM, "S3 multipart upload: out of memory");
    if (rc == O2P_OK) {
        s3_call complete = {"CompleteMultipartUpload", "POST",   key,
                            (const char *)query.data,  xml.data, xml.len,
                            "application/xml",         0};
        rc = s3_execute(s3, conn, &complete, &reply, s3->retry.max_attempts, err);
        buf_free(&reply.body);
    }
    if (rc < 0 && query.len > 0) s3_abort_upload(s3, conn, key, (const char *)query.data);
    buf_free(&xml);
    buf_free(&query);
    return rc;
}

static int s3_put(store *s, const char *key, const uint8_t *data, size_t len, o2p_error *err)
{
    store_s3 *s3 = (store_s3 *)s;
    o2p_buf full_key;
    buf_init(&full_key, 0);
    if (buf_printf(&full_key, "%s%s", s3->prefix, key) < 0) {
        buf_free(&full_key);
        return o2p_errorf(err, O2P_ENOMEM, "S3 PUT: out of memory");
    }
    s3_conn *conn = s3_conn_take(s3);
    int rc;
    if (conn == NULL) {
        rc = o2p_errorf(err, O2P_ENOMEM, "S3 PUT: cannot create a connection handle");
    } else {
        const char *k = (const char *)full_key.data;
        rc = len >= s3->multipart_threshold ? s3_put_multipart(s3, conn, k, data, len, err)
                                            : s3_put_single(s3, conn, k, data, len, err);
        s3_conn_give_back(s3, conn);
    }
    buf_free(&full_key);
    return rc;
}

static int s3_check(store *s, o2p_error *err)
{
    store_s3 *s3 = (store_s3 *)s;
    sigv4_param params[3] = {{"list-type", "2"}, {"max-keys", "1"}, {"prefix", s3->prefix}};
    o2p_buf query;
    buf_init(&query, 0);
    if (sigv4_canonical_query(&query, params, s3->prefix[0] ? 3 : 2) < 0 ||
        buf_push_byte(&query, 0) < 0) {
        buf_free(&query);
        return o2p_errorf(err, O2P_ENOMEM, "S3 check: out of memory");
    }
    s3_conn *conn = s3_conn_take(s3);
    int rc;
    if (conn == NULL) {
        rc = o2p_errorf(err, O2P_ENOMEM, "S3 check: cannot create a connection handle");
    } else {
        s3_call call = {"ListObjectsV2", "GET", NULL, (const char *)query.data, NULL, 0, NULL, 0};
        s3_reply reply;
        rc = s3_execute(s3, conn, &call, &reply, s3->retry.max_attempts, err);
        buf_free(&reply.body);
        s3_conn_give_back(s3, conn);
    }
    buf_free(&query);
    return rc;
}

static void s3_destroy(store *s)
{
    store_s3 *s3 = (store_s3 *)s;
    while (s3->idle) {
        s3_conn *conn = s3->idle;
        s3->idle = conn->next;
        s3_curl.easy_cleanup(conn->curl);
        mem_free(conn);
    }
    pthread_mutex_destroy(&s3->pool_lock);
    s3_credentials_free(&s3->creds);
    mem_free(s3->bucket);
    mem_free(s3->region);
    mem_free(s3->prefix);
    mem_free(s3->origin);
    mem_free(s3->host);
    mem_free(s3->path_base);
    mem_free(s3);
}

static int s3_exists(store *s, const char *key, o2p_error *err)
{
    store_s3 *s3 = (store_s3 *)s;
    o2p_buf full_key;
    buf_init(&full_key, 0);
    if (buf_printf(&full_key, "%s%s", s3->prefix, key) < 0) {
        buf_free(&full_key);
        return o2p_errorf(err, O2P_ENOMEM, "S3 HEAD: out of memory");
    }
    s3_conn *conn = s3_conn_take(s3);
    int rc;
    if (conn == NULL) {
        rc = o2p_errorf(err, O2P_ENOMEM, "S3 HEAD: cannot create a connection handle");
    } else {
        s3_call call = {"HEAD", "HEAD", (const char *)full_key.data, "", NULL, 0, NULL, 0};
        s3_reply reply;
        rc = s3_execute(s3, conn, &call, &reply, s3->retry.max_attempts, err);
        if (rc == O2P_OK)
            rc = 1;
        else if (rc == O2P_EIO && reply.curl_rc == CURLE_OK && reply.status == 404)
            rc = 0; /* a HEAD answer has no body: 404 is "no such key" */
        buf_free(&reply.body);
        s3_conn_give_back(s3, conn);
    }
    buf_free(&full_key);
    return rc;
}

static const store_ops s3_ops = {s3_put, s3_check, s3_destroy, s3_exists};

/* ---- opening ----------------------------------------------------------- */

void store_s3_config_init(store_s3_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->path_style = -1;
    cfg->multipart_threshold = S3_DEFAULT_THRESHOLD;
    cfg->part_size = S3_DEFAULT_PART_SIZE;
    cfg->connect_timeout_ms = 10000;
    cfg->stall_timeout_ms = 30000;
    cfg->retry = (store_retry_policy){4, 200, 5000};
}

static int s3_nonempty(const char *s)
{
    return s != NULL && s[0] != '\0';
}

/* Splits "http(s)://authority[/]" into origin "scheme://" and authority. */
static int s3_parse_endpoint(const char *endpoint, const char **scheme_end, size_t *authority_len)
{
    const char *rest;
    if (strncasecmp(endpoint, "https://", 8) == 0)
        rest = endpoint + 8;
    else if (strncasecmp(endpoint, "http://", 7) == 0)
        rest = endpoint + 7;
    else
        return -1;
    size_t n = strcspn(rest, "/?#@ ");
    if (n == 0) return -1;
    if (rest[n] != '\0' && !(rest[n] == '/' && rest[n + 1] == '\0')) return -1;
    *scheme_end = rest;
    *authority_len = n;
    return 0;
}

static int s3_open_fields(store_s3 *s3, const store_s3_config *cfg, o2p_error *err)
{
    const char *region = cfg->region;
    if (!s3_nonempty(region)) region = getenv("AWS_REGION");
    if (!s3_nonempty(region)) region = getenv("AWS_DEFAULT_REGION");
    if (!s3_nonempty(region)) region = "us-east-1";
    o2p_buf tmp;
    buf_init(&tmp, 0);
    const char *endpoint = cfg->endpoint;
    int rc = O2P_OK;
    if (!s3_nonempty(endpoint)) {
        rc = buf_printf(&tmp, "https://s3.%s.amazonaws.com", region);
        endpoint = (const char *)tmp.data;
    }
    const char *authority = NULL;
    size_t authority_len = 0;
    if (rc == O2P_OK && s3_parse_endpoint(endpoint, &authority, &authority_len) < 0) {
        rc = o2p_errorf(err, O2P_EINVAL,
                        "storage.s3.endpoint '%s': expected http://host[:port] or "
                        "https://host[:port]",
                        endpoint);
        buf_free(&tmp);
        return rc;
    }
    int path_style = cfg->path_style < 0 ? s3_nonempty(cfg->endpoint) : cfg->path_style;
    const char *scheme = strncasecmp(endpoint, "https", 5) == 0 ? "https://" : "http://";

    o2p_buf origin, host, path_base, prefix, desc;
    buf_init(&origin, 0);
    buf_init(&host, 0);
    buf_init(&path_base, 0);
    buf_init(&prefix, 0);
    buf_init(&desc, 0);
    if (rc == O2P_OK) {
        if (path_style) {
            rc = buf_printf(&host, "%.*s", (int)authority_len, authority);
            if (rc == O2P_OK) rc = sigv4_encode_path(&path_base, cfg->bucket);
        } else {
            rc = buf_printf(&host, "%s.%.*s", cfg->bucket, (int)authority_len, authority);
        }
    }
    if (rc == O2P_OK) rc = buf_printf(&origin, "%s%s", scheme, (const char *)host.data);
    if (rc == O2P_OK) rc = buf_push_byte(&path_base, 0); /* "" when virtual-hosted */
    const char *p = cfg->prefix ? cfg->prefix : "";
    while (*p == '/') p++;
    if (rc == O2P_OK)
        rc = buf_printf(&prefix, "%s%s", p, p[0] && p[strlen(p) - 1] != '/' ? "/" : "");
    if (rc == O2P_OK)
        rc = buf_printf(&desc, "s3://%s/%s (endpoint %s, %s, region %s)", cfg->bucket,
                        (const char *)prefix.data, endpoint,
                        path_style ? "path-style" : "virtual-hosted", region);
    if (rc == O2P_OK) {
        s3->origin = (char *)buf_detach(&origin, NULL);
        s3->host = (char *)buf_detach(&host, NULL);
        s3->path_base = (char *)buf_detach(&path_base, NULL);
        s3->prefix = (char *)buf_detach(&prefix, NULL);
        s3->base.description = (char *)buf_detach(&desc, NULL);
        s3->region = mem_strdup(region);
        s3->bucket = mem_strdup(cfg->bucket);
        if (s3->region == NULL || s3->bucket == NULL) rc = O2P_ENOMEM;
    }
    buf_free(&origin);
    buf_free(&host);
    buf_free(&path_base);
    buf_free(&prefix);
    buf_free(&desc);
    buf_free(&tmp);
    if (rc < 0) return o2p_errorf(err, O2P_ENOMEM, "opening S3 store: out of memory");
    return O2P_OK;
}

static int s3_valid_bucket(const char *bucket)
{
    if (!s3_nonempty(bucket) || strlen(bucket) > 255) return 0;
    for (const char *c = bucket; *c; c++)
        if ((unsigned char)*c <= 0x20 || *c == 0x7f || *c == '/' || *c == '?' || *c == '#')
            return 0;
    return 1;
}

int store_open_s3(store **out, const store_s3_config *cfg, o2p_error *err)
{
    *out = NULL;
    if (!s3_valid_bucket(cfg->bucket))
        return o2p_errorf(err, O2P_EINVAL, "storage.s3.bucket '%s' is not a bucket name",
                          cfg->bucket ? cfg->bucket : "");
    if (cfg->part_size != 0 && cfg->part_size < STORE_S3_MIN_PART_SIZE)
        return o2p_errorf(err, O2P_EINVAL, "S3 part size %zu is below the 5 MiB S3 minimum",
                          cfg->part_size);
    int load_rc = s3_curl_load(err);
    if (load_rc < 0) return load_rc;
    store_s3 *s3 = mem_calloc(1, sizeof *s3);
    if (s3 == NULL) return o2p_errorf(err, O2P_ENOMEM, "opening S3 store: out of memory");
    s3->base.ops = &s3_ops;
    pthread_mutex_init(&s3->pool_lock, NULL);
    s3->multipart_threshold =
        cfg->multipart_threshold ? cfg->multipart_threshold : S3_DEFAULT_THRESHOLD;
    s3->part_size = cfg->part_size ? cfg->part_size : S3_DEFAULT_PART_SIZE;
    s3->connect_timeout_ms = cfg->connect_timeout_ms ? cfg->connect_timeout_ms : 10000;
    s3->stall_timeout_ms = cfg->stall_timeout_ms ? cfg->stall_timeout_ms : 30000;
    s3->retry = cfg->retry;
    if (s3->retry.max_attempts == 0) s3->retry.max_attempts = 4;
    if (s3->retry.base_ms == 0) s3->retry.base_ms = 200;
    if (s3->retry.max_ms < s3->retry.base_ms) s3->retry.max_ms = s3->retry.base_ms;

    int rc = s3_open_fields(s3, cfg, err);
    if (rc == O2P_OK) rc = s3_credentials_resolve(cfg, &s3->creds, err);
    if (rc < 0) {
        store_destroy(&s3->base);
        return rc;
    }
    *out = &s3->base;
    return O2P_OK;
}
