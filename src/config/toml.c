/* toml: the TOML subset reader (see toml.h for what is accepted). */
#include "config/toml.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/mem.h"

typedef struct parser {
    const char *text;
    size_t len;
    size_t pos;
    int line;
    toml_doc *doc;
    o2p_error *err;
    o2p_buf table; /* current [header] path, rendered; empty at the root */
    o2p_buf key;   /* scratch: path being built */
    o2p_buf str;   /* scratch: decoded string value */
} parser;

const char *toml_type_name(toml_type type)
{
    switch (type) {
    case TOML_STRING:
        return "string";
    case TOML_INT:
        return "integer";
    case TOML_FLOAT:
        return "float";
    case TOML_BOOL:
        return "boolean";
    case TOML_TABLE:
        return "table";
    }
    return "value";
}

static int fail(parser *p, const char *msg)
{
    return o2p_errorf(p->err, O2P_EINVAL, "line %d: %s", p->line, msg);
}

static int peek(const parser *p)
{
    return p->pos < p->len ? (unsigned char)p->text[p->pos] : -1;
}

static int peek_at(const parser *p, size_t ahead)
{
    return p->pos + ahead < p->len ? (unsigned char)p->text[p->pos + ahead] : -1;
}

static void skip_ws(parser *p)
{
    while (peek(p) == ' ' || peek(p) == '\t') p->pos++;
}

/* Length of the valid UTF-8 sequence at s (n bytes available), 0 if invalid. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    unsigned c = s[0], cp, min;
    size_t len;
    if (c < 0x80) return 1;
    if (c >= 0xC2 && c <= 0xDF)
        len = 2, min = 0x80;
    else if (c >= 0xE0 && c <= 0xEF)
        len = 3, min = 0x800;
    else if (c >= 0xF0 && c <= 0xF4)
        len = 4, min = 0x10000;
    else
        return 0;
    if (len > n) return 0;
    cp = c & (0x7Fu >> len);
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (s[i] & 0x3Fu);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    return len;
}

/* TOML files must be UTF-8; checking up front gives one precise error
 * instead of odd failures later, and rules out NUL bytes in strings. */
static int check_encoding(parser *p)
{
    const unsigned char *s = (const unsigned char *)p->text;
    int line = 1;
    for (size_t i = 0; i < p->len;) {
        if (s[i] == 0) {
            p->line = line;
            return fail(p, "NUL byte in file");
        }
        if (s[i] == '\n') line++;
        size_t n = utf8_len(s + i, p->len - i);
        if (n == 0) {
            p->line = line;
            return fail(p, "invalid UTF-8");
        }
        i += n;
    }
    return O2P_OK;
}

/* End of line: optional comment, then newline or end of input. */
static int expect_eol(parser *p, const char *what)
{
    skip_ws(p);
    if (peek(p) == '#') {
        while (peek(p) != -1 && peek(p) != '\n') {
            int c = peek(p);
            if ((c < 0x20 && c != '\t' && c != '\r') || c == 0x7F)
                return fail(p, "control character in comment");
            if (c == '\r' && peek_at(p, 1) != '\n') return fail(p, "bare carriage return");
            p->pos++;
        }
    }
    if (peek(p) == -1) return O2P_OK;
    if (peek(p) == '\r' && peek_at(p, 1) == '\n') p->pos++;
    if (peek(p) == '\n') {
        p->pos++;
        p->line++;
        return O2P_OK;
    }
    char msg[96];
    snprintf(msg, sizeof msg, "unexpected text after %s (one key = value per line)", what);
    return fail(p, msg);
}

