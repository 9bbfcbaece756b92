/*
 * toml: a reader for the subset of TOML our configuration file uses.
 *
 * Supported: comments, [table] and [a.b] headers, `key = value` with bare,
 * "quoted" and 'literal' keys and dotted keys (a.b = 1), basic strings with
 * escapes (\" \\ \b \t \n \f \r \uXXXX \UXXXXXXXX), literal strings,
 * decimal integers (+/-, `_` between digits), floats, booleans.
 * Rejected with a clear error: arrays, inline tables, arrays of tables,
 * multi-line strings, dates, hex/octal/binary integers.
 *
 * The result is flat: one entry per key, named by its full dotted path
 * ("storage.s3.bucket"), plus one TOML_TABLE entry per [header], all in file
 * order with their line numbers.  A path segment that is not a bare key is
 * kept in double quotes ("a.b" stays "\"a.b\"") so it cannot pose as a
 * nested key.  Redefining a key or a table is an error.
 */
#ifndef O2P_CONFIG_TOML_H
#define O2P_CONFIG_TOML_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

typedef enum toml_type {
    TOML_STRING,
    TOML_INT,
    TOML_FLOAT,
    TOML_BOOL,
    TOML_TABLE /* a [header]; no value */
} toml_type;

typedef struct toml_entry {
    char *key; /* full dotted path, owned by the document */
    toml_type type;
    char *str; /* TOML_STRING: decoded UTF-8, NUL-terminated (no embedded NUL) */
    int64_t i; /* TOML_INT */
    double f;  /* TOML_FLOAT */
    int b;     /* TOML_BOOL: 0 or 1 */
    int line;  /* 1-based line of the key or header */
} toml_entry;

typedef struct toml_doc {
    toml_entry *entries;
    size_t count;
    size_t cap;
} toml_doc;

/* Parses `len` bytes of `text` into `doc` (which it initializes).  On
 * failure returns O2P_EINVAL (or O2P_ENOMEM) with "line N: ..." in err and
 * leaves doc empty.  Free with toml_free in every case. */
int toml_parse(toml_doc *doc, const char *text, size_t len, o2p_error *err);
void toml_free(toml_doc *doc);

/* The entry named `key`, or NULL. */
const toml_entry *toml_find(const toml_doc *doc, const char *key);

/* "string", "integer", "float", "boolean", "table". */
const char *toml_type_name(toml_type type);

#endif
