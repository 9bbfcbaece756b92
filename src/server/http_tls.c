/*
 * http_tls: PEM loading and reloadable GnuTLS credentials for the HTTP
 * listener (see http_tls.h).
 */
#include "server/http_tls.h"

#include <errno.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/buf.h"
#include "core/mem.h"

/* PEM files bigger than this are not certificates or keys. */
#define TLS_MAX_FILE_BYTES ((size_t)1024 * 1024)

#define KEY_CERT "server.tls.cert_file"
#define KEY_KEY  "server.tls.key_file"
#define KEY_CA   "server.tls.client_ca_file"

/* One loaded set; replaced ones are kept on a list until destroy. */
typedef struct tls_set {
    gnutls_certificate_credentials_t cred;
    int mutual;
    char describe[160];
    struct tls_set *older;
} tls_set;

struct http_tls {
    char *cert_file;
    char *key_file;
    char *ca_file;
    pthread_mutex_t lock;
    tls_set *current; /* newest first; ->older are replaced sets */
    char *initial_cert_pem;
    char *initial_key_pem;
};

/* Reads a whole file as NUL-terminated text. */
static int tls_read(const char *key, const char *path, o2p_buf *out, o2p_error *err)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) return o2p_errorf(err, O2P_EINVAL, "%s '%s': %s", key, path, strerror(errno));
    int rc = O2P_OK;
    for (;;) {
        uint8_t *chunk = buf_extend(out, 4096);
        if (chunk == NULL) {
            rc = o2p_errorf(err, O2P_ENOMEM, "%s '%s': out of memory", key, path);
            break;
        }
        size_t n = fread(chunk, 1, 4096, f);
        out->len -= 4096 - n;
        if (ferror(f)) {
            rc = o2p_errorf(err, O2P_EINVAL, "%s '%s': %s", key, path, strerror(errno));
            break;
        }
        if (out->len > TLS_MAX_FILE_BYTES) {
            rc = o2p_errorf(err, O2P_EINVAL, "%s '%s': larger than 1 MiB; not a PEM file", key,
                            path);
            break;
        }
        if (n < 4096) break;
    }
    fclose(f);
    if (rc == O2P_OK && buf_push_byte(out, 0) < 0)
        rc = o2p_errorf(err, O2P_ENOMEM, "%s '%s': out of memory", key, path);
    if (rc == O2P_OK) out->len--; /* the NUL stays after the text */
    return rc;
}

static gnutls_datum_t tls_datum(const o2p_buf *b)
{
    gnutls_datum_t d = {.data = b->data, .size = (unsigned)b->len};
    return d;
}

/* Checks the chain parses and fills in its first certificate's fingerprint
 * and expiry. */
static int tls_check_cert(const char *path, const o2p_buf *pem, char *describe, size_t size,
                          o2p_error *err)
{
    gnutls_datum_t d = tls_datum(pem);
    gnutls_x509_crt_t *certs = NULL;
    unsigned count = 0;
    int g = gnutls_x509_crt_list_import2(&certs, &count, &d, GNUTLS_X509_FMT_PEM, 0);
    if (g < 0 || count == 0) {
        if (g >= 0) gnutls_free(certs);
        return o2p_errorf(err, O2P_EINVAL, "%s '%s': no certificate found (%s)", KEY_CERT, path,
                          g < 0 ? gnutls_strerror(g) : "expected PEM \"BEGIN CERTIFICATE\"");
    }
    unsigned char fp[32];
    size_t fp_len = sizeof fp;
    char hex[3 * sizeof fp + 1] = "";
    if (gnutls_x509_crt_get_fingerprint(certs[0], GNUTLS_DIG_SHA256, fp, &fp_len) == 0) {
        for (size_t i = 0; i < fp_len; i++)
            snprintf(hex + 3 * i, sizeof hex - 3 * i, "%02X%s", fp[i], i + 1 < fp_len ? ":" : "");
    }
    time_t expires = gnutls_x509_crt_get_expiration_time(certs[0]);
    struct tm tm;
    char day[16] = "unknown";
    if (expires != (time_t)-1 && gmtime_r(&expires, &tm))
        strftime(day, sizeof day, "%Y-%m-%d", &tm);
    snprintf(describe, size, "sha256 %s, expires %s", hex, day);
    for (unsigned i = 0; i < count; i++) gnutls_x509_crt_deinit(certs[i]);
    gnutls_free(certs);
    return O2P_OK;
}