static int push_codepoint(parser *p, unsigned long cp)
{
    uint8_t out[4];
    size_t n;
    if (cp == 0) return fail(p, "NUL characters (\\u0000) are not supported");
    if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return fail(p, "escape is not a Unicode scalar value");
    if (cp < 0x80)
        out[0] = (uint8_t)cp, n = 1;
    else if (cp < 0x800) {
        out[0] = (uint8_t)(0xC0 | (cp >> 6));
        out[1] = (uint8_t)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        out[0] = (uint8_t)(0xE0 | (cp >> 12));
        out[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (uint8_t)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        out[0] = (uint8_t)(0xF0 | (cp >> 18));
        out[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3F));
        out[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
        out[3] = (uint8_t)(0x80 | (cp & 0x3F));
        n = 4;
    }
    return buf_append(&p->str, out, n);
}

/* Decodes a basic ("...") or literal ('...') single-line string into p->str
 * (NUL-terminated, terminator not counted). */
static int parse_string(parser *p)
{
    int quote = peek(p);
    buf_reset(&p->str);
    if (peek_at(p, 1) == quote && peek_at(p, 2) == quote)
        return fail(p, "multi-line strings are not supported");
    p->pos++;
    for (;;) {
        int c = peek(p);
        if (c == -1 || c == '\n' || c == '\r') return fail(p, "unterminated string");
        p->pos++;
        if (c == quote) break;
        if ((c < 0x20 && c != '\t') || c == 0x7F)
            return fail(p, "control character in string (use an escape)");
        if (c != '\\' || quote == '\'') {
            O2P_TRY(buf_push_byte(&p->str, (uint8_t)c));
            continue;
        }
        int e = peek(p);
        p->pos++;
        switch (e) {
        case '"':
            O2P_TRY(buf_push_byte(&p->str, '"'));
            break;
        case '\\':
            O2P_TRY(buf_push_byte(&p->str, '\\'));
            break;
        case 'b':
            O2P_TRY(buf_push_byte(&p->str, '\b'));
            break;
        case 't':
            O2P_TRY(buf_push_byte(&p->str, '\t'));
            break;
        case 'n':
            O2P_TRY(buf_push_byte(&p->str, '\n'));
            break;
        case 'f':
            O2P_TRY(buf_push_byte(&p->str, '\f'));
            break;
        case 'r':
            O2P_TRY(buf_push_byte(&p->str, '\r'));
            break;
        case 'u':
        case 'U': {
            int digits = e == 'u' ? 4 : 8;
            unsigned long cp = 0;
            for (int i = 0; i < digits; i++) {
                int h = peek(p);
                int v = h >= '0' && h <= '9'   ? h - '0'
                        : h >= 'a' && h <= 'f' ? h - 'a' + 10
                        : h >= 'A' && h <= 'F' ? h - 'A' + 10
                                               : -1;
                if (v < 0)
                    return fail(p, e == 'u' ? "\\u needs 4 hex digits" : "\\U needs 8 hex digits");
                cp = cp * 16 + (unsigned long)v;
                p->pos++;
            }
            O2P_TRY(push_codepoint(p, cp));
            break;
        }
        default:
            return fail(p, "unknown escape in string (allowed: \\\" \\\\ \\b \\t \\n \\f \\r "
                           "\\uXXXX \\UXXXXXXXX)");
        }
    }
    O2P_TRY(buf_push_byte(&p->str, 0));
    p->str.len--;
    return O2P_OK;
}

static int is_bare(int c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
}

/* Appends one key segment to p->key, rendered: bare keys as is, anything
 * else in double quotes so dots inside it stay distinguishable. */
static int append_segment(parser *p, const char *seg, size_t n)
{
    int bare = n > 0;
    for (size_t i = 0; i < n && bare; i++) bare = is_bare((unsigned char)seg[i]);
    if (p->key.len) O2P_TRY(buf_push_byte(&p->key, '.'));
    if (bare) return buf_append(&p->key, seg, n);
    O2P_TRY(buf_push_byte(&p->key, '"'));
    for (size_t i = 0; i < n; i++) {
        if (seg[i] == '"' || seg[i] == '\\') O2P_TRY(buf_push_byte(&p->key, '\\'));
        O2P_TRY(buf_push_byte(&p->key, (uint8_t)seg[i]));
    }
    return buf_push_byte(&p->key, '"');
}

/* Parses `seg(.seg)*` and appends it to p->key (which may hold a prefix). */
static int parse_key_path(parser *p)
{
    for (;;) {
        skip_ws(p);
        int c = peek(p);
        if (c == '"' || c == '\'') {
            if (peek_at(p, 1) == c && peek_at(p, 2) == c)
                return fail(p, "multi-line keys are not allowed");
            O2P_TRY(parse_string(p));
            O2P_TRY(append_segment(p, (const char *)p->str.data, p->str.len));
        } else if (is_bare(c)) {
            size_t start = p->pos;
            while (is_bare(peek(p))) p->pos++;
            O2P_TRY(append_segment(p, p->text + start, p->pos - start));
        } else {
            return fail(p, c == '=' || c == ']' || c == '.' ? "missing key"
                                                            : "invalid character in key");
        }
        skip_ws(p);
        if (peek(p) != '.') return O2P_OK;
        p->pos++;
    }
}

/* Is `prefix` a whole-segment prefix of `key` ("a.b" of "a.b.c")? */
static int is_path_prefix(const char *prefix, const char *key)
{
    size_t n = strlen(prefix);
    return strncmp(prefix, key, n) == 0 && key[n] == '.';
}

/* Enforces TOML's "define once" rules for a new key or [table] at `key`. */
static int check_redefinition(parser *p, const char *key, toml_type type)
{
    for (size_t i = 0; i < p->doc->count; i++) {
        const toml_entry *e = &p->doc->entries[i];
        char msg[O2P_ERROR_MSG_MAX / 2];
        if (strcmp(e->key, key) == 0) {
            snprintf(msg, sizeof msg, "%s %s is already defined on line %d",
                     type == TOML_TABLE && e->type == TOML_TABLE ? "table" : "key", key, e->line);
            return fail(p, msg);
        }
        if (e->type != TOML_TABLE && is_path_prefix(e->key, key)) {
            snprintf(msg, sizeof msg, "%s is a value (%s, line %d), it cannot hold %s", e->key,
                     toml_type_name(e->type), e->line, key);
            return fail(p, msg);
        }
        if (type != TOML_TABLE && is_path_prefix(key, e->key)) {
            snprintf(msg, sizeof msg, "key %s is already a table (line %d)", key, e->line);
            return fail(p, msg);
        }
    }
    return O2P_OK;
}

static int add_entry(parser *p, toml_type type, toml_entry **out)
{
    O2P_TRY(buf_push_byte(&p->key, 0));
    p->key.len--;
    const char *key = (const char *)p->key.data;
    O2P_TRY(check_redefinition(p, key, type));
    toml_doc *doc = p->doc;
    if (doc->count == doc->cap) {
        size_t cap = doc->cap ? doc->cap * 2 : 16;
        toml_entry *grown = mem_realloc(doc->entries, cap * sizeof *grown);
        if (grown == NULL) return o2p_errorf(p->err, O2P_ENOMEM, "out of memory");
        doc->entries = grown;
        doc->cap = cap;
    }
    toml_entry *e = &doc->entries[doc->count];
    memset(e, 0, sizeof *e);
    e->key = mem_strdup(key);
    if (e->key == NULL) return o2p_errorf(p->err, O2P_ENOMEM, "out of memory");
    e->type = type;
    e->line = p->line;
    doc->count++;
    *out = e;
    return O2P_OK;
}

static int value_ends(int c)
{
    return c == -1 || c == ' ' || c == '\t' || c == '#' || c == '\n' || c == '\r';
}

static int is_digit(int c)
{
    return c >= '0' && c <= '9';
}

/* Copies the digits of [s, s+n) into out without the `_` separators, which
 * must each sit between two digits. */
static int strip_underscores(const char *s, size_t n, char *out, size_t out_size)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '_') {
            if (i == 0 || i + 1 == n || !is_digit((unsigned char)s[i - 1]) ||
                !is_digit((unsigned char)s[i + 1]))
                return -1;
            continue;
        }
        if (o + 1 >= out_size) return -1;
        out[o++] = s[i];
    }
    out[o] = 0;
    return 0;
}

