/*
 * pq_gen: writes Parquet files through our writer so that independent readers
 * (DuckDB, hyparquet, arrow-rs via parquet-wasm) can prove them correct.
 *
 *   pq_gen OUTDIR
 *
 * For every case x codec it writes OUTDIR/CASE.CODEC.parquet and, from the
 * very same in-memory values, OUTDIR/CASE.CODEC.expected.json holding the
 * rows and what the file's metadata must say.  tests/e2e/parquet_readers.test.mjs
 * runs this program and compares.  Data comes from a seeded PRNG, so every
 * run writes identical files.
 *
 * JSON conventions (the test's normal form): every integer and timestamp is
 * a decimal string (64-bit values do not fit a JS number); doubles are
 * numbers printed with %.17g, or the strings "NaN", "Infinity", "-Infinity";
 * floats are printed with %.9g (enough to round-trip a float); a map is an
 * array of [key, value] pairs in written order; null is null.
 *
 * Levels are computed here from the Dremel rules (lvl_* below), not taken
 * from the writer: every put checks that a present value lands exactly on
 * the leaf's max_def, so a wrong max_def/max_rep in pq_schema_finish makes
 * this program fail loudly.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/error.h"
#include "core/mem.h"
#include "parquet/pq_column.h"
#include "parquet/pq_schema.h"
#include "parquet/pq_writer.h"

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("pq_gen: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

/* ---------------------------------------------------------------- PRNG -- */

/* splitmix64: tiny, seedable, and good enough to spread test values. */
static uint64_t rng_state;
static uint64_t rng_next(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}
static uint32_t rng_below(uint32_t n)
{
    return (uint32_t)(rng_next() % n);
}
static int rng_chance(uint32_t percent)
{
    return rng_below(100) < percent;
}

/* -------------------------------------------------------------- levels -- */

/*
 * Where an entry sits in Dremel terms.  def counts the OPTIONAL and REPEATED
 * fields on the leaf's path that are present (defined) for this entry; rep is
 * 0 when the entry starts a new row, else the repetition level of the
 * deepest repeated field that got a new element at this entry.
 */
typedef struct lvl {
    uint8_t def;
    uint8_t rep;
} lvl;

/* The start of a row: nothing defined yet, repetition level 0. */
static const lvl LVL_ROW = {0, 0};

/* An OPTIONAL field that is present defines one more level (REQUIRED fields
 * add nothing, so callers simply do not call this for them). */
static lvl lvl_present(lvl at)
{
    at.def++;
    return at;
}

/* Element `index` of a REPEATED field whose repetition level is `rep_level`
 * (the number of REPEATED fields from the root down to and including it).
 * Any element defines the repeated field's level.  The first element
 * continues whatever entry the enclosing context was starting (a new row,
 * or a new element of an outer list), so it inherits that rep; every later
 * element repeats at this field's own level. */
static lvl lvl_elem(lvl at, uint8_t rep_level, size_t index)
{
    lvl r;
    r.def = (uint8_t)(at.def + 1);
    r.rep = index == 0 ? at.rep : rep_level;
    return r;
}

/* Puts guard the level arithmetic against the schema's own maxima. */
static void lvl_check(const pq_column *c, lvl at, int has_value)
{
    const pq_leaf *leaf = c->leaf;
    if (has_value && at.def != leaf->max_def)
        die("%s: value at def %u but the schema says max_def %u", leaf->path, at.def,
            leaf->max_def);
    if (!has_value && at.def >= leaf->max_def)
        die("%s: empty entry at def %u but max_def is %u", leaf->path, at.def, leaf->max_def);
    if (at.rep > leaf->max_rep)
        die("%s: rep %u exceeds max_rep %u", leaf->path, at.rep, leaf->max_rep);
}

static void put_none(pq_column *c, lvl at)
{
    lvl_check(c, at, 0);
    pq_col_put_null(c, at.def, at.rep);
}
static void put_i32(pq_column *c, int32_t v, lvl at)
{
    lvl_check(c, at, 1);
    pq_col_put_i32(c, v, at.def, at.rep);
}
static void put_i64(pq_column *c, int64_t v, lvl at)
{
    lvl_check(c, at, 1);
    pq_col_put_i64(c, v, at.def, at.rep);
}
static void put_f32(pq_column *c, float v, lvl at)
{
    lvl_check(c, at, 1);
    pq_col_put_f32(c, v, at.def, at.rep);
}
static void put_f64(pq_column *c, double v, lvl at)
{
    lvl_check(c, at, 1);
    pq_col_put_f64(c, v, at.def, at.rep);
}
static void put_bool(pq_column *c, int v, lvl at)
{
    lvl_check(c, at, 1);
    pq_col_put_bool(c, v, at.def, at.rep);
}

/* ------------------------------------------------------------- strings -- */

typedef struct str {
    const char *p;
    size_t n;
} str;

static void put_str(pq_column *c, str s, lvl at)
{
    lvl_check(c, at, 1);
    pq_col_put_bytes(c, s.p, s.n, at.def, at.rep);
}

/* Per-row string storage: a row's strings live until the row is written. */
#define POOL_SIZE 16384
static char pool[POOL_SIZE];
static size_t pool_used;

static str pool_str(const char *text, size_t n)
{
    if (pool_used + n > POOL_SIZE) die("string pool exhausted");
    memcpy(pool + pool_used, text, n);
    str s = {pool + pool_used, n};
    pool_used += n;
    return s;
}
static str pool_cstr(const char *text)
{
    return pool_str(text, strlen(text));
}

/* Pieces mix ASCII, 2-, 3- and 4-byte UTF-8, and characters JSON must escape. */
static const char *const PIECES[] = {
    "alpha", "beta", " ",  "Zulu",  "é",           "ü",         "日本",    "語", "🚀", "Ω",  "-",
    "0",     "42",   "\t", "\"q\"", "back\\slash", "new\nline", "Ünïcødé", "ä",  "~", "zz", "A",
};
#define NUM_PIECES (sizeof PIECES / sizeof PIECES[0])