static int tls_check_key(const char *path, const o2p_buf *pem, o2p_error *err)
{
    if (strstr((const char *)pem->data, "PRIVATE KEY-----") == NULL)
        return o2p_errorf(err, O2P_EINVAL,
                          "%s '%s': no private key found (expected PEM \"BEGIN PRIVATE KEY\")",
                          KEY_KEY, path);
    gnutls_x509_privkey_t key;
    if (gnutls_x509_privkey_init(&key) < 0)
        return o2p_errorf(err, O2P_ENOMEM, "%s '%s': out of memory", KEY_KEY, path);
    gnutls_datum_t d = tls_datum(pem);
    int g = gnutls_x509_privkey_import2(key, &d, GNUTLS_X509_FMT_PEM, NULL, GNUTLS_PKCS_PLAIN);
    gnutls_x509_privkey_deinit(key);
    if (g == GNUTLS_E_DECRYPTION_FAILED ||
        strstr((const char *)pem->data, "ENCRYPTED PRIVATE KEY") != NULL)
        return o2p_errorf(err, O2P_EINVAL,
                          "%s '%s': the private key is encrypted; give an unencrypted key", KEY_KEY,
                          path);
    if (g < 0)
        return o2p_errorf(err, O2P_EINVAL, "%s '%s': no private key found (%s)", KEY_KEY, path,
                          gnutls_strerror(g));
    return O2P_OK;
}

static void tls_set_free(tls_set *s)
{
    if (s == NULL) return;
    if (s->cred) gnutls_certificate_free_credentials(s->cred);
    mem_free(s);
}

/* Loads all files into a new set.  When keep_pem, the certificate and key
 * text are handed to the caller in *cert_pem / *key_pem. */
static int tls_load(const http_tls *tls, tls_set **out, char **cert_pem, char **key_pem,
                    o2p_error *err)
{
    *out = NULL;
    o2p_buf cert, key, ca;
    buf_init(&cert, 0);
    buf_init(&key, 0);
    buf_init(&ca, 0);
    tls_set *s = mem_calloc(1, sizeof *s);
    int rc = s ? O2P_OK : o2p_errorf(err, O2P_ENOMEM, "tls: out of memory");
    if (rc == O2P_OK) rc = tls_read(KEY_CERT, tls->cert_file, &cert, err);
    if (rc == O2P_OK) rc = tls_read(KEY_KEY, tls->key_file, &key, err);
    if (rc == O2P_OK && tls->ca_file) rc = tls_read(KEY_CA, tls->ca_file, &ca, err);
    if (rc == O2P_OK)
        rc = tls_check_cert(tls->cert_file, &cert, s->describe, sizeof s->describe, err);
    if (rc == O2P_OK) rc = tls_check_key(tls->key_file, &key, err);
    if (rc == O2P_OK && gnutls_certificate_allocate_credentials(&s->cred) < 0)
        rc = o2p_errorf(err, O2P_ENOMEM, "tls: out of memory");
    if (rc == O2P_OK) {
        gnutls_datum_t c = tls_datum(&cert), k = tls_datum(&key);
        int g = gnutls_certificate_set_x509_key_mem2(s->cred, &c, &k, GNUTLS_X509_FMT_PEM, NULL,
                                                     GNUTLS_PKCS_PLAIN);
        if (g == GNUTLS_E_CERTIFICATE_KEY_MISMATCH)
            rc = o2p_errorf(err, O2P_EINVAL, "%s '%s': the private key does not belong to %s '%s'",
                            KEY_KEY, tls->key_file, KEY_CERT, tls->cert_file);
        else if (g < 0)
            rc = o2p_errorf(err, O2P_EINVAL, "%s '%s' with %s '%s': %s", KEY_CERT, tls->cert_file,
                            KEY_KEY, tls->key_file, gnutls_strerror(g));
    }
    if (rc == O2P_OK && tls->ca_file) {
        gnutls_datum_t d = tls_datum(&ca);
        int g = gnutls_certificate_set_x509_trust_mem(s->cred, &d, GNUTLS_X509_FMT_PEM);
        if (g <= 0)
            rc = o2p_errorf(err, O2P_EINVAL, "%s '%s': no CA certificate found (%s)", KEY_CA,
                            tls->ca_file,
                            g < 0 ? gnutls_strerror(g) : "expected PEM \"BEGIN CERTIFICATE\"");
        s->mutual = 1;
    }
    if (rc == O2P_OK && cert_pem) {
        *cert_pem = (char *)cert.data; /* NUL-terminated by tls_read */
        *key_pem = (char *)key.data;
        buf_init(&cert, 0);
        buf_init(&key, 0);
    }
    /* the key text is secret: wipe it before it goes back to the heap */
    if (key.data) memset(key.data, 0, key.len);
    buf_free(&cert);
    buf_free(&key);
    buf_free(&ca);
    if (rc < 0) {
        tls_set_free(s);
        return rc;
    }
    *out = s;
    return O2P_OK;
}