static int parse_number(parser *p, toml_entry *e)
{
    size_t start = p->pos;
    while (!value_ends(peek(p))) p->pos++;
    const char *tok = p->text + start;
    size_t n = p->pos - start;
    size_t body = (tok[0] == '+' || tok[0] == '-') ? 1 : 0;

    if (n - body == 3 && (memcmp(tok + body, "inf", 3) == 0 || memcmp(tok + body, "nan", 3) == 0)) {
        e->type = TOML_FLOAT;
        e->f = tok[body] == 'i' ? (tok[0] == '-' ? -INFINITY : INFINITY) : NAN;
        return O2P_OK;
    }
    if (memchr(tok, ':', n) || (n >= 10 && tok[4] == '-' && is_digit((unsigned char)tok[0])))
        return fail(p, "dates and times are not supported (use a string)");
    if (n - body >= 2 && tok[body] == '0' &&
        (tok[body + 1] == 'x' || tok[body + 1] == 'o' || tok[body + 1] == 'b'))
        return fail(p, "only decimal integers are supported");
    if (n == body || !is_digit((unsigned char)tok[body]))
        return fail(p, "invalid value (strings need quotes)");

    char clean[128];
    if (strip_underscores(tok, n, clean, sizeof clean) < 0) return fail(p, "invalid number");
    int is_float = strpbrk(clean, ".eE") != NULL;
    /* Leading zeros are not TOML ("012"), for integers and float integer parts alike. */
    if (clean[body] == '0' && is_digit((unsigned char)clean[body + 1]))
        return fail(p, "leading zeros are not allowed");
    char *end = NULL;
    errno = 0;
    if (is_float) {
        const char *dot = strchr(clean, '.');
        if (dot && (!is_digit((unsigned char)dot[-1]) || !is_digit((unsigned char)dot[1])))
            return fail(p, "invalid float (digits needed on both sides of '.')");
        e->type = TOML_FLOAT;
        e->f = strtod(clean, &end);
        if (*end != 0 || errno == ERANGE) return fail(p, "invalid float");
        return O2P_OK;
    }
    for (size_t i = body; clean[i]; i++)
        if (!is_digit((unsigned char)clean[i])) return fail(p, "invalid integer");
    e->type = TOML_INT;
    long long v = strtoll(clean, &end, 10);
    if (*end != 0 || errno == ERANGE) return fail(p, "integer out of range (64-bit signed)");
    e->i = (int64_t)v;
    return O2P_OK;
}