static str gen_text(size_t max_pieces)
{
    char tmp[512];
    size_t len = 0, pieces = rng_below((uint32_t)max_pieces + 1);
    for (size_t i = 0; i < pieces; i++) {
        const char *p = PIECES[rng_below(NUM_PIECES)];
        size_t n = strlen(p);
        if (len + n > sizeof tmp) break;
        memcpy(tmp + len, p, n);
        len += n;
    }
    return pool_str(tmp, len);
}

/* Low cardinality on purpose: its chunks must stay dictionary-encoded.  The
 * set also pins down byte-wise string order: "" < "Z" < "a" < "zz" < "é" < "日本語". */
static const char *const DICT_WORDS[] = {"", "Z", "a", "zz", "é", "INFO", "WARN", "日本語"};

/* 32 random hex digits: unique per row, so the dictionary outgrows its limit. */
static str gen_hex32(void)
{
    char tmp[32];
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < 32; i++) tmp[i] = hex[rng_below(16)];
    return pool_str(tmp, 32);
}

/* A string of exactly `size` bytes of valid UTF-8 (heap; the caller frees). */
static str gen_big(size_t size)
{
    char *p = mem_alloc(size);
    if (!p) die("out of memory");
    size_t len = 0;
    for (;;) {
        const char *piece = PIECES[rng_below(NUM_PIECES)];
        size_t n = strlen(piece);
        if (len + n > size) break;
        memcpy(p + len, piece, n);
        len += n;
    }
    while (len < size) p[len++] = 'x';
    str s = {p, size};
    return s;
}

/* ----------------------------------------------------------------- rows -- */

#define MAX_LIST     6
#define MAX_MAP      5
#define MAX_EVENTS   4
#define MAX_EV_ATTRS 3

typedef struct event {
    int64_t ts;
    str name;
    size_t n_attrs;
    str key[MAX_EV_ATTRS], val[MAX_EV_ATTRS];
} event;

/* One row of the "alltypes" table; *_has flags mark present optional values. */
typedef struct row {
    int b, b_opt_has, b_opt;
    int32_t i8, i16, i32;
    int i32_opt_has;
    int32_t i32_opt;
    int64_t i64;
    int i64_opt_has;
    int64_t i64_opt;
    float f32;
    double f64;
    int f64_opt_has;
    double f64_opt;
    str s;
    int s_big; /* s.p is heap memory */
    int s_opt_has;
    str s_opt;
    str s_dict, s_hc;
    int64_t ts_us, ts_ns;
    int ts_us_opt_has;
    int64_t ts_us_opt;
    size_t n_li64;
    int64_t li64[MAX_LIST];
    size_t n_lf64;
    double lf64[MAX_LIST];
    int li64o_has;
    size_t n_li64o;
    int li64o_elem_has[MAX_LIST];
    int64_t li64o[MAX_LIST];
    size_t n_attrs;
    str attr_key[MAX_MAP], attr_val[MAX_MAP];
    int attrs_opt_has;
    size_t n_attrs_opt;
    str ao_key[MAX_MAP];
    int ao_val_has[MAX_MAP];
    str ao_val[MAX_MAP];
    size_t n_events;
    event events[MAX_EVENTS];
} row;

typedef enum gen_mode {
    MODE_NORMAL, /* random values of every shape */
    MODE_EMPTY,  /* every optional null, every list and map empty, strings "" */
    MODE_BIG     /* like NORMAL, and `s` is a 1 MiB string */
} gen_mode;

static int64_t gen_i64(void)
{
    switch (rng_below(8)) {
    case 0:
        return INT64_MIN;
    case 1:
        return INT64_MAX;
    case 2:
        return 0;
    case 3:
        return (int64_t)rng_below(1000) - 500;
    default:
        return (int64_t)rng_next();
    }
}

static double gen_double(int allow_special)
{
    static const double edge[] = {
        0.0, 1.0, -1.0, 0.1, 1e308, -1e308, 5e-324, 2.2250738585072014e-308, 123456789.123456789,
        -0.5};
    uint32_t pick = rng_below(allow_special ? 14 : 12);
    if (pick < 10 && rng_chance(30)) return edge[pick];
    if (pick == 12) return NAN;
    if (pick == 13) return rng_chance(50) ? INFINITY : -INFINITY;
    double mant = (double)(rng_next() >> 11) / 9007199254740992.0; /* [0,1) */
    int exp10 = (int)rng_below(41) - 20;
    double v = mant * pow(10.0, exp10);
    return rng_chance(40) ? -v : v;
}

/* Keys unique within one map: readers that build objects must not lose any. */
static str gen_key(size_t index)
{
    char tmp[64];
    str word = gen_text(2);
    int n = snprintf(tmp, sizeof tmp, "k%zu", index);
    size_t len = (size_t)n;
    if (len + word.n < sizeof tmp) {
        memcpy(tmp + len, word.p, word.n);
        len += word.n;
    }
    return pool_str(tmp, len);
}

