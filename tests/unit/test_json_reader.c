/* Unit tests for json_reader: RFC 8259 acceptance and rejection, numbers,
 * escapes and surrogates, limits, the pull API and the fast skip. */
#include <math.h>
#include <string.h>

#include "otlp/json_reader.h"
#include "unit.h"

/* Validates a whole document with json_skip + json_finish. */
static int validate_depth(const char *doc, size_t len, size_t max_depth)
{
    json_reader r;
    json_reader_init(&r, max_depth, 1 << 20);
    json_reader_start(&r, (const uint8_t *)doc, len);
    int rc = json_skip(&r);
    if (rc == 0) rc = json_finish(&r);
    json_reader_free(&r);
    return rc;
}

static int validate(const char *doc)
{
    return validate_depth(doc, strlen(doc), 64);
}

TEST(json_reader_accepts_valid)
{
    static const char *const ok[] = {
        "{}",
        "[]",
        " \t\r\n{ } \n",
        "0",
        "-0",
        "1.5e10",
        "-1E-3",
        "2e+5",
        "true",
        "false",
        "null",
        "\"\"",
        "\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\"",
        "\"\\u0041\\u00e9\\u20ac\"",
        "\"\\ud83d\\ude00\"",
        "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"",
        "{\"a\":[1,2,{\"b\":null}],\"c\":\"d\"}",
        "[[[[]]]]",
        "123456789012345678901234567890",
        "\"\\u0000\"",
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        CHECK_MSG(validate(ok[i]) == 0, "rejected valid document %s", ok[i]);
}

TEST(json_reader_rejects_invalid)
{
    static const char *const bad[] = {
        "",
        " ",
        "{",
        "}",
        "[1,]",
        "{\"a\":1,}",
        "[,1]",
        "{,}",
        "{\"a\" 1}",
        "{\"a\":}",
        "{a:1}",
        "{'a':1}",
        "01",
        "-",
        "1.",
        ".5",
        "1e",
        "+1",
        "NaN",
        "Infinity",
        "-Infinity",
        "tru",
        "nul",
        "True",
        "\"abc",
        "\"\\x\"",
        "\"\\u12\"",
        "\"\\ud800\"",
        "\"\\udc00\"",
        "\"\\ud800\\u0041\"",
        "\"a\tb\"",
        "\"\n\"",
        "[1 2]",
        "{} {}",
        "[] x",
        "1 2",
        "/* c */ 1",
        "// c\n1",
        "[1]]",
        "\"\xc3\"",
        "\"\xc0\x80\"",
        "\"\xed\xa0\x80\"",
        "\"\xf4\x90\x80\x80\"",
        "\"\xff\"",
        "{\"a\":1 \"b\":2}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK_MSG(validate(bad[i]) < 0, "accepted invalid document '%s'", bad[i]);
    /* a NUL byte is not whitespace */
    CHECK(validate_depth("1\0", 2, 64) < 0);
}

TEST(json_reader_error_offset)
{
    json_reader r;
    json_reader_init(&r, 64, 1 << 20);
    const char *doc = "{\"a\": [1, 2,, 3]}";
    json_reader_start(&r, (const uint8_t *)doc, strlen(doc));
    CHECK_INT(json_skip(&r), O2P_EINVAL);
    CHECK_MSG(strstr(r.msg, "byte 12") != NULL, "msg: %s", r.msg);
    json_reader_free(&r);
}

TEST(json_reader_depth_limit)
{
    char deep[200];
    for (int i = 0; i < 100; i++) {
        deep[i] = '[';
        deep[199 - i] = ']';
    }
    CHECK_INT(validate_depth(deep, 200, 100), 0);
    CHECK_INT(validate_depth(deep, 200, 99), O2P_ELIMIT);
}

TEST(json_reader_string_limit)
{
    json_reader r;
    json_reader_init(&r, 64, 4);
    const char *doc = "[\"abcd\", \"abcde\"]";
    json_reader_start(&r, (const uint8_t *)doc, strlen(doc));
    CHECK_OK(json_array_begin(&r));
    json_str s;
    CHECK_INT(json_array_next(&r), 1);
    CHECK_OK(json_read_string(&r, &s, NULL));
    CHECK_INT(json_array_next(&r), 1);
    CHECK_INT(json_read_string(&r, &s, NULL), O2P_ELIMIT);
    json_reader_free(&r);
}

TEST(json_reader_strings_zero_copy_and_escaped)
{
    json_reader r;
    json_reader_init(&r, 64, 1 << 20);
    const char *doc = "[\"plain text long enough for words\", \"a\\nb\\u00e9\\ud83d\\ude00\"]";
    json_reader_start(&r, (const uint8_t *)doc, strlen(doc));
    CHECK_OK(json_array_begin(&r));
    json_str s;
    CHECK_INT(json_array_next(&r), 1);
    CHECK_OK(json_read_string(&r, &s, NULL));
    CHECK(s.ptr == (const uint8_t *)doc + 2); /* a slice of the input */
    CHECK_MEM(s.ptr, s.len, "plain text long enough for words", 32);
    CHECK_INT(json_array_next(&r), 1);
    o2p_arena arena;
    arena_init(&arena, 0, 0);
    CHECK_OK(json_read_string(&r, &s, &arena));
    CHECK_MEM(s.ptr, s.len, "a\nb\xc3\xa9\xf0\x9f\x98\x80", 9);
    CHECK_INT(json_array_next(&r), 0);
    CHECK_OK(json_finish(&r));
    arena_free(&arena);

    o2p_buf b;
    buf_init(&b, 0);
    buf_append(&b, "x", 1);
    const char *doc2 = "\"\\\"q\\\"\"";
    json_reader_start(&r, (const uint8_t *)doc2, strlen(doc2));
    CHECK_OK(json_read_string_append(&r, &b));
    CHECK_MEM(b.data, b.len, "x\"q\"", 4);
    buf_free(&b);
    json_reader_free(&r);
}

TEST(json_reader_objects_in_order)
{
    json_reader r;
    json_reader_init(&r, 64, 1 << 20);
    const char *doc = " { \"k\\u0031\" : true , \"k2\":{} ,\"k3\":[ ] , \"k4\" : -12 } ";
    json_reader_start(&r, (const uint8_t *)doc, strlen(doc));
    CHECK_INT(json_peek(&r), JSON_OBJECT);
    CHECK_OK(json_object_begin(&r));
    json_str name;
    CHECK_INT(json_object_next(&r, &name), 1);
    CHECK_MEM(name.ptr, name.len, "k1", 2);
    int b = 0;
    CHECK_OK(json_read_bool(&r, &b));
    CHECK_INT(b, 1);
    json_mark m = json_get_mark(&r);
    CHECK_INT(json_object_next(&r, &name), 1);
    CHECK_MEM(name.ptr, name.len, "k2", 2);
    CHECK_OK(json_skip_fast(&r));
    CHECK_INT(json_object_next(&r, &name), 1);
    CHECK_OK(json_skip(&r));
    json_rewind(&r, m); /* read k2 again, strictly this time */
    CHECK_INT(json_object_next(&r, &name), 1);
    CHECK_MEM(name.ptr, name.len, "k2", 2);
    CHECK_OK(json_object_begin(&r));
    CHECK_INT(json_object_next(&r, &name), 0);
    CHECK_INT(json_object_next(&r, &name), 1);
    CHECK_OK(json_array_begin(&r));
    CHECK_INT(json_array_next(&r), 0);
    CHECK_INT(json_object_next(&r, &name), 1);
    json_number n;
    CHECK_OK(json_read_number(&r, &n));
    int64_t v;
    CHECK_OK(json_number_i64(&n, &v));
    CHECK_INT(v, -12);
    CHECK_INT(json_object_next(&r, &name), 0);
    CHECK_OK(json_finish(&r));
    json_reader_free(&r);
}

TEST(json_reader_skip_fast_strings)
{
    json_reader r;
    json_reader_init(&r, 64, 1 << 20);
    const char *doc = "[{\"a\":\"x\\\\\",\"b\":\"]}\\\"[{\"}, 7] , 8";
    json_reader_start(&r, (const uint8_t *)doc, strlen(doc));
    CHECK_OK(json_skip_fast(&r));
    CHECK(r.p == (const uint8_t *)doc + strlen(doc) - 4);
    json_reader_free(&r);
}

static json_number num(const char *text)
{
    json_number n;
    CHECK_MSG(json_number_from_text((const uint8_t *)text, strlen(text), &n) == 0, "bad %s", text);
    return n;
}

TEST(json_reader_numbers)
{
    uint64_t u;
    int64_t i;
    double d;
    json_number n = num("18446744073709551615");
    CHECK_OK(json_number_u64(&n, &u));
    CHECK(u == UINT64_MAX);
    n = num("18446744073709551616");
    CHECK_INT(json_number_u64(&n, &u), -1);
    n = num("-9223372036854775808");
    CHECK_OK(json_number_i64(&n, &i));
    CHECK(i == INT64_MIN);
    n = num("9223372036854775808");
    CHECK_INT(json_number_i64(&n, &i), -1);
    n = num("-1");
    CHECK_INT(json_number_u64(&n, &u), -1);
    n = num("1e3");
    CHECK_OK(json_number_u64(&n, &u));
    CHECK_UINT(u, 1000);
    n = num("2.0");
    CHECK_OK(json_number_i64(&n, &i));
    CHECK_INT(i, 2);
    n = num("2.5");
    CHECK_INT(json_number_i64(&n, &i), -1);
    n = num("1e300");
    CHECK_INT(json_number_u64(&n, &u), -1);
    CHECK_INT(json_number_from_text((const uint8_t *)"01", 2, &n), -1);
    CHECK_INT(json_number_from_text((const uint8_t *)"1 ", 2, &n), -1);
    CHECK_INT(json_number_from_text((const uint8_t *)"", 0, &n), -1);

    static const struct {
        const char *text;
        double want;
    } dbl[] = {
        {"0.1", 0.1},
        {"-2.5e-3", -2.5e-3},
        {"123456789012345678", 123456789012345678.0},
        {"1.7976931348623157e308", 1.7976931348623157e308},
        {"4.9406564584124654e-324", 4.9406564584124654e-324},
        {"2.2250738585072011e-308", 2.2250738585072011e-308},
        {"9007199254740993", 9007199254740992.0},
        {"0.30000000000000004", 0.30000000000000004},
        {"1e23", 1e23},
        {"0e999", 0.0},
    };
    for (size_t k = 0; k < sizeof dbl / sizeof dbl[0]; k++) {
        n = num(dbl[k].text);
        CHECK_OK(json_number_double(&n, &d));
        CHECK_MSG(d == dbl[k].want, "%s -> %.17g", dbl[k].text, d);
    }
    n = num("1e999");
    CHECK_OK(json_number_double(&n, &d));
    CHECK(isinf(d));
    n = num("-0");
    CHECK_OK(json_number_double(&n, &d));
    CHECK(d == 0 && signbit(d));
}
