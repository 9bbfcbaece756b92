/* Unit tests for the S3 backend's offline parts: credential resolution and
 * the shared-credentials INI reader, error-document reading, the retry
 * policy, and configuration checks at open (no network here; the requests
 * themselves are covered by tests/e2e/s3.test.mjs). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "storage/retry.h"
#include "storage/s3_creds.h"
#include "storage/s3_xml.h"
#include "storage/store.h"
#include "unit.h"

static void clear_aws_env(void)
{
    unsetenv("AWS_ACCESS_KEY_ID");
    unsetenv("AWS_SECRET_ACCESS_KEY");
    unsetenv("AWS_SESSION_TOKEN");
    unsetenv("AWS_PROFILE");
    unsetenv("AWS_REGION");
    unsetenv("AWS_DEFAULT_REGION");
    unsetenv("AWS_SHARED_CREDENTIALS_FILE");
    setenv("HOME", unit_tmpdir(), 1);
}

static const char *write_creds_file(const char *text)
{
    static char path[600];
    snprintf(path, sizeof path, "%s/credentials", unit_tmpdir());
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    fputs(text, f);
    fclose(f);
    return path;
}

static const char ini[] = "# comment\n"
                          "[default]\n"
                          "aws_access_key_id = AKIDDEFAULT\n"
                          "aws_secret_access_key=secret/default+x\n"
                          "\n"
                          "  [ ci ]  \r\n"
                          "; another comment\r\n"
                          "AWS_ACCESS_KEY_ID\t=  AKIDCI  \r\n"
                          "aws_secret_access_key = ci secret with spaces\r\n"
                          "aws_session_token = TOKEN==\r\n"
                          "region = eu-west-1\r\n"
                          "[other]\n"
                          "aws_access_key_id = AKIDOTHER\n";

TEST(store_s3_ini_profiles)
{
    s3_credentials c = {0};
    CHECK_INT(s3_credentials_parse_ini(ini, strlen(ini), "default", &c), 1);
    CHECK_STR(c.access_key_id, "AKIDDEFAULT");
    CHECK_STR(c.secret_access_key, "secret/default+x");
    CHECK(c.session_token == NULL);
    s3_credentials_free(&c);
    CHECK_INT(s3_credentials_parse_ini(ini, strlen(ini), "ci", &c), 1);
    CHECK_STR(c.access_key_id, "AKIDCI");
    CHECK_STR(c.secret_access_key, "ci secret with spaces");
    CHECK_STR(c.session_token, "TOKEN==");
    s3_credentials_free(&c);
    CHECK_INT(s3_credentials_parse_ini(ini, strlen(ini), "missing", &c), 0);
    CHECK(c.access_key_id == NULL);
}

TEST(store_s3_credentials_order)
{
    clear_aws_env();
    store_s3_config cfg;
    store_s3_config_init(&cfg);
    s3_credentials c;
    o2p_error err;

    /* Nothing anywhere: a message naming every place to put them. */
    CHECK_INT(s3_credentials_resolve(&cfg, &c, &err), O2P_EAUTH);
    CHECK(strstr(err.msg, "AWS_ACCESS_KEY_ID") != NULL);
    CHECK(strstr(err.msg, "/.aws/credentials") != NULL);

    /* Shared file at $HOME/.aws/credentials is found via HOME... */
    setenv("AWS_SHARED_CREDENTIALS_FILE", write_creds_file(ini), 1);
    CHECK_OK(s3_credentials_resolve(&cfg, &c, &err));
    CHECK_STR(c.access_key_id, "AKIDDEFAULT");
    CHECK(strstr(c.source, "profile 'default'") != NULL);
    s3_credentials_free(&c);
    /* ...under AWS_PROFILE, or the configured profile, which wins. */
    setenv("AWS_PROFILE", "ci", 1);
    CHECK_OK(s3_credentials_resolve(&cfg, &c, &err));
    CHECK_STR(c.access_key_id, "AKIDCI");
    s3_credentials_free(&c);
    cfg.profile = "nope";
    CHECK_INT(s3_credentials_resolve(&cfg, &c, &err), O2P_EAUTH);
    CHECK(strstr(err.msg, "no profile [nope]") != NULL);
    cfg.profile = "other"; /* has no secret */
    CHECK_INT(s3_credentials_resolve(&cfg, &c, &err), O2P_EAUTH);
    CHECK(strstr(err.msg, "lacks") != NULL);
    cfg.profile = NULL;

    /* Environment beats the file. */
    setenv("AWS_ACCESS_KEY_ID", "AKIDENV", 1);
    CHECK_INT(s3_credentials_resolve(&cfg, &c, &err), O2P_EAUTH); /* half set */
    setenv("AWS_SECRET_ACCESS_KEY", "envsecret", 1);
    setenv("AWS_SESSION_TOKEN", "envtoken", 1);
    CHECK_OK(s3_credentials_resolve(&cfg, &c, &err));
    CHECK_STR(c.access_key_id, "AKIDENV");
    CHECK_STR(c.session_token, "envtoken");
    CHECK(strstr(c.source, "environment") != NULL);
    s3_credentials_free(&c);

    /* Explicit configuration beats everything. */
    cfg.access_key_id = "AKIDCFG";
    cfg.secret_access_key = "cfgsecret";
    CHECK_OK(s3_credentials_resolve(&cfg, &c, &err));
    CHECK_STR(c.access_key_id, "AKIDCFG");
    CHECK_STR(c.secret_access_key, "cfgsecret");
    CHECK(c.session_token == NULL);
    s3_credentials_free(&c);
    cfg.secret_access_key = NULL;
    CHECK_INT(s3_credentials_resolve(&cfg, &c, &err), O2P_EAUTH);
    CHECK(strstr(err.msg, "together") != NULL);
}