static void gen_row(row *r, gen_mode mode, size_t row_index)
{
    memset(r, 0, sizeof *r);
    pool_used = 0;
    r->s = pool_cstr("");
    r->s_dict = pool_cstr("");
    r->s_hc = pool_cstr("");
    if (mode == MODE_EMPTY) return;

    r->b = rng_chance(50);
    r->b_opt_has = rng_chance(70);
    r->b_opt = rng_chance(50);
    static const int32_t i8_edge[] = {-128, 127, 0, -1};
    r->i8 = rng_chance(10) ? i8_edge[rng_below(4)] : (int32_t)rng_below(256) - 128;
    static const int32_t i16_edge[] = {-32768, 32767, 0, 1};
    r->i16 = rng_chance(10) ? i16_edge[rng_below(4)] : (int32_t)rng_below(65536) - 32768;
    r->i32 =
        rng_chance(5) ? (rng_chance(50) ? INT32_MIN : INT32_MAX) : (int32_t)(uint32_t)rng_next();
    r->i32_opt_has = rng_chance(60);
    r->i32_opt = (int32_t)rng_below(2000) - 1000;
    r->i64 = gen_i64();
    r->i64_opt_has = rng_chance(60);
    r->i64_opt = gen_i64();
    r->f32 = (float)gen_double(0);
    if (isinf(r->f32)) r->f32 = 3.4028235e38f;
    r->f64 = gen_double(0);
    r->f64_opt_has = rng_chance(75);
    r->f64_opt = gen_double(1);

    r->s = gen_text(6);
    r->s_opt_has = rng_chance(50);
    r->s_opt = gen_text(3);
    r->s_dict = pool_cstr(DICT_WORDS[rng_below(sizeof DICT_WORDS / sizeof DICT_WORDS[0])]);
    r->s_hc = gen_hex32();
    if (mode == MODE_BIG) {
        /* The pool copy above just keeps the PRNG sequence the same. */
        r->s = gen_big(1u << 20);
        r->s_big = 1;
    }

    /* 2023-11-14 plus up to ~11 days; now and then before 1970. */
    int64_t base_us = 1700000000000000ll + (int64_t)(rng_next() % 1000000000000ull);
    r->ts_us = rng_chance(5) ? -(int64_t)rng_below(1000000000) : base_us;
    r->ts_ns = r->ts_us * 1000 + (int64_t)rng_below(1000);
    r->ts_us_opt_has = rng_chance(50);
    r->ts_us_opt = base_us + (int64_t)row_index;

    r->n_li64 = rng_below(MAX_LIST + 1);
    for (size_t i = 0; i < r->n_li64; i++) r->li64[i] = gen_i64();
    r->n_lf64 = rng_below(MAX_LIST + 1);
    for (size_t i = 0; i < r->n_lf64; i++) r->lf64[i] = gen_double(0);
    r->li64o_has = rng_chance(70);
    r->n_li64o = rng_below(MAX_LIST + 1);
    for (size_t i = 0; i < r->n_li64o; i++) {
        r->li64o_elem_has[i] = rng_chance(75);
        r->li64o[i] = (int64_t)rng_below(100000);
    }

    r->n_attrs = rng_below(MAX_MAP + 1);
    for (size_t i = 0; i < r->n_attrs; i++) {
        r->attr_key[i] = gen_key(i);
        r->attr_val[i] = gen_text(3);
    }
    r->attrs_opt_has = rng_chance(60);
    r->n_attrs_opt = rng_below(MAX_MAP + 1);
    for (size_t i = 0; i < r->n_attrs_opt; i++) {
        r->ao_key[i] = gen_key(i);
        r->ao_val_has[i] = rng_chance(70);
        r->ao_val[i] = gen_text(2);
    }

    r->n_events = rng_below(MAX_EVENTS + 1);
    for (size_t e = 0; e < r->n_events; e++) {
        event *ev = &r->events[e];
        ev->ts = base_us + (int64_t)e * 1000;
        ev->name = gen_text(2);
        ev->n_attrs = rng_below(MAX_EV_ATTRS + 1);
        for (size_t i = 0; i < ev->n_attrs; i++) {
            ev->key[i] = gen_key(i);
            ev->val[i] = gen_text(2);
        }
    }
}

static void row_release(row *r)
{
    if (r->s_big) mem_free((void *)r->s.p);
    r->s_big = 0;
}

/* -------------------------------------------------------------- schema -- */

/* Column order of the schema and of every JSON row.  `kind` tells the test
 * how to normalize the value; `rep` is the top-level field's repetition. */
typedef struct column_def {
    const char *name;
    const char *kind;
    const char *rep;
} column_def;

static const column_def COLUMNS[] = {
    {"b", "bool", "REQUIRED"},
    {"b_opt", "bool", "OPTIONAL"},
    {"i8", "int8", "REQUIRED"},
    {"i16", "int16", "REQUIRED"},
    {"i32", "int32", "REQUIRED"},
    {"i32_opt", "int32", "OPTIONAL"},
    {"i64", "int64", "REQUIRED"},
    {"i64_opt", "int64", "OPTIONAL"},
    {"f32", "float", "REQUIRED"},
    {"f64", "double", "REQUIRED"},
    {"f64_opt", "double", "OPTIONAL"},
    {"s", "string", "REQUIRED"},
    {"s_opt", "string", "OPTIONAL"},
    {"s_dict", "string", "REQUIRED"},
    {"s_hc", "string", "REQUIRED"},
    {"ts_us", "timestamp_us", "REQUIRED"},
    {"ts_ns", "timestamp_ns", "REQUIRED"},
    {"ts_us_opt", "timestamp_us", "OPTIONAL"},
    {"li64", "list<int64>", "REQUIRED"},
    {"lf64", "list<double>", "REQUIRED"},
    {"li64_opt", "list<int64>", "OPTIONAL"},
    {"attrs", "map", "REQUIRED"},
    {"attrs_opt", "map", "OPTIONAL"},
    {"events", "events", "REQUIRED"},
};
#define NUM_COLUMNS (sizeof COLUMNS / sizeof COLUMNS[0])

/* Leaf paths with the levels derived by hand from the Dremel rules: each
 * OPTIONAL or REPEATED field on the path adds one to max_def, each REPEATED
 * one adds one to max_rep.  pq_gen refuses to run when the schema disagrees. */
typedef struct leaf_def {
    const char *path;
    uint8_t max_def, max_rep;
} leaf_def;

enum {
    L_B,
    L_B_OPT,
    L_I8,
    L_I16,
    L_I32,
    L_I32_OPT,
    L_I64,
    L_I64_OPT,
    L_F32,
    L_F64,
    L_F64_OPT,
    L_S,
    L_S_OPT,
    L_S_DICT,
    L_S_HC,
    L_TS_US,
    L_TS_NS,
    L_TS_US_OPT,
    L_LI64,
    L_LF64,
    L_LI64_OPT,
    L_ATTRS_K,
    L_ATTRS_V,
    L_AO_K,
    L_AO_V,
    L_EV_TS,
    L_EV_NAME,
    L_EV_K,
    L_EV_V,
    NUM_LEAVES
};

