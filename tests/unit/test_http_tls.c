/*
 * Unit tests for src/server/http_tls: loading PEM files (errors name the key
 * and the file), reload keeping the old set on a bad file, and a real HTTPS
 * request through http_server (libcurl as the client).  Certificates are
 * made here with GnuTLS: self-signed EC keys with SAN 127.0.0.1.
 */
#include <curl/curl.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "server/http_server.h"
#include "server/http_tls.h"
#include "unit.h"

static void write_text(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    CHECK(fwrite(data, 1, len, f) == len);
    fclose(f);
}

/* Writes NAME.pem (self-signed, SAN 127.0.0.1) and NAME.key under the test's dir. */
static void make_cert(const char *name, char *cert_path, char *key_path, size_t size)
{
    gnutls_x509_privkey_t key;
    gnutls_x509_crt_t crt;
    CHECK(gnutls_x509_privkey_init(&key) == 0);
    CHECK(gnutls_x509_privkey_generate(key, GNUTLS_PK_ECDSA,
                                       GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0) == 0);
    CHECK(gnutls_x509_crt_init(&crt) == 0);
    CHECK(gnutls_x509_crt_set_version(crt, 3) == 0);
    unsigned char serial[8] = {1, 2, 3, 4, 5, 6, 7, (unsigned char)name[0]};
    CHECK(gnutls_x509_crt_set_serial(crt, serial, sizeof serial) == 0);
    time_t now = time(NULL);
    CHECK(gnutls_x509_crt_set_activation_time(crt, now - 3600) == 0);
    CHECK(gnutls_x509_crt_set_expiration_time(crt, now + 86400) == 0);
    CHECK(gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, name, strlen(name)) ==
          0);
    unsigned char ip[4] = {127, 0, 0, 1};
    CHECK(gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_IPADDRESS, ip, 4, GNUTLS_FSAN_SET) ==
          0);
    CHECK(gnutls_x509_crt_set_basic_constraints(crt, 1, -1) == 0);
    CHECK(gnutls_x509_crt_set_key(crt, key) == 0);
    CHECK(gnutls_x509_crt_sign2(crt, crt, key, GNUTLS_DIG_SHA256, 0) == 0);
    gnutls_datum_t pem;
    snprintf(cert_path, size, "%s/%s.pem", unit_tmpdir(), name);
    snprintf(key_path, size, "%s/%s.key", unit_tmpdir(), name);
    CHECK(gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, &pem) == 0);
    write_text(cert_path, pem.data, pem.size);
    gnutls_free(pem.data);
    CHECK(gnutls_x509_privkey_export2_pkcs8(key, GNUTLS_X509_FMT_PEM, NULL, GNUTLS_PKCS_PLAIN,
                                            &pem) == 0);
    write_text(key_path, pem.data, pem.size);
    gnutls_free(pem.data);
    gnutls_x509_crt_deinit(crt);
    gnutls_x509_privkey_deinit(key);
}

static void expect_create_error(const char *cert, const char *key, const char *ca, const char *want)
{
    http_tls *tls = NULL;
    o2p_error err;
    o2p_error_clear(&err);
    CHECK(http_tls_create(&tls, cert, key, ca, &err) < 0);
    CHECK(tls == NULL);
    CHECK_MSG(strstr(err.msg, want) != NULL, "message \"%s\" lacks \"%s\"", err.msg, want);
}

TEST(http_tls_load_errors_name_the_file)
{
    char cert[512], key[512], cert2[512], key2[512], garbage[512], missing[512];
    make_cert("a", cert, key, sizeof cert);
    make_cert("b", cert2, key2, sizeof cert2);
    snprintf(garbage, sizeof garbage, "%s/garbage.pem", unit_tmpdir());
    snprintf(missing, sizeof missing, "%s/missing.pem", unit_tmpdir());
    write_text(garbage, "not PEM at all\n", 15);

    http_tls *tls = NULL;
    o2p_error err;
    o2p_error_clear(&err);
    CHECK_OK(http_tls_create(&tls, cert, key, NULL, &err));
    char info[256];
    http_tls_describe(tls, info, sizeof info);
    CHECK(strncmp(info, "sha256 ", 7) == 0);
    CHECK(strstr(info, "client certificates") == NULL);
    CHECK(strstr(http_tls_initial_cert_pem(tls), "BEGIN CERTIFICATE") != NULL);
    http_tls_destroy(tls);
    /* the certificate doubles as a CA list: mutual TLS on */
    CHECK_OK(http_tls_create(&tls, cert, key, cert2, &err));
    http_tls_describe(tls, info, sizeof info);
    CHECK(strstr(info, "client certificates required") != NULL);
    http_tls_destroy(tls);

    expect_create_error(cert, garbage, NULL, "server.tls.key_file '");
    expect_create_error(cert, garbage, NULL, "garbage.pem': no private key found");
    expect_create_error(cert, missing, NULL, "missing.pem': No such file or directory");
    expect_create_error(garbage, key, NULL, "server.tls.cert_file '");
    expect_create_error(garbage, key, NULL, "garbage.pem': no certificate found");
    expect_create_error(cert, key2, NULL,
                        "the private key does not belong to server.tls.cert_file");
    expect_create_error(cert, key, garbage, "server.tls.client_ca_file '");
    expect_create_error(cert, key, garbage, "no CA certificate found");
    expect_create_error(cert, key, missing, "missing.pem': No such file or directory");
    expect_create_error(NULL, key, NULL, "are both required");
}