void http_tls_destroy(http_tls *tls)
{
    if (tls == NULL) return;
    for (tls_set *s = tls->current, *next; s; s = next) {
        next = s->older;
        tls_set_free(s);
    }
    if (tls->initial_key_pem) memset(tls->initial_key_pem, 0, strlen(tls->initial_key_pem));
    mem_free(tls->initial_cert_pem);
    mem_free(tls->initial_key_pem);
    mem_free(tls->cert_file);
    mem_free(tls->key_file);
    mem_free(tls->ca_file);
    pthread_mutex_destroy(&tls->lock);
    mem_free(tls);
}

int http_tls_create(http_tls **out, const char *cert_file, const char *key_file,
                    const char *client_ca_file, o2p_error *err)
{
    *out = NULL;
    if (cert_file == NULL || *cert_file == '\0' || key_file == NULL || *key_file == '\0')
        return o2p_errorf(err, O2P_EINVAL, "tls: %s and %s are both required", KEY_CERT, KEY_KEY);
    http_tls *tls = mem_calloc(1, sizeof *tls);
    if (tls == NULL) return o2p_errorf(err, O2P_ENOMEM, "tls: out of memory");
    pthread_mutex_init(&tls->lock, NULL);
    tls->cert_file = mem_strdup(cert_file);
    tls->key_file = mem_strdup(key_file);
    tls->ca_file = client_ca_file && *client_ca_file ? mem_strdup(client_ca_file) : NULL;
    int rc =
        tls->cert_file && tls->key_file && (tls->ca_file || !client_ca_file || !*client_ca_file)
            ? O2P_OK
            : o2p_errorf(err, O2P_ENOMEM, "tls: out of memory");
    if (rc == O2P_OK)
        rc = tls_load(tls, &tls->current, &tls->initial_cert_pem, &tls->initial_key_pem, err);
    if (rc < 0) {
        http_tls_destroy(tls);
        return rc;
    }
    *out = tls;
    return O2P_OK;
}

int http_tls_reload(http_tls *tls, o2p_error *err)
{
    tls_set *fresh;
    O2P_TRY(tls_load(tls, &fresh, NULL, NULL, err));
    pthread_mutex_lock(&tls->lock);
    fresh->older = tls->current;
    tls->current = fresh;
    pthread_mutex_unlock(&tls->lock);
    return O2P_OK;
}

int http_tls_attach(http_tls *tls, void *gnutls_session)
{
    gnutls_session_t session = gnutls_session;
    pthread_mutex_lock(&tls->lock);
    tls_set *s = tls->current;
    int g = gnutls_credentials_set(session, GNUTLS_CRD_CERTIFICATE, s->cred);
    pthread_mutex_unlock(&tls->lock);
    if (g < 0) return O2P_EIO;
    if (s->mutual) {
        /* no certificate, or one the CAs do not vouch for: the handshake fails */
        gnutls_certificate_server_set_request(session, GNUTLS_CERT_REQUIRE);
        gnutls_session_set_verify_cert(session, NULL, 0);
    }
    return O2P_OK;
}

const char *http_tls_initial_cert_pem(const http_tls *tls)
{
    return tls->initial_cert_pem;
}

const char *http_tls_initial_key_pem(const http_tls *tls)
{
    return tls->initial_key_pem;
}

void http_tls_describe(http_tls *tls, char *out, size_t size)
{
    pthread_mutex_lock(&tls->lock);
    snprintf(out, size, "%s%s", tls->current->describe,
             tls->current->mutual ? ", client certificates required" : "");
    pthread_mutex_unlock(&tls->lock);
}