static const leaf_def LEAVES[NUM_LEAVES] = {
    [L_B] = {"b", 0, 0},
    [L_B_OPT] = {"b_opt", 1, 0},
    [L_I8] = {"i8", 0, 0},
    [L_I16] = {"i16", 0, 0},
    [L_I32] = {"i32", 0, 0},
    [L_I32_OPT] = {"i32_opt", 1, 0},
    [L_I64] = {"i64", 0, 0},
    [L_I64_OPT] = {"i64_opt", 1, 0},
    [L_F32] = {"f32", 0, 0},
    [L_F64] = {"f64", 0, 0},
    [L_F64_OPT] = {"f64_opt", 1, 0},
    [L_S] = {"s", 0, 0},
    [L_S_OPT] = {"s_opt", 1, 0},
    [L_S_DICT] = {"s_dict", 0, 0},
    [L_S_HC] = {"s_hc", 0, 0},
    [L_TS_US] = {"ts_us", 0, 0},
    [L_TS_NS] = {"ts_ns", 0, 0},
    [L_TS_US_OPT] = {"ts_us_opt", 1, 0},
    /* required list > repeated list > required element */
    [L_LI64] = {"li64.list.element", 1, 1},
    [L_LF64] = {"lf64.list.element", 1, 1},
    /* optional list > repeated list > optional element */
    [L_LI64_OPT] = {"li64_opt.list.element", 3, 1},
    /* required map > repeated key_value > required key / required value */
    [L_ATTRS_K] = {"attrs.key_value.key", 1, 1},
    [L_ATTRS_V] = {"attrs.key_value.value", 1, 1},
    /* optional map > repeated key_value > required key / optional value */
    [L_AO_K] = {"attrs_opt.key_value.key", 2, 1},
    [L_AO_V] = {"attrs_opt.key_value.value", 3, 1},
    /* required list > repeated list > required struct > required fields */
    [L_EV_TS] = {"events.list.element.Timestamp", 1, 1},
    [L_EV_NAME] = {"events.list.element.Name", 1, 1},
    /* ... > required map > repeated key_value > required key/value */
    [L_EV_K] = {"events.list.element.Attributes.key_value.key", 2, 2},
    [L_EV_V] = {"events.list.element.Attributes.key_value.value", 2, 2},
};

/* Repetition levels of the repeated fields, as lvl_elem needs them. */
#define REP_LIST     1 /* x.list / x.key_value directly under the root */
#define REP_EV_ATTRS 2 /* events.list.element.Attributes.key_value */

static int check_node(int id, const char *what)
{
    if (id < 0) die("schema: adding %s failed (%d)", what, id);
    return id;
}

static pq_schema *build_schema(int leaf_index[NUM_LEAVES])
{
    pq_schema *s;
    o2p_error err;
    o2p_error_clear(&err);
    if (pq_schema_create(&s, "schema", &err) < 0) die("schema: %s", err.msg);
    const int R = PQ_SCHEMA_ROOT;
    check_node(pq_schema_add_leaf(s, R, "b", PQ_REQUIRED, PQ_BOOLEAN, PQ_LOGICAL_NONE, 0), "b");
    check_node(pq_schema_add_leaf(s, R, "b_opt", PQ_OPTIONAL, PQ_BOOLEAN, PQ_LOGICAL_NONE, 0),
               "b_opt");
    check_node(pq_schema_add_leaf(s, R, "i8", PQ_REQUIRED, PQ_INT32, PQ_LOGICAL_INT8, 0), "i8");
    check_node(pq_schema_add_leaf(s, R, "i16", PQ_REQUIRED, PQ_INT32, PQ_LOGICAL_INT16, 0), "i16");
    check_node(pq_schema_add_leaf(s, R, "i32", PQ_REQUIRED, PQ_INT32, PQ_LOGICAL_NONE, 0), "i32");
    check_node(pq_schema_add_leaf(s, R, "i32_opt", PQ_OPTIONAL, PQ_INT32, PQ_LOGICAL_INT32, 0),
               "i32_opt");
    check_node(pq_schema_add_leaf(s, R, "i64", PQ_REQUIRED, PQ_INT64, PQ_LOGICAL_NONE, 0), "i64");
    check_node(pq_schema_add_leaf(s, R, "i64_opt", PQ_OPTIONAL, PQ_INT64, PQ_LOGICAL_INT64, 0),
               "i64_opt");
    check_node(pq_schema_add_leaf(s, R, "f32", PQ_REQUIRED, PQ_FLOAT, PQ_LOGICAL_NONE, 0), "f32");
    check_node(pq_schema_add_leaf(s, R, "f64", PQ_REQUIRED, PQ_DOUBLE, PQ_LOGICAL_NONE, 0), "f64");
    check_node(pq_schema_add_leaf(s, R, "f64_opt", PQ_OPTIONAL, PQ_DOUBLE, PQ_LOGICAL_NONE, 0),
               "f64_opt");
    check_node(pq_schema_add_leaf(s, R, "s", PQ_REQUIRED, PQ_BYTE_ARRAY, PQ_LOGICAL_STRING, 0),
               "s");
    check_node(pq_schema_add_leaf(s, R, "s_opt", PQ_OPTIONAL, PQ_BYTE_ARRAY, PQ_LOGICAL_STRING, 0),
               "s_opt");
    check_node(pq_schema_add_leaf(s, R, "s_dict", PQ_REQUIRED, PQ_BYTE_ARRAY, PQ_LOGICAL_STRING, 0),
               "s_dict");
    check_node(pq_schema_add_leaf(s, R, "s_hc", PQ_REQUIRED, PQ_BYTE_ARRAY, PQ_LOGICAL_STRING, 0),
               "s_hc");
    check_node(
        pq_schema_add_leaf(s, R, "ts_us", PQ_REQUIRED, PQ_INT64, PQ_LOGICAL_TIMESTAMP_MICROS, 0),
        "ts_us");
    check_node(
        pq_schema_add_leaf(s, R, "ts_ns", PQ_REQUIRED, PQ_INT64, PQ_LOGICAL_TIMESTAMP_NANOS, 0),
        "ts_ns");
    check_node(pq_schema_add_leaf(s, R, "ts_us_opt", PQ_OPTIONAL, PQ_INT64,
                                  PQ_LOGICAL_TIMESTAMP_MICROS, 0),
               "ts_us_opt");
    check_node(
        pq_schema_add_list_leaf(s, R, "li64", PQ_REQUIRED, PQ_REQUIRED, PQ_INT64, PQ_LOGICAL_NONE),
        "li64");
    check_node(
        pq_schema_add_list_leaf(s, R, "lf64", PQ_REQUIRED, PQ_REQUIRED, PQ_DOUBLE, PQ_LOGICAL_NONE),
        "lf64");
    check_node(pq_schema_add_list_leaf(s, R, "li64_opt", PQ_OPTIONAL, PQ_OPTIONAL, PQ_INT64,
                                       PQ_LOGICAL_NONE),
               "li64_opt");
    check_node(pq_schema_add_map(s, R, "attrs", PQ_REQUIRED, PQ_BYTE_ARRAY, PQ_LOGICAL_STRING,
                                 PQ_BYTE_ARRAY, PQ_LOGICAL_STRING, PQ_REQUIRED),
               "attrs");
    check_node(pq_schema_add_map(s, R, "attrs_opt", PQ_OPTIONAL, PQ_BYTE_ARRAY, PQ_LOGICAL_STRING,
                                 PQ_BYTE_ARRAY, PQ_LOGICAL_STRING, PQ_OPTIONAL),
               "attrs_opt");
    int ev =
        check_node(pq_schema_add_list_group(s, R, "events", PQ_REQUIRED, PQ_REQUIRED), "events");
    check_node(pq_schema_add_leaf(s, ev, "Timestamp", PQ_REQUIRED, PQ_INT64,
                                  PQ_LOGICAL_TIMESTAMP_MICROS, 0),
               "events Timestamp");
    check_node(pq_schema_add_leaf(s, ev, "Name", PQ_REQUIRED, PQ_BYTE_ARRAY, PQ_LOGICAL_STRING, 0),
               "events Name");
    check_node(pq_schema_add_map(s, ev, "Attributes", PQ_REQUIRED, PQ_BYTE_ARRAY, PQ_LOGICAL_STRING,
                                 PQ_BYTE_ARRAY, PQ_LOGICAL_STRING, PQ_REQUIRED),
               "events Attributes");
    if (pq_schema_finish(s, &err) < 0) die("schema finish: %s", err.msg);

    if (pq_schema_num_leaves(s) != NUM_LEAVES)
        die("schema has %zu leaves, expected %d", pq_schema_num_leaves(s), NUM_LEAVES);
    for (int i = 0; i < NUM_LEAVES; i++) {
        int idx = pq_schema_find_leaf(s, LEAVES[i].path);
        if (idx < 0) die("schema: no leaf with path %s", LEAVES[i].path);
        const pq_leaf *leaf = pq_schema_leaf(s, (size_t)idx);
        if (leaf->max_def != LEAVES[i].max_def || leaf->max_rep != LEAVES[i].max_rep)
            die("schema: %s has max_def %u max_rep %u, Dremel rules give %u/%u", LEAVES[i].path,
                leaf->max_def, leaf->max_rep, LEAVES[i].max_def, LEAVES[i].max_rep);
        if (idx != i)
            die("schema: leaf %s is number %d, expected %d (depth-first order)", LEAVES[i].path,
                idx, i);
        leaf_index[i] = idx;
    }
    return s;
}

