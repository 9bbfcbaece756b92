/* Unit tests for src/storage/layout and src/core/uuid: keys per spec §4 and
 * the service-name sanitizing that keeps every key inside the root. */
#include <string.h>

#include "core/buf.h"
#include "core/error.h"
#include "core/uuid.h"
#include "storage/layout.h"
#include "unit.h"

#define UUID_A "0123456789abcdef0123456789abcdef"

static const char *sanitize(const char *name, char out[LAYOUT_SERVICE_MAX + 1])
{
    layout_sanitize_service((const uint8_t *)name, strlen(name), out);
    return out;
}

TEST(layout_uuid_v4_format)
{
    char a[UUID_HEX_LEN + 1], b[UUID_HEX_LEN + 1];
    CHECK_OK(uuid_v4_hex(a));
    CHECK_OK(uuid_v4_hex(b));
    CHECK_INT(strlen(a), 32);
    CHECK(strspn(a, "0123456789abcdef") == 32);
    CHECK(a[12] == '4');                  /* version */
    CHECK(strchr("89ab", a[16]) != NULL); /* variant */
    CHECK(strcmp(a, b) != 0);
}

TEST(layout_key_logs)
{
    o2p_buf k;
    buf_init(&k, 0);
    /* 2026-01-02T03:00Z = 20455 days * 24 + 3 hours. */
    CHECK_OK(layout_object_key(&k, "logs", (const uint8_t *)"checkout", 8, 20455 * 24 + 3,
                               1767322800123456LL, UUID_A, NULL));
    CHECK_STR((const char *)k.data, "logs/checkout/year=2026/month=01/day=02/hour=03/"
                                    "1767322800123456-" UUID_A ".parquet");
    buf_free(&k);
}

TEST(layout_key_metrics_and_traces)
{
    o2p_buf k;
    buf_init(&k, 0);
    CHECK_OK(layout_object_key(&k, "metrics/exponential_histogram", (const uint8_t *)"api", 3, 0, 0,
                               UUID_A, NULL));
    CHECK_STR((const char *)k.data, "metrics/exponential_histogram/api/year=1970/month=01/"
                                    "day=01/hour=00/0-" UUID_A ".parquet");
    buf_reset(&k);
    /* 2024-02-29T23:00Z: leap day, last hour. */
    CHECK_OK(
        layout_object_key(&k, "traces", (const uint8_t *)"", 0, 19782 * 24 + 23, 5, UUID_A, NULL));
    CHECK_STR((const char *)k.data,
              "traces/unknown/year=2024/month=02/day=29/hour=23/5-" UUID_A ".parquet");
    buf_free(&k);
}

TEST(layout_key_fresh_uuid_and_bad_input)
{
    o2p_buf k;
    buf_init(&k, 0);
    o2p_error err;
    CHECK_OK(layout_object_key(&k, "metrics/sum", (const uint8_t *)"s", 1, 1, 1, NULL, &err));
    CHECK_INT(k.len, strlen("metrics/sum/s/year=1970/month=01/day=01/hour=01/1-.parquet") + 32);
    buf_reset(&k);
    CHECK_INT(layout_object_key(&k, "metrics/other", (const uint8_t *)"s", 1, 1, 1, UUID_A, &err),
              O2P_EINVAL);
    CHECK(strstr(err.msg, "metrics/other") != NULL);
    CHECK_INT(layout_object_key(&k, "../logs", (const uint8_t *)"s", 1, 1, 1, UUID_A, &err),
              O2P_EINVAL);
    CHECK_INT(layout_object_key(&k, "logs", (const uint8_t *)"s", 1, 1, 1, "ABC", &err),
              O2P_EINVAL);
    CHECK_INT(k.len, 0);
    buf_free(&k);
}

TEST(layout_sanitize_reserved_characters)
{
    char out[LAYOUT_SERVICE_MAX + 1];
    CHECK_STR(sanitize("a/b\\c:d*e?f\"g<h>i|j k", out), "a_b_c_d_e_f_g_h_i_j_k");
    CHECK_STR(sanitize("tab\there\nnl\x7f"
                       "del\x01",
                       out),
              "tab_here_nl_del_");
    CHECK_STR(sanitize("my-service.v2_ok~", out), "my-service.v2_ok~");
    CHECK_STR(sanitize("", out), "unknown");
}

TEST(layout_sanitize_cannot_escape_root)
{
    char out[LAYOUT_SERVICE_MAX + 1];
    CHECK_STR(sanitize("..", out), "_.");
    CHECK_STR(sanitize(".", out), "_");
    CHECK_STR(sanitize("../../etc", out), "_._.._etc");
    CHECK_STR(sanitize("/abs", out), "_abs");
    CHECK_STR(sanitize("a/../b", out), "a_.._b");
    CHECK_STR(sanitize(".hidden", out), "_hidden");
    CHECK_STR(sanitize("a.", out), "a.");
    /* Whatever the input, the result is one path segment that is not "." or
     * ".." and does not start with '.'. */
    const char *nasty[] = {"..", "...", "./.", "/", "\\..\\", " ..", "../", "./"};
    for (size_t i = 0; i < sizeof nasty / sizeof nasty[0]; i++) {
        size_t n = layout_sanitize_service((const uint8_t *)nasty[i], strlen(nasty[i]), out);
        CHECK(n > 0 && strchr(out, '/') == NULL && out[0] != '.');
    }
    /* An embedded NUL is a control character like any other. */
    CHECK_INT(layout_sanitize_service((const uint8_t *)".\0.", 3, out), 3);
    CHECK_STR(out, "__.");
}

TEST(layout_sanitize_utf8_and_truncation)
{
    char out[LAYOUT_SERVICE_MAX + 1];
    CHECK_STR(sanitize("caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac", out),
              "caf\xc3\xa9_\xe6\x97\xa5\xe6\x9c\xac");
    /* Broken UTF-8 bytes become '_' one by one. */
    CHECK_STR(sanitize("a\xff\xc3(b\xed\xa0\x80", out), "a__(b___");
    /* 127 ASCII bytes + a 2-byte character: the character does not fit. */
    char name[200];
    memset(name, 'x', 127);
    memcpy(name + 127, "\xc3\xa9zz", 5);
    size_t n = layout_sanitize_service((const uint8_t *)name, strlen(name), out);
    CHECK_INT(n, 127);
    CHECK_INT(strlen(out), 127);
    /* 126 + é fits exactly. */
    memset(name, 'y', 126);
    memcpy(name + 126,
           "\xc3\xa9"
           "abc",
           6);
    n = layout_sanitize_service((const uint8_t *)name, strlen(name), out);
    CHECK_INT(n, 128);
    CHECK_MEM(out + 126, 2, "\xc3\xa9", 2);
    /* 4-byte characters cut on a boundary too. */
    char emoji[200] = "";
    for (int i = 0; i < 40; i++) strcat(emoji, "\xf0\x9f\x98\x80");
    n = layout_sanitize_service((const uint8_t *)emoji, strlen(emoji), out);
    CHECK_INT(n, 128);
    n = layout_sanitize_service((const uint8_t *)emoji + 1, strlen(emoji) - 1, out);
    CHECK_INT(n, 3 + 124); /* three stray continuation bytes, then 31 characters */
}