TEST(http_tls_reload_keeps_the_old_set_on_a_bad_file)
{
    char cert[512], key[512], cert2[512], key2[512];
    make_cert("a", cert, key, sizeof cert);
    make_cert("b", cert2, key2, sizeof cert2);
    char live_cert[600], live_key[600];
    snprintf(live_cert, sizeof live_cert, "%s/live.pem", unit_tmpdir());
    snprintf(live_key, sizeof live_key, "%s/live.key", unit_tmpdir());
    CHECK(rename(cert, live_cert) == 0 && rename(key, live_key) == 0);

    http_tls *tls = NULL;
    o2p_error err;
    o2p_error_clear(&err);
    CHECK_OK(http_tls_create(&tls, live_cert, live_key, NULL, &err));
    char first[256], now[256];
    http_tls_describe(tls, first, sizeof first);

    /* a key that does not match: refused, the first set stays */
    CHECK(rename(key2, live_key) == 0);
    CHECK(http_tls_reload(tls, &err) < 0);
    CHECK_MSG(strstr(err.msg, "live.key") != NULL, "%s", err.msg);
    http_tls_describe(tls, now, sizeof now);
    CHECK_STR(now, first);

    /* the matching certificate too: the new set is current */
    CHECK(rename(cert2, live_cert) == 0);
    CHECK_OK(http_tls_reload(tls, &err));
    http_tls_describe(tls, now, sizeof now);
    CHECK(strcmp(now, first) != 0);
    http_tls_destroy(tls);
}

static int tls_ingest(void *ctx, unsigned thread_index, otlp_signal signal, otlp_format format,
                      const uint8_t *body, size_t len, http_ingest_reply *reply, o2p_error *err)
{
    (void)ctx, (void)thread_index, (void)signal, (void)format, (void)body, (void)len, (void)reply,
        (void)err;
    return O2P_OK;
}

static size_t discard(char *p, size_t size, size_t n, void *ctx)
{
    (void)p, (void)ctx;
    return size * n;
}

/* GET /health over https; returns the status, or 0 when the transfer failed. */
static long https_get(uint16_t port, const char *ca)
{
    CURL *c = curl_easy_init();
    CHECK(c != NULL);
    char url[64];
    snprintf(url, sizeof url, "https://127.0.0.1:%u/health", (unsigned)port);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CAINFO, ca);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
    long status = 0;
    if (curl_easy_perform(c) == CURLE_OK) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(c);
    return status;
}

TEST(http_tls_server_answers_https_with_the_current_certificate)
{
    char cert[512], key[512], cert2[512], key2[512];
    make_cert("a", cert, key, sizeof cert);
    make_cert("b", cert2, key2, sizeof cert2);
    char live_cert[600], live_key[600], ca_a[600];
    snprintf(live_cert, sizeof live_cert, "%s/live.pem", unit_tmpdir());
    snprintf(live_key, sizeof live_key, "%s/live.key", unit_tmpdir());
    snprintf(ca_a, sizeof ca_a, "%s/a-ca.pem", unit_tmpdir());
    CHECK(rename(cert, live_cert) == 0 && rename(key, live_key) == 0);
    /* keep a copy of a's certificate to trust it after the live files change */
    FILE *in = fopen(live_cert, "rb");
    CHECK(in != NULL);
    char pem[8192];
    size_t n = fread(pem, 1, sizeof pem, in);
    fclose(in);
    write_text(ca_a, pem, n);

    http_handlers h = {.ingest = tls_ingest};
    http_config hc = {.listen_addr = "127.0.0.1:0",
                      .threads = 2,
                      .tls_cert_file = live_cert,
                      .tls_key_file = live_key};
    http_server *srv = NULL;
    o2p_error err;
    o2p_error_clear(&err);
    CHECK_OK(http_server_start(&srv, &hc, &h, &err));
    CHECK(http_server_tls(srv));
    uint16_t port = http_server_port(srv);
    CHECK_INT(https_get(port, ca_a), 200);
    CHECK_INT(https_get(port, cert2), 0); /* b is not the server's certificate */

    CHECK(rename(cert2, live_cert) == 0 && rename(key2, live_key) == 0);
    CHECK_OK(http_server_reload_tls(srv, &err));
    /* new connections are shown b */
    CHECK_INT(https_get(port, live_cert), 200);
    CHECK_INT(https_get(port, ca_a), 0);
    http_server_stop(srv);
}