/* ------------------------------------------------------------ shredding -- */

/* A map<string,string> with REQUIRED values: `at` is the map field's own
 * position (after its OPTIONAL level if any); an empty map is one entry
 * without value at `at`. */
static void shred_map(pq_column *kc, pq_column *vc, lvl at, uint8_t rep_level, size_t n,
                      const str *keys, const str *vals, const int *val_has)
{
    if (n == 0) {
        put_none(kc, at);
        put_none(vc, at);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        lvl e = lvl_elem(at, rep_level, i);
        put_str(kc, keys[i], e);
        if (!val_has)
            put_str(vc, vals[i], e);
        else if (val_has[i])
            put_str(vc, vals[i], lvl_present(e));
        else
            put_none(vc, e);
    }
}

static void shred_row(pq_colset *set, const int li[NUM_LEAVES], const row *r)
{
    pq_column *c = set->cols;
#define COL(x) (&c[li[x]])
    const lvl top = LVL_ROW;
    put_bool(COL(L_B), r->b, top);
    if (r->b_opt_has)
        put_bool(COL(L_B_OPT), r->b_opt, lvl_present(top));
    else
        put_none(COL(L_B_OPT), top);
    put_i32(COL(L_I8), r->i8, top);
    put_i32(COL(L_I16), r->i16, top);
    put_i32(COL(L_I32), r->i32, top);
    if (r->i32_opt_has)
        put_i32(COL(L_I32_OPT), r->i32_opt, lvl_present(top));
    else
        put_none(COL(L_I32_OPT), top);
    put_i64(COL(L_I64), r->i64, top);
    if (r->i64_opt_has)
        put_i64(COL(L_I64_OPT), r->i64_opt, lvl_present(top));
    else
        put_none(COL(L_I64_OPT), top);
    put_f32(COL(L_F32), r->f32, top);
    put_f64(COL(L_F64), r->f64, top);
    if (r->f64_opt_has)
        put_f64(COL(L_F64_OPT), r->f64_opt, lvl_present(top));
    else
        put_none(COL(L_F64_OPT), top);
    put_str(COL(L_S), r->s, top);
    if (r->s_opt_has)
        put_str(COL(L_S_OPT), r->s_opt, lvl_present(top));
    else
        put_none(COL(L_S_OPT), top);
    put_str(COL(L_S_DICT), r->s_dict, top);
    put_str(COL(L_S_HC), r->s_hc, top);
    put_i64(COL(L_TS_US), r->ts_us, top);
    put_i64(COL(L_TS_NS), r->ts_ns, top);
    if (r->ts_us_opt_has)
        put_i64(COL(L_TS_US_OPT), r->ts_us_opt, lvl_present(top));
    else
        put_none(COL(L_TS_US_OPT), top);

    if (r->n_li64 == 0) put_none(COL(L_LI64), top);
    for (size_t i = 0; i < r->n_li64; i++)
        put_i64(COL(L_LI64), r->li64[i], lvl_elem(top, REP_LIST, i));
    if (r->n_lf64 == 0) put_none(COL(L_LF64), top);
    for (size_t i = 0; i < r->n_lf64; i++)
        put_f64(COL(L_LF64), r->lf64[i], lvl_elem(top, REP_LIST, i));

    if (!r->li64o_has) {
        put_none(COL(L_LI64_OPT), top); /* null list: def 0 */
    } else {
        lvl list = lvl_present(top);
        if (r->n_li64o == 0) put_none(COL(L_LI64_OPT), list); /* empty list: def 1 */
        for (size_t i = 0; i < r->n_li64o; i++) {
            lvl e = lvl_elem(list, REP_LIST, i);
            if (r->li64o_elem_has[i])
                put_i64(COL(L_LI64_OPT), r->li64o[i], lvl_present(e));
            else
                put_none(COL(L_LI64_OPT), e); /* null element: def 2 */
        }
    }

    shred_map(COL(L_ATTRS_K), COL(L_ATTRS_V), top, REP_LIST, r->n_attrs, r->attr_key, r->attr_val,
              NULL);
    if (!r->attrs_opt_has) {
        put_none(COL(L_AO_K), top);
        put_none(COL(L_AO_V), top);
    } else {
        shred_map(COL(L_AO_K), COL(L_AO_V), lvl_present(top), REP_LIST, r->n_attrs_opt, r->ao_key,
                  r->ao_val, r->ao_val_has);
    }

    if (r->n_events == 0) {
        put_none(COL(L_EV_TS), top);
        put_none(COL(L_EV_NAME), top);
        put_none(COL(L_EV_K), top);
        put_none(COL(L_EV_V), top);
    }
    for (size_t e = 0; e < r->n_events; e++) {
        const event *ev = &r->events[e];
        /* The struct and its fields are REQUIRED: they sit at the element's levels. */
        lvl el = lvl_elem(top, REP_LIST, e);
        put_i64(COL(L_EV_TS), ev->ts, el);
        put_str(COL(L_EV_NAME), ev->name, el);
        shred_map(COL(L_EV_K), COL(L_EV_V), el, REP_EV_ATTRS, ev->n_attrs, ev->key, ev->val, NULL);
    }
#undef COL
    set->num_rows++;
}