TEST(store_s3_xml_values)
{
    const char *doc = "<?xml version=\"1.0\"?><Error><Code>NoSuchBucket</Code>"
                      "<Message>The &quot;bucket&quot; &amp; &lt;co&gt; &#39;x&#39;</Message>"
                      "<BucketName>b</BucketName></Error>";
    char out[64];
    CHECK_INT(s3_xml_value(doc, strlen(doc), "Code", out, sizeof out), 1);
    CHECK_STR(out, "NoSuchBucket");
    CHECK_INT(s3_xml_value(doc, strlen(doc), "Message", out, sizeof out), 1);
    CHECK_STR(out, "The \"bucket\" & <co> 'x'");
    CHECK_INT(s3_xml_value(doc, strlen(doc), "UploadId", out, sizeof out), 0);
    CHECK_STR(out, "");
    char small[5];
    CHECK_INT(s3_xml_value(doc, strlen(doc), "Code", small, sizeof small), 1);
    CHECK_STR(small, "NoSu");
    /* Unterminated element: not found rather than reading past the end. */
    CHECK_INT(s3_xml_value("<Code>abc", 9, "Code", out, sizeof out), 0);
    o2p_buf b;
    buf_init(&b, 0);
    CHECK_OK(s3_xml_append_escaped(&b, "\"a&b<c>\""));
    CHECK_MEM(b.data, b.len, "\"a&amp;b&lt;c&gt;\"", 18);
    buf_free(&b);
}

TEST(store_retry_backoff_grows_capped_with_jitter)
{
    store_retry_policy p = {5, 100, 1000};
    CHECK_INT(store_retry_backoff_ms(&p, 1, 0), 50);
    CHECK_INT(store_retry_backoff_ms(&p, 1, 50), 100);
    CHECK_INT(store_retry_backoff_ms(&p, 2, 0), 100);
    CHECK_INT(store_retry_backoff_ms(&p, 3, 0), 200);
    CHECK_INT(store_retry_backoff_ms(&p, 4, 0), 400); /* 800 -> [400, 800] */
    CHECK_INT(store_retry_backoff_ms(&p, 4, 200), 600);
    CHECK_INT(store_retry_backoff_ms(&p, 5, 0), 500); /* 1600 capped at 1000 */
    CHECK_INT(store_retry_backoff_ms(&p, 5, 500), 1000);
    CHECK_INT(store_retry_backoff_ms(&p, 60, 0xffffffffu), 500 + 0xffffffffu % 501);
    for (uint32_t i = 1; i < 40; i++) {
        uint32_t d = store_retry_delay_ms(&p, i);
        CHECK(d <= 1000);
        CHECK(d >= (i < 5 ? (100u << (i - 1)) / 2 : 500u));
    }
}

TEST(store_s3_open_validates_and_describes)
{
    clear_aws_env();
    store_s3_config cfg;
    store_s3_config_init(&cfg);
    cfg.access_key_id = "AKID";
    cfg.secret_access_key = "never-shown";
    store *s;
    o2p_error err;

    CHECK_INT(store_open_s3(&s, &cfg, &err), O2P_EINVAL); /* no bucket */
    cfg.bucket = "logs-bucket";
    cfg.endpoint = "ftp://x";
    CHECK_INT(store_open_s3(&s, &cfg, &err), O2P_EINVAL);
    CHECK(strstr(err.msg, "storage.s3.endpoint") != NULL);
    cfg.endpoint = "http://127.0.0.1:9000/some/path";
    CHECK_INT(store_open_s3(&s, &cfg, &err), O2P_EINVAL);
    cfg.endpoint = "http://127.0.0.1:9000/";
    cfg.part_size = 1 << 20;
    CHECK_INT(store_open_s3(&s, &cfg, &err), O2P_EINVAL);
    CHECK(strstr(err.msg, "5 MiB") != NULL);
    cfg.part_size = STORE_S3_MIN_PART_SIZE;

    /* An endpoint means path-style unless told otherwise; prefix gets its '/'. */
    cfg.prefix = "/otel";
    CHECK_OK(store_open_s3(&s, &cfg, &err));
    CHECK_STR(store_describe(s), "s3://logs-bucket/otel/ (endpoint http://127.0.0.1:9000/, "
                                 "path-style, region us-east-1)");
    CHECK(strstr(store_describe(s), "never-shown") == NULL);
    store_destroy(s);

    /* AWS default endpoint, virtual-hosted, region from the environment. */
    cfg.endpoint = NULL;
    cfg.prefix = NULL;
    setenv("AWS_REGION", "eu-central-1", 1);
    CHECK_OK(store_open_s3(&s, &cfg, &err));
    CHECK_STR(store_describe(s), "s3://logs-bucket/ (endpoint https://s3.eu-central-1."
                                 "amazonaws.com, virtual-hosted, region eu-central-1)");
    store_destroy(s);

    /* No credentials at all is reported at open. */
    cfg.access_key_id = NULL;
    cfg.secret_access_key = NULL;
    CHECK_INT(store_open_s3(&s, &cfg, &err), O2P_EAUTH);
    CHECK(s == NULL);
}