static int parse_value(parser *p, toml_entry *e)
{
    int c = peek(p);
    if (c == '"' || c == '\'') {
        O2P_TRY(parse_string(p));
        e->type = TOML_STRING;
        e->str = mem_strdup((const char *)p->str.data);
        if (e->str == NULL) return o2p_errorf(p->err, O2P_ENOMEM, "out of memory");
        return O2P_OK;
    }
    if (c == '[') return fail(p, "arrays are not supported");
    if (c == '{') return fail(p, "inline tables are not supported");
    if (c == 't' || c == 'f') {
        const char *word = c == 't' ? "true" : "false";
        size_t n = strlen(word);
        if (p->len - p->pos >= n && memcmp(p->text + p->pos, word, n) == 0) {
            p->pos += n;
            if (!value_ends(peek(p))) return fail(p, "invalid value (strings need quotes)");
            e->type = TOML_BOOL;
            e->b = c == 't';
            return O2P_OK;
        }
        return fail(p, "invalid value (strings need quotes)");
    }
    if (value_ends(c)) return fail(p, "missing value after '='");
    return parse_number(p, e);
}

static int parse_header(parser *p)
{
    p->pos++; /* '[' */
    if (peek(p) == '[') return fail(p, "arrays of tables ([[...]]) are not supported");
    buf_reset(&p->key);
    O2P_TRY(parse_key_path(p));
    if (peek(p) != ']') return fail(p, "expected ']' to close the table header");
    p->pos++;
    toml_entry *e;
    O2P_TRY(add_entry(p, TOML_TABLE, &e));
    buf_reset(&p->table);
    O2P_TRY(buf_append(&p->table, p->key.data, p->key.len));
    return expect_eol(p, "table header");
}

static int parse_keyval(parser *p)
{
    buf_reset(&p->key);
    O2P_TRY(buf_append(&p->key, p->table.data, p->table.len));
    O2P_TRY(parse_key_path(p));
    if (peek(p) != '=') return fail(p, "expected '=' after the key");
    p->pos++;
    skip_ws(p);
    /* The entry is added before its value is parsed (so redefinitions are
     * reported first); a value error fails the whole parse anyway. */
    toml_entry *e;
    O2P_TRY(add_entry(p, TOML_STRING, &e));
    O2P_TRY(parse_value(p, e));
    return expect_eol(p, "value");
}

static int parse_all(parser *p)
{
    O2P_TRY(check_encoding(p));
    /* A UTF-8 byte order mark is harmless; editors on Windows add one. */
    if (p->len >= 3 && memcmp(p->text, "\xEF\xBB\xBF", 3) == 0) p->pos = 3;
    while (p->pos < p->len) {
        skip_ws(p);
        int c = peek(p);
        if (c == '#' || c == '\n' || c == '\r' || c == -1)
            O2P_TRY(expect_eol(p, "comment"));
        else if (c == '[')
            O2P_TRY(parse_header(p));
        else
            O2P_TRY(parse_keyval(p));
    }
    return O2P_OK;
}

int toml_parse(toml_doc *doc, const char *text, size_t len, o2p_error *err)
{
    memset(doc, 0, sizeof *doc);
    parser p = {.text = text, .len = len, .line = 1, .doc = doc, .err = err};
    buf_init(&p.table, 0);
    buf_init(&p.key, 0);
    buf_init(&p.str, 0);
    int rc = parse_all(&p);
    if (rc == O2P_ENOMEM && (err == NULL || err->code != O2P_ENOMEM))
        o2p_errorf(err, O2P_ENOMEM, "line %d: out of memory", p.line);
    buf_free(&p.table);
    buf_free(&p.key);
    buf_free(&p.str);
    if (rc < 0) toml_free(doc);
    return rc;
}

void toml_free(toml_doc *doc)
{
    for (size_t i = 0; i < doc->count; i++) {
        mem_free(doc->entries[i].key);
        mem_free(doc->entries[i].str);
    }
    mem_free(doc->entries);
    memset(doc, 0, sizeof *doc);
}

const toml_entry *toml_find(const toml_doc *doc, const char *key)
{
    for (size_t i = 0; i < doc->count; i++)
        if (strcmp(doc->entries[i].key, key) == 0) return &doc->entries[i];
    return NULL;
}