/* ----------------------------------------------------------------- JSON -- */

static void json_str(o2p_buf *b, str s)
{
    buf_push_byte(b, '"');
    for (size_t i = 0; i < s.n; i++) {
        unsigned char ch = (unsigned char)s.p[i];
        if (ch == '"' || ch == '\\') {
            buf_push_byte(b, '\\');
            buf_push_byte(b, ch);
        } else if (ch < 0x20) {
            buf_printf(b, "\\u%04x", ch);
        } else {
            buf_push_byte(b, ch);
        }
    }
    buf_push_byte(b, '"');
}
static void json_cstr(o2p_buf *b, const char *s)
{
    str x = {s, strlen(s)};
    json_str(b, x);
}
static void json_i64(o2p_buf *b, int64_t v)
{
    buf_printf(b, "\"%lld\"", (long long)v);
}
static void json_f64(o2p_buf *b, double v)
{
    if (isnan(v))
        buf_append_str(b, "\"NaN\"");
    else if (isinf(v))
        buf_append_str(b, v > 0 ? "\"Infinity\"" : "\"-Infinity\"");
    else
        buf_printf(b, "%.17g", v);
}
static void json_map(o2p_buf *b, size_t n, const str *keys, const str *vals, const int *val_has)
{
    buf_push_byte(b, '[');
    for (size_t i = 0; i < n; i++) {
        if (i) buf_push_byte(b, ',');
        buf_push_byte(b, '[');
        json_str(b, keys[i]);
        buf_push_byte(b, ',');
        if (val_has && !val_has[i])
            buf_append_str(b, "null");
        else
            json_str(b, vals[i]);
        buf_push_byte(b, ']');
    }
    buf_push_byte(b, ']');
}

static void json_row(o2p_buf *b, const row *r)
{
    buf_push_byte(b, '[');
    buf_append_str(b, r->b ? "true," : "false,");
    buf_append_str(b, !r->b_opt_has ? "null," : r->b_opt ? "true," : "false,");
    json_i64(b, r->i8);
    buf_push_byte(b, ',');
    json_i64(b, r->i16);
    buf_push_byte(b, ',');
    json_i64(b, r->i32);
    buf_push_byte(b, ',');
    if (r->i32_opt_has)
        json_i64(b, r->i32_opt);
    else
        buf_append_str(b, "null");
    buf_push_byte(b, ',');
    json_i64(b, r->i64);
    buf_push_byte(b, ',');
    if (r->i64_opt_has)
        json_i64(b, r->i64_opt);
    else
        buf_append_str(b, "null");
    buf_printf(b, ",%.9g,", (double)r->f32);
    json_f64(b, r->f64);
    buf_push_byte(b, ',');
    if (r->f64_opt_has)
        json_f64(b, r->f64_opt);
    else
        buf_append_str(b, "null");
    buf_push_byte(b, ',');
    json_str(b, r->s);
    buf_push_byte(b, ',');
    if (r->s_opt_has)
        json_str(b, r->s_opt);
    else
        buf_append_str(b, "null");
    buf_push_byte(b, ',');
    json_str(b, r->s_dict);
    buf_push_byte(b, ',');
    json_str(b, r->s_hc);
    buf_push_byte(b, ',');
    json_i64(b, r->ts_us);
    buf_push_byte(b, ',');
    json_i64(b, r->ts_ns);
    buf_push_byte(b, ',');
    if (r->ts_us_opt_has)
        json_i64(b, r->ts_us_opt);
    else
        buf_append_str(b, "null");
    buf_append_str(b, ",[");
    for (size_t i = 0; i < r->n_li64; i++) {
        if (i) buf_push_byte(b, ',');
        json_i64(b, r->li64[i]);
    }
    buf_append_str(b, "],[");
    for (size_t i = 0; i < r->n_lf64; i++) {
        if (i) buf_push_byte(b, ',');
        json_f64(b, r->lf64[i]);
    }
    buf_append_str(b, "],");
    if (!r->li64o_has) {
        buf_append_str(b, "null");
    } else {
        buf_push_byte(b, '[');
        for (size_t i = 0; i < r->n_li64o; i++) {
            if (i) buf_push_byte(b, ',');
            if (r->li64o_elem_has[i])
                json_i64(b, r->li64o[i]);
            else
                buf_append_str(b, "null");
        }
        buf_push_byte(b, ']');
    }
    buf_push_byte(b, ',');
    json_map(b, r->n_attrs, r->attr_key, r->attr_val, NULL);
    buf_push_byte(b, ',');
    if (r->attrs_opt_has)
        json_map(b, r->n_attrs_opt, r->ao_key, r->ao_val, r->ao_val_has);
    else
        buf_append_str(b, "null");
    buf_append_str(b, ",[");
    for (size_t e = 0; e < r->n_events; e++) {
        const event *ev = &r->events[e];
        if (e) buf_push_byte(b, ',');
        buf_append_str(b, "{\"Timestamp\":");
        json_i64(b, ev->ts);
        buf_append_str(b, ",\"Name\":");
        json_str(b, ev->name);
        buf_append_str(b, ",\"Attributes\":");
        json_map(b, ev->n_attrs, ev->key, ev->val, NULL);
        buf_push_byte(b, '}');
    }
    buf_append_str(b, "]]");
}

