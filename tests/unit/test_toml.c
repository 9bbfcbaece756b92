/* Unit tests for src/config/toml: the TOML subset reader. */
#include <math.h>

#include "config/toml.h"
#include "core/mem.h"
#include "unit.h"

static int parse(toml_doc *doc, const char *text, o2p_error *err)
{
    o2p_error_clear(err);
    return toml_parse(doc, text, strlen(text), err);
}

/* Parses text that must fail and checks the message contains `want`. */
static void expect_error(const char *text, const char *want)
{
    toml_doc doc;
    o2p_error err;
    int rc = parse(&doc, text, &err);
    CHECK_MSG(rc == O2P_EINVAL, "expected failure for <<%s>>, rc=%d", text, rc);
    CHECK_MSG(strstr(err.msg, want) != NULL, "message \"%s\" lacks \"%s\"", err.msg, want);
    CHECK_INT(doc.count, 0);
    toml_free(&doc);
}

TEST(toml_basic_tables_and_types)
{
    toml_doc doc;
    o2p_error err;
    const char *text = "# top comment\n"
                       "durability = \"wal\"   # trailing\n"
                       "\n"
                       "[server]\n"
                       "  listen_addr = '0.0.0.0:4318'\n"
                       "port = +4_318\n"
                       "neg = -17\n"
                       "ratio = 1.5e3\n"
                       "on = true\n"
                       "off = false\n"
                       "[storage.s3]\r\n"
                       "bucket = \"b\"\r\n"
                       "\"quoted key\" = \"x\"\n"
                       "a.b = 1\n";
    CHECK_OK(parse(&doc, text, &err));
    CHECK_INT(doc.count, 12);
    const toml_entry *e = toml_find(&doc, "durability");
    CHECK(e && e->type == TOML_STRING);
    CHECK_STR(e->str, "wal");
    CHECK_INT(e->line, 2);
    e = toml_find(&doc, "server");
    CHECK(e && e->type == TOML_TABLE);
    CHECK_INT(e->line, 4);
    CHECK_STR(toml_find(&doc, "server.listen_addr")->str, "0.0.0.0:4318");
    CHECK_INT(toml_find(&doc, "server.port")->i, 4318);
    CHECK_INT(toml_find(&doc, "server.neg")->i, -17);
    CHECK(toml_find(&doc, "server.ratio")->type == TOML_FLOAT);
    CHECK(toml_find(&doc, "server.ratio")->f == 1500.0);
    CHECK_INT(toml_find(&doc, "server.on")->b, 1);
    CHECK_INT(toml_find(&doc, "server.off")->b, 0);
    CHECK_STR(toml_find(&doc, "storage.s3.bucket")->str, "b");
    CHECK_INT(toml_find(&doc, "storage.s3.bucket")->line, 12);
    CHECK_STR(toml_find(&doc, "storage.s3.\"quoted key\"")->str, "x");
    CHECK_INT(toml_find(&doc, "storage.s3.a.b")->i, 1);
    toml_free(&doc);
}

TEST(toml_string_escapes)
{
    toml_doc doc;
    o2p_error err;
    CHECK_OK(parse(&doc,
                   "a = \"q\\\" b\\\\ n\\n t\\t \\u00e9 \\U0001F600\"\n"
                   "b = 'C:\\path\\no\\escape'\n"
                   "c = \"\"\n",
                   &err));
    CHECK_STR(toml_find(&doc, "a")->str, "q\" b\\ n\n t\t \xc3\xa9 \xf0\x9f\x98\x80");
    CHECK_STR(toml_find(&doc, "b")->str, "C:\\path\\no\\escape");
    CHECK_STR(toml_find(&doc, "c")->str, "");
    toml_free(&doc);
}

TEST(toml_quoted_dotted_key_stays_one_segment)
{
    toml_doc doc;
    o2p_error err;
    CHECK_OK(parse(&doc, "\"server.listen_addr\" = 1\n", &err));
    CHECK(toml_find(&doc, "server.listen_addr") == NULL);
    CHECK(toml_find(&doc, "\"server.listen_addr\"") != NULL);
    toml_free(&doc);
}

TEST(toml_special_floats_and_bom)
{
    toml_doc doc;
    o2p_error err;
    CHECK_OK(parse(&doc, "\xEF\xBB\xBFx = inf\ny = -inf\nz = nan\nw = 3.0_1\n", &err));
    CHECK(isinf(toml_find(&doc, "x")->f) && toml_find(&doc, "x")->f > 0);
    CHECK(isinf(toml_find(&doc, "y")->f) && toml_find(&doc, "y")->f < 0);
    CHECK(isnan(toml_find(&doc, "z")->f));
    CHECK(toml_find(&doc, "w")->f == 3.01);
    toml_free(&doc);
}

TEST(toml_errors_name_the_line)
{
    expect_error("a = 1\nb = [1, 2]\n", "line 2: arrays are not supported");
    expect_error("a = { x = 1 }\n", "line 1: inline tables are not supported");
    expect_error("[[t]]\n", "arrays of tables");
    expect_error("a = \"\"\"x\"\"\"\n", "multi-line strings");
    expect_error("a = 1\n\n\na = 2\n", "line 4: key a is already defined on line 1");
    expect_error("[s]\n[s]\n", "line 2: table s is already defined");
    expect_error("a = 1\n[a]\n", "line 2: key a is already defined on line 1");
    expect_error("a = 1\n[a.b]\n", "line 2: a is a value (integer, line 1), it cannot hold a.b");
    expect_error("[a.b]\n[a]\nb = 1\n", "line 3: key a.b is already defined on line 1");
    expect_error("[x]\na.b = 1\na = 2\n", "line 3: key x.a is already a table (line 2)");
    expect_error("a = bare\n", "invalid value (strings need quotes)");
    expect_error("a = \"unterminated\n", "unterminated string");
    expect_error("a = \"bad \\q\"\n", "unknown escape");
    expect_error("a = \"\\u12\"\n", "\\u needs 4 hex digits");
    expect_error("a = \"\\uD800\"\n", "not a Unicode scalar value");
    expect_error("a = \"\\u0000\"\n", "NUL");
    expect_error("a = 1 2\n", "unexpected text after value");
    expect_error("a = 1__0\n", "invalid number");
    expect_error("a = _1\n", "invalid value");
    expect_error("a = 012\n", "leading zeros");
    expect_error("a = 0x1F\n", "only decimal integers");
    expect_error("a = 1979-05-27\n", "dates and times");
    expect_error("a = 99999999999999999999\n", "out of range");
    expect_error("a =\n", "missing value");
    expect_error("= 1\n", "missing key");
    expect_error("a 1\n", "expected '='");
    expect_error("[a\n", "expected ']'");
    expect_error("a = \"\xff\"\n", "invalid UTF-8");
    expect_error("a = truex\n", "invalid value");
    expect_error("a = 1.\n", "invalid float");
}

TEST(toml_oom_is_reported)
{
    toml_doc doc;
    o2p_error err;
    for (long n = 0; n < 40; n++) {
        mem_fail_after(n);
        int rc = parse(&doc, "[a]\nb = \"text\"\nc = 1\n[d.e]\nf = true\n", &err);
        mem_fail_after(-1);
        CHECK_MSG(rc == O2P_OK || rc == O2P_ENOMEM, "fail_after %ld gave %d", n, rc);
        toml_free(&doc);
        if (rc == O2P_OK) return;
    }
    CHECK_MSG(0, "parse never succeeded");
}