/* ---------------------------------------------------------------- cases -- */

typedef struct gen_case {
    const char *name;
    gen_mode mode;
    size_t rows;
    size_t batch_rows;     /* rows per pq_writer_write call (0 = all at once) */
    size_t row_group_rows; /* 0 = writer default */
    size_t page_size;      /* 0 = writer default */
    size_t dictionary_limit;
    int dictionary;
    int high_level; /* use a non-default compression level where the codec has levels */
    size_t expect_row_groups;
    /* Columns whose every chunk must be dictionary-encoded / plain only. */
    const char *dict_columns;
    const char *plain_columns;
    /* NULL: every chunk gets the file's codec (min_compression_saving = 0);
     * else the writer's default choice, and these columns (random values)
     * must be UNCOMPRESSED in every file, other chunks may be. */
    const char *raw_columns;
} gen_case;

static const gen_case CASES[] = {
    /* Many row groups (1000 + 1000 + 500), many 4 KiB pages, a 16 KiB
     * dictionary limit: s_dict (8 values) and i8 stay dictionary-encoded;
     * s_hc (unique values, 36 KB per chunk) must be PLAIN. */
    {"alltypes", MODE_NORMAL, 2500, 0, 1000, 4096, 16384, 1, 0, 3, "s_dict,i8", "s_hc", NULL},
    /* Three writes of 100 rows with default options: one row group per
     * write; a non-default compression level for ZSTD and GZIP; chunks the
     * codec cannot shrink (i32: random 32-bit values) UNCOMPRESSED. */
    {"batches", MODE_NORMAL, 300, 100, 0, 0, 0, 1, 1, 3, "s_dict", "s_hc", "i32"},
    /* A 16-byte dictionary limit: even the 8-word column outgrows it and
     * falls back to PLAIN, although its dictionary would pay off. */
    {"dictlimit", MODE_NORMAL, 300, 0, 0, 0, 16, 1, 0, 1, "", "s_dict,i8,s", NULL},
    /* Dictionary encoding switched off: every chunk is PLAIN. */
    {"nodict", MODE_NORMAL, 200, 0, 0, 0, 0, 0, 0, 1, "", "s_dict,s_hc,i8,i64,f64,s,ts_us", NULL},
    {"empty", MODE_EMPTY, 0, 0, 0, 0, 0, 1, 0, 0, "", "", NULL},
    /* One row where every optional is null and every list/map/string empty. */
    {"onerow", MODE_EMPTY, 1, 0, 0, 0, 0, 1, 0, 1, "", "", NULL},
    /* 1 MiB strings: pages and dictionaries larger than the defaults' sizes
     * (and string statistics that must be truncated). */
    {"bigstrings", MODE_BIG, 3, 0, 0, 0, 0, 1, 0, 1, "", "s", NULL},
};
#define NUM_CASES (sizeof CASES / sizeof CASES[0])

static const pq_codec CODECS[] = {PQ_CODEC_UNCOMPRESSED, PQ_CODEC_SNAPPY, PQ_CODEC_GZIP,
                                  PQ_CODEC_ZSTD, PQ_CODEC_LZ4_RAW};
static const char *const CODEC_NAMES[] = {"UNCOMPRESSED", "SNAPPY", "GZIP", "ZSTD", "LZ4_RAW"};
#define NUM_CODECS (sizeof CODECS / sizeof CODECS[0])

static void json_name_list(o2p_buf *b, const char *csv)
{
    buf_push_byte(b, '[');
    const char *p = csv;
    int first = 1;
    while (*p) {
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (!first) buf_push_byte(b, ',');
        str x = {p, n};
        json_str(b, x);
        first = 0;
        p += n;
        if (*p == ',') p++;
    }
    buf_push_byte(b, ']');
}

static void write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f) die("%s: %s", path, strerror(errno));
    if (fwrite(data, 1, len, f) != len || fclose(f) != 0) die("%s: write failed", path);
}

static void flush_rows(pq_writer *w, pq_colset *set, const char *file)
{
    o2p_error err;
    o2p_error_clear(&err);
    if (pq_colset_check(set, &err) < 0) die("%s: colset: %s", file, err.msg);
    if (pq_writer_write(w, set, &err) < 0) die("%s: write: %s", file, err.msg);
    pq_colset_reset(set);
}

static void gen_one(const char *outdir, const gen_case *gc, size_t codec_index,
                    const pq_schema *schema, const int li[NUM_LEAVES])
{
    char base[512], path[600];
    snprintf(base, sizeof base, "%s/%s.%s", outdir, gc->name, CODEC_NAMES[codec_index]);
    snprintf(path, sizeof path, "%s.parquet", base);

    pq_writer_options opts;
    pq_writer_options_default(&opts);
    opts.codec = CODECS[codec_index];
    if (gc->row_group_rows) opts.row_group_rows = gc->row_group_rows;
    if (gc->page_size) opts.page_size = gc->page_size;
    if (gc->dictionary_limit) opts.dictionary_limit = gc->dictionary_limit;
    opts.dictionary = gc->dictionary;
    if (gc->raw_columns == NULL) opts.min_compression_saving = 0;
    if (gc->high_level && opts.codec == PQ_CODEC_ZSTD) opts.compression_level = 19;
    if (gc->high_level && opts.codec == PQ_CODEC_GZIP) opts.compression_level = 9;
    char table_name[64];
    snprintf(table_name, sizeof table_name, "pq_gen_%s", gc->name);
    const pq_kv kv[] = {
        {"otlp2parquet.table", table_name},
        {"otlp2parquet.schema_version", "1"},
        {"pq_gen.note", "ünïcødé ✓"},
    };
    opts.metadata = kv;
    opts.num_metadata = sizeof kv / sizeof kv[0];

    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) die("%s: %s", path, strerror(errno));
    pq_writer *w;
    o2p_error err;
    o2p_error_clear(&err);
    if (pq_writer_open(&w, schema, &opts, pq_sink_fd(&fd), &err) < 0)
        die("%s: open: %s", path, err.msg);

    pq_colset set;
    if (pq_colset_init(&set, schema) < 0) die("colset init failed");

    o2p_buf js;
    buf_init(&js, 0);
    buf_append_str(&js, "{\"file\":");
    json_cstr(&js, strrchr(path, '/') + 1);
    buf_append_str(&js, ",\"case\":");
    json_cstr(&js, gc->name);
    buf_append_str(&js, ",\"columns\":[");
    for (size_t i = 0; i < NUM_COLUMNS; i++) {
        buf_printf(&js, "%s{\"name\":\"%s\",\"kind\":\"%s\",\"repetition\":\"%s\"}", i ? "," : "",
                   COLUMNS[i].name, COLUMNS[i].kind, COLUMNS[i].rep);
    }
    buf_append_str(&js, "],\"leaves\":[");
    for (int i = 0; i < NUM_LEAVES; i++) {
        buf_printf(&js, "%s{\"path\":\"%s\",\"max_def\":%u,\"max_rep\":%u}", i ? "," : "",
                   LEAVES[i].path, LEAVES[i].max_def, LEAVES[i].max_rep);
    }
    buf_append_str(&js, "],\"rows\":[\n");

    /* Each file starts from the same seed so all codecs hold identical data. */
    rng_state = 0x6f746c7032707121ull ^ (uint64_t)gc->mode * 7919u ^ gc->rows;
    row r;
    for (size_t i = 0; i < gc->rows; i++) {
        gen_row(&r, gc->mode, i);
        shred_row(&set, li, &r);
        if (i) buf_append_str(&js, ",\n");
        json_row(&js, &r);
        row_release(&r);
        if (gc->batch_rows && set.num_rows == gc->batch_rows) flush_rows(w, &set, path);
    }
    if (set.num_rows || gc->rows == 0) flush_rows(w, &set, path);
    if (pq_writer_close(w, &err) < 0) die("%s: close: %s", path, err.msg);
    if (pq_writer_rows_written(w) != gc->rows)
        die("%s: writer reports %llu rows, wrote %zu", path,
            (unsigned long long)pq_writer_rows_written(w), gc->rows);
    uint64_t bytes = pq_writer_bytes_written(w);
    pq_writer_destroy(w);
    pq_colset_free(&set);
    if (close(fd) != 0) die("%s: close: %s", path, strerror(errno));
    struct stat st;
    if (stat(path, &st) != 0 || (uint64_t)st.st_size != bytes)
        die("%s: file has %lld bytes, writer reports %llu", path, (long long)st.st_size,
            (unsigned long long)bytes);

    buf_append_str(&js, "\n],\"expect\":{\"codec\":");
    json_cstr(&js, CODEC_NAMES[codec_index]);
    buf_printf(&js, ",\"num_rows\":%zu,\"row_groups\":%zu,\"row_group_rows\":%zu,\"page_size\":%zu",
               gc->rows, gc->expect_row_groups, opts.row_group_rows, opts.page_size);
    buf_printf(&js,
               ",\"dictionary\":%s,\"dictionary_columns\":", gc->dictionary ? "true" : "false");
    json_name_list(&js, gc->dict_columns);
    buf_append_str(&js, ",\"plain_columns\":");
    json_name_list(&js, gc->plain_columns);
    buf_printf(&js, ",\"mixed_codecs\":%s,\"raw_columns\":", gc->raw_columns ? "true" : "false");
    json_name_list(&js, gc->raw_columns ? gc->raw_columns : "");
    buf_append_str(&js, ",\"created_by_prefix\":\"otlp2parquet version \",\"kv\":{");
    for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i++) {
        if (i) buf_push_byte(&js, ',');
        json_cstr(&js, kv[i].key);
        buf_push_byte(&js, ':');
        json_cstr(&js, kv[i].value);
    }
    buf_append_str(&js, "}}}\n");

    snprintf(path, sizeof path, "%s.expected.json", base);
    write_file(path, js.data, js.len);
    buf_free(&js);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: pq_gen OUTDIR\n");
        return 2;
    }
    int li[NUM_LEAVES];
    pq_schema *schema = build_schema(li);
    size_t files = 0;
    for (size_t c = 0; c < NUM_CASES; c++) {
        for (size_t k = 0; k < NUM_CODECS; k++) {
            gen_one(argv[1], &CASES[c], k, schema, li);
            files++;
        }
    }
    pq_schema_destroy(schema);
    printf("pq_gen: wrote %zu files to %s\n", files, argv[1]);
    return 0;
}
