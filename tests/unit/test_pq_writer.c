/*
 * Unit tests for the Parquet writer and its schema, column and statistics
 * parts.  Files are written to memory and their footers parsed back with a
 * small Thrift compact-protocol reader written here from the protocol
 * specification, so field ids and values are checked against
 * parquet.thrift, not against the encoder's own code.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <zstd.h>

#include "core/buf.h"
#include "core/mem.h"
#include "core/version.h"
#include "parquet/pq_column.h"
#include "parquet/pq_compress.h"
#include "parquet/pq_schema.h"
#include "parquet/pq_writer.h"
#include "unit.h"

/* ---- a minimal compact-protocol reader ---------------------------------- */

typedef struct rd {
    const uint8_t *p, *end;
} rd;

static uint64_t rd_varint(rd *r)
{
    uint64_t v = 0;
    for (int shift = 0; r->p < r->end; shift += 7) {
        uint8_t b = *r->p++;
        v |= (uint64_t)(b & 0x7F) << shift;
        if (!(b & 0x80)) break;
    }
    return v;
}

static int64_t rd_zigzag(rd *r)
{
    uint64_t v = rd_varint(r);
    return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

static void rd_skip(rd *r, int type);

static size_t rd_list_header(rd *r, int *elem)
{
    uint8_t h = *r->p++;
    *elem = h & 0x0F;
    size_t n = h >> 4;
    if (n == 15) n = (size_t)rd_varint(r);
    return n;
}

static void rd_skip_struct(rd *r)
{
    for (;;) {
        uint8_t h = *r->p++;
        if (h == 0) return;
        if ((h >> 4) == 0) rd_zigzag(r);
        rd_skip(r, h & 0x0F);
    }
}

static void rd_skip(rd *r, int type)
{
    int elem;
    switch (type) {
    case 1:
    case 2:
        break;
    case 3:
        r->p++;
        break;
    case 4:
    case 5:
    case 6:
        rd_varint(r);
        break;
    case 7:
        r->p += 8;
        break;
    case 8: {
        size_t n = (size_t)rd_varint(r);
        r->p += n;
        break;
    }
    case 9: {
        size_t n = rd_list_header(r, &elem);
        for (size_t i = 0; i < n; i++) {
            if (elem == 1 || elem == 2)
                r->p++;
            else
                rd_skip(r, elem);
        }
        break;
    }
    case 12:
        rd_skip_struct(r);
        break;
    default:
        unit_fail(__FILE__, __LINE__, "unexpected thrift type %d", type);
    }
}

/* Positions a copy of the reader (at a struct's first field) at field id's
 * value; returns its type, or 0 when the struct has no such field. */
static int rd_field(rd s, int16_t id, rd *out)
{
    int16_t last = 0;
    for (;;) {
        uint8_t h = *s.p++;
        if (h == 0) return 0;
        int type = h & 0x0F;
        int16_t fid = (h >> 4) ? (int16_t)(last + (h >> 4)) : (int16_t)rd_zigzag(&s);
        last = fid;
        if (fid == id) {
            *out = s;
            return type;
        }
        rd_skip(&s, type);
    }
}

static int64_t field_int(rd s, int16_t id)
{
    rd v;
    int type = rd_field(s, id, &v);
    CHECK_MSG(type >= 3 && type <= 6, "field %d: type %d is not an integer", id, type);
    if (type == 3) return (int8_t)*v.p;
    return rd_zigzag(&v);
}

/* A bool field (compact protocol: the value is the type nibble). */
static int field_bool(rd s, int16_t id)
{
    rd v;
    int type = rd_field(s, id, &v);
    CHECK_MSG(type == 1 || type == 2, "field %d: type %d is not a bool", id, type);
    return type == 1;
}

static int has_field(rd s, int16_t id)
{
    rd v;
    return rd_field(s, id, &v) != 0;
}

/* The bytes of a binary field. */
static const uint8_t *field_bin(rd s, int16_t id, size_t *len)
{
    rd v;
    CHECK_INT(rd_field(s, id, &v), 8);
    *len = (size_t)rd_varint(&v);
    return v.p;
}

/* Element i of a list-of-structs field, positioned at its first field. */
static rd list_elem(rd s, int16_t id, size_t i, size_t *count)
{
    rd v;
    CHECK_INT(rd_field(s, id, &v), 9);
    int elem;
    size_t n = rd_list_header(&v, &elem);
    if (count) *count = n;
    CHECK(i < n);
    for (size_t k = 0; k < i; k++) rd_skip(&v, elem);
    return v;
}

static rd field_struct(rd s, int16_t id)
{
    rd v;
    CHECK_INT(rd_field(s, id, &v), 12);
    return v;
}

/* Checks magic and footer length; returns a reader at FileMetaData. */
static rd footer(const o2p_buf *file)
{
    CHECK(file->len >= 12);
    CHECK_MEM(file->data, 4, "PAR1", 4);
    CHECK_MEM(file->data + file->len - 4, 4, "PAR1", 4);
    uint32_t len;
    memcpy(&len, file->data + file->len - 8, 4);
    CHECK(len > 0 && len <= file->len - 12);
    rd r = {file->data + file->len - 8 - len, file->data + file->len - 8};
    return r;
}

static rd column_meta(rd fmd, size_t row_group, size_t column)
{
    rd rg = list_elem(fmd, 4, row_group, NULL);
    rd cc = list_elem(rg, 1, column, NULL);
    return field_struct(cc, 3);
}

/* ---- helpers ----------------------------------------------------------- */

static pq_schema *flat_schema(pq_physical physical, pq_logical logical, pq_repetition rep)
{
    pq_schema *s;
    o2p_error err;
    CHECK_OK(pq_schema_create(&s, "schema", &err));
    CHECK(pq_schema_add_leaf(s, PQ_SCHEMA_ROOT, "v", rep, physical, logical, 0) > 0);
    CHECK_OK(pq_schema_finish(s, &err));
    return s;
}

static int write_file(const pq_schema *s, const pq_colset *rows, const pq_writer_options *opts,
                      o2p_buf *out, o2p_error *err)
{
    pq_writer *w;
    int rc = pq_writer_open(&w, s, opts, pq_sink_buf(out), err);
    if (rc < 0) return rc;
    rc = pq_writer_write(w, rows, err);
    if (rc == 0) rc = pq_writer_close(w, err);
    pq_writer_destroy(w);
    return rc;
}

/* ---- schema ------------------------------------------------------------ */

TEST(pq_schema_levels_of_nested_list_struct_map)
{
    o2p_error err;
    pq_schema *s;
    CHECK_OK(pq_schema_create(&s, "schema", &err));
    CHECK(pq_schema_add_leaf(s, 0, "Timestamp", PQ_REQUIRED, PQ_INT64, PQ_LOGICAL_TIMESTAMP_MICROS,
                             0) > 0);
    int ev = pq_schema_add_list_group(s, 0, "Events", PQ_REQUIRED, PQ_REQUIRED);
    CHECK(ev > 0);
    CHECK(pq_schema_add_leaf(s, ev, "Name", PQ_REQUIRED, PQ_BYTE_ARRAY, PQ_LOGICAL_STRING, 0) > 0);
    CHECK(pq_schema_add_map(s, ev, "Attributes", PQ_REQUIRED, PQ_BYTE_ARRAY, PQ_LOGICAL_STRING,
                            PQ_BYTE_ARRAY, PQ_LOGICAL_STRING, PQ_OPTIONAL) > 0);
    CHECK(pq_schema_add_list_leaf(s, 0, "Counts", PQ_OPTIONAL, PQ_OPTIONAL, PQ_INT64,
                                  PQ_LOGICAL_NONE) > 0);
    CHECK_OK(pq_schema_finish(s, &err));
    CHECK_INT(pq_schema_num_leaves(s), 5);
    /* Each non-required ancestor (itself included) adds a definition level,
     * each repeated one a repetition level. */
    static const struct {
        const char *path;
        int def, rep;
    } want[] = {
        {"Timestamp", 0, 0},
        {"Events.list.element.Name", 1, 1},
        {"Events.list.element.Attributes.key_value.key", 2, 2},
        {"Events.list.element.Attributes.key_value.value", 3, 2},
        {"Counts.list.element", 3, 1},
    };
    for (size_t i = 0; i < 5; i++) {
        const pq_leaf *l = pq_schema_leaf(s, i);
        CHECK_STR(l->path, want[i].path);
        CHECK_INT(l->max_def, want[i].def);
        CHECK_INT(l->max_rep, want[i].rep);
        CHECK_INT(pq_schema_find_leaf(s, want[i].path), (int)i);
    }
    CHECK_INT(pq_schema_find_leaf(s, "Events"), -1);
    CHECK(pq_schema_leaf(s, 5) == NULL);
    CHECK_INT(pq_schema_add_leaf(s, 0, "late", PQ_REQUIRED, PQ_INT32, PQ_LOGICAL_NONE, 0),
              O2P_ESTATE);
    pq_schema_destroy(s);
}

TEST(pq_schema_validation_errors)
{
    o2p_error err;
    pq_schema *s;
    CHECK_OK(pq_schema_create(&s, "schema", &err));
    CHECK_INT(pq_schema_add_leaf(s, 0, "n", PQ_REQUIRED, PQ_INT32, PQ_LOGICAL_STRING, 0),
              O2P_EINVAL);
    CHECK_INT(pq_schema_finish(s, &err), O2P_EINVAL);
    CHECK(strstr(err.msg, "'n'") != NULL);
    pq_schema_destroy(s);

    CHECK_OK(pq_schema_create(&s, "schema", &err));
    CHECK(pq_schema_add_group(s, 0, "empty", PQ_OPTIONAL, PQ_LOGICAL_NONE) > 0);
    CHECK_INT(pq_schema_finish(s, &err), O2P_EINVAL);
    CHECK(strstr(err.msg, "empty") != NULL);
    pq_schema_destroy(s);

    CHECK_OK(pq_schema_create(&s, "schema", &err));
    CHECK(pq_schema_add_leaf(s, 0, "a", PQ_REQUIRED, PQ_INT32, PQ_LOGICAL_NONE, 0) > 0);
    CHECK(pq_schema_add_leaf(s, 0, "a", PQ_REQUIRED, PQ_INT64, PQ_LOGICAL_NONE, 0) > 0);
    CHECK_INT(pq_schema_finish(s, &err), O2P_EINVAL);
    CHECK(strstr(err.msg, "two fields named 'a'") != NULL);
    pq_schema_destroy(s);

    CHECK_OK(pq_schema_create(&s, "schema", &err));
    CHECK_INT(pq_schema_add_leaf(s, 0, "a.b", PQ_REQUIRED, PQ_INT32, PQ_LOGICAL_NONE, 0),
              O2P_EINVAL);
    int leaf = pq_schema_add_leaf(s, 0, "x", PQ_REQUIRED, PQ_INT32, PQ_LOGICAL_NONE, 0);
    CHECK_INT(pq_schema_add_leaf(s, leaf, "y", PQ_REQUIRED, PQ_INT32, PQ_LOGICAL_NONE, 0),
              O2P_EINVAL);
    CHECK_INT(
        pq_schema_add_leaf(s, 0, "f", PQ_REQUIRED, PQ_FIXED_LEN_BYTE_ARRAY, PQ_LOGICAL_NONE, 0),
        O2P_EINVAL);
    CHECK_INT(pq_schema_add_group(s, 0, "g", PQ_REQUIRED, PQ_LOGICAL_STRING), O2P_EINVAL);
    CHECK_INT(pq_schema_finish(s, &err), O2P_EINVAL);
    CHECK(strstr(err.msg, "a.b") != NULL); /* the first failure is reported */
    pq_schema_destroy(s);

    /* A LIST group must wrap exactly one repeated field. */
    CHECK_OK(pq_schema_create(&s, "schema", &err));
    int l = pq_schema_add_group(s, 0, "l", PQ_REQUIRED, PQ_LOGICAL_LIST);
    CHECK(pq_schema_add_leaf(s, l, "element", PQ_REQUIRED, PQ_INT32, PQ_LOGICAL_NONE, 0) > 0);
    CHECK_INT(pq_schema_finish(s, &err), O2P_EINVAL);
    CHECK(strstr(err.msg, "LIST 'l'") != NULL);
    pq_schema_destroy(s);

    /* The writer refuses an unfinished schema. */
    CHECK_OK(pq_schema_create(&s, "schema", &err));
    CHECK(pq_schema_add_leaf(s, 0, "a", PQ_REQUIRED, PQ_INT32, PQ_LOGICAL_NONE, 0) > 0);
    o2p_buf out;
    buf_init(&out, 0);
    pq_writer *w;
    CHECK_INT(pq_writer_open(&w, s, NULL, pq_sink_buf(&out), &err), O2P_ESTATE);
    pq_schema_destroy(s);
    buf_free(&out);
}

/* ---- columns ----------------------------------------------------------- */

TEST(pq_colset_check_names_bad_column)
{
    o2p_error err;
    pq_schema *s;
    CHECK_OK(pq_schema_create(&s, "schema", &err));
    CHECK(pq_schema_add_leaf(s, 0, "a", PQ_REQUIRED, PQ_INT32, PQ_LOGICAL_NONE, 0) > 0);
    CHECK(pq_schema_add_list_leaf(s, 0, "l", PQ_OPTIONAL, PQ_REQUIRED, PQ_INT32, PQ_LOGICAL_NONE) >
          0);
    CHECK_OK(pq_schema_finish(s, &err));
    pq_colset cs;
    CHECK_OK(pq_colset_init(&cs, s));
    pq_col_put_i32(&cs.cols[0], 1, 0, 0);
    pq_col_put_i32(&cs.cols[1], 1, 2, 0);
    pq_col_put_i32(&cs.cols[1], 2, 2, 1);
    cs.num_rows = 1;
    CHECK_OK(pq_colset_check(&cs, &err));
    cs.num_rows = 2;
    CHECK_INT(pq_colset_check(&cs, &err), O2P_EINVAL);
    CHECK_STR(err.msg, "column a has 1 rows, expected 2");
    pq_col_put_i32(&cs.cols[0], 2, 0, 0);
    pq_col_put_null(&cs.cols[1], 3, 0); /* def 3 > max 2 */
    CHECK_INT(pq_colset_check(&cs, &err), O2P_EINVAL);
    CHECK(strstr(err.msg, "column l.list.element: entry 2 has definition level 3") != NULL);
    pq_colset_reset(&cs);
    pq_col_put_i32(&cs.cols[0], 2, 0, 0);
    pq_col_put_null(&cs.cols[1], 0, 1); /* a row cannot start with rep 1 */
    cs.num_rows = 1;
    CHECK_INT(pq_colset_check(&cs, &err), O2P_EINVAL);
    CHECK(strstr(err.msg, "repetition level 1, expected 0") != NULL);

    /* pq_colset_append concatenates; levels survive. */
    pq_colset a, b;
    CHECK_OK(pq_colset_init(&a, s));
    CHECK_OK(pq_colset_init(&b, s));
    pq_col_put_i32(&b.cols[0], 7, 0, 0);
    pq_col_put_null(&b.cols[1], 1, 0);
    b.num_rows = 1;
    CHECK_OK(pq_colset_append(&a, &b));
    CHECK_OK(pq_colset_append(&a, &b));
    CHECK_INT(a.num_rows, 2);
    CHECK_INT(a.cols[1].num_entries, 2);
    CHECK_INT(a.cols[1].num_values, 0);
    CHECK_OK(pq_colset_check(&a, &err));
    CHECK(pq_colset_mem(&a) > 0);
    pq_colset_free(&a);
    pq_colset_free(&b);
    pq_colset_free(&cs);
    pq_schema_destroy(s);
}

TEST(pq_writer_sticky_append_failure)
{
    pq_schema *s = flat_schema(PQ_BYTE_ARRAY, PQ_LOGICAL_STRING, PQ_REQUIRED);
    pq_colset cs;
    CHECK_OK(pq_colset_init(&cs, s));
    mem_fail_after(0);
    /* longer than the buffer a new column starts with, so it must grow */
    static const char big[] = "hello, this value is longer than the 64 bytes a new column buffer "
                              "starts with, so appending it must grow the buffer";
    pq_col_put_bytes(&cs.cols[0], big, sizeof big - 1, 0, 0);
    mem_fail_after(-1);
    pq_col_put_bytes(&cs.cols[0], "world", 5, 0, 0); /* ignored after the failure */
    cs.num_rows = 2;
    CHECK_INT(cs.cols[0].failed, O2P_ENOMEM);
    CHECK_INT(cs.cols[0].num_values, 0);
    o2p_buf out;
    buf_init(&out, 0);
    o2p_error err;
    pq_writer *w;
    CHECK_OK(pq_writer_open(&w, s, NULL, pq_sink_buf(&out), &err));
    CHECK_INT(pq_writer_write(w, &cs, &err), O2P_ENOMEM);
    CHECK_STR(err.msg, "column v: out of memory while appending");
    /* Bad input leaves the writer usable. */
    pq_colset_reset(&cs);
    CHECK_OK(pq_writer_write(w, &cs, &err));
    CHECK_OK(pq_writer_close(w, &err));
    pq_writer_destroy(w);
    pq_colset_free(&cs);
    buf_free(&out);
    pq_schema_destroy(s);
}

/* ---- writer ------------------------------------------------------------ */

TEST(pq_writer_small_file_footer)
{
    o2p_error err;
    pq_schema *s;
    CHECK_OK(pq_schema_create(&s, "schema", &err));
    CHECK(pq_schema_add_leaf(s, 0, "ts", PQ_REQUIRED, PQ_INT64, PQ_LOGICAL_TIMESTAMP_NANOS, 0) > 0);
    CHECK(pq_schema_add_leaf(s, 0, "name", PQ_OPTIONAL, PQ_BYTE_ARRAY, PQ_LOGICAL_STRING, 0) > 0);
    CHECK_OK(pq_schema_finish(s, &err));
    pq_colset cs;
    CHECK_OK(pq_colset_init(&cs, s));
    for (int i = 0; i < 3; i++) {
        pq_col_put_i64(&cs.cols[0], 1000 + i, 0, 0);
        if (i == 1)
            pq_col_put_null(&cs.cols[1], 0, 0);
        else
            pq_col_put_bytes(&cs.cols[1], "x", 1, 1, 0);
    }
    cs.num_rows = 3;
    pq_writer_options o;
    pq_writer_options_default(&o);
    o.min_compression_saving = 0; /* three values do not shrink: keep zstd anyway */
    pq_kv kv[] = {{"otlp2parquet.table", "otel_logs"}};
    o.metadata = kv;
    o.num_metadata = 1;
    o2p_buf out;
    buf_init(&out, 0);
    CHECK_OK(write_file(s, &cs, &o, &out, &err));
    rd f = footer(&out);
    CHECK_INT(field_int(f, 1), 1); /* version */
    CHECK_INT(field_int(f, 3), 3); /* num_rows */
    size_t n;
    rd el = list_elem(f, 2, 1, &n); /* schema: root + 2 leaves */
    CHECK_INT(n, 3);
    size_t len;
    const uint8_t *name = field_bin(el, 4, &len);
    CHECK_MEM(name, len, "ts", 2);
    CHECK_INT(field_int(el, 1), 2);                /* INT64 */
    CHECK_INT(field_int(el, 3), 0);                /* REQUIRED */
    CHECK(!has_field(el, 6));                      /* NANOS has no converted type */
    rd lt = field_struct(field_struct(el, 10), 8); /* LogicalType.TIMESTAMP */
    rd unit;
    CHECK_INT(rd_field(lt, 1, &unit), 1);     /* isAdjustedToUTC = true */
    CHECK(has_field(field_struct(lt, 2), 3)); /* unit NANOS */
    rd root = list_elem(f, 2, 0, NULL);
    CHECK_INT(field_int(root, 5), 2);
    CHECK(!has_field(root, 3));
    rd kv0 = list_elem(f, 5, 0, NULL);
    const uint8_t *key = field_bin(kv0, 1, &len);
    CHECK_MEM(key, len, "otlp2parquet.table", 18);
    const uint8_t *cb = field_bin(f, 6, &len);
    CHECK_MEM(cb, len, O2P_CREATED_BY, strlen(O2P_CREATED_BY));
    size_t orders;
    list_elem(f, 7, 0, &orders);
    CHECK_INT(orders, 2);
    rd m = column_meta(f, 0, 1);
    CHECK_INT(field_int(m, 5), 3); /* num_values counts the null too */
    rd path;
    CHECK_INT(rd_field(m, 3, &path), 9); /* path_in_schema: ["name"] */
    int elem;
    CHECK_INT(rd_list_header(&path, &elem), 1);
    CHECK_INT(elem, 8);
    len = (size_t)rd_varint(&path);
    CHECK_MEM(path.p, len, "name", 4);
    rd rg = list_elem(f, 4, 0, NULL);
    CHECK_INT(field_int(rg, 3), 3);
    CHECK_INT(field_int(rg, 5), 4); /* first column chunk right after the magic */
    CHECK_INT(field_int(m, 4), PQ_CODEC_ZSTD);
    pq_colset_free(&cs);
    buf_free(&out);
    pq_schema_destroy(s);
}

enum { PAGES_ANY = -1, PAGES_ZSTD = 0, PAGES_RAW = 1 };

typedef struct chunk_pages {
    size_t all, data;
    int data_encoding; /* the first data page's (-1: none) */
} chunk_pages;

/* Walks the pages of column chunk m of file through their page headers (the
 * footer has no encoding_stats): checks that they fill the chunk exactly
 * and, per `check`, that each is stored as it is (PAGES_RAW: compressed size
 * = uncompressed size) or is a zstd frame (PAGES_ZSTD); counts them. */
static chunk_pages walk_chunk(const o2p_buf *file, rd m, int check)
{
    int64_t start = has_field(m, 11) ? field_int(m, 11) : field_int(m, 9);
    int64_t total = field_int(m, 7);
    CHECK(start >= 4 && start + total <= (int64_t)file->len);
    rd r = {file->data + start, file->data + start + total};
    chunk_pages n = {0, 0, -1};
    while (r.p < r.end) {
        rd h = r;
        int64_t unc = field_int(h, 2), comp = field_int(h, 3);
        rd_skip_struct(&r);
        CHECK(comp > 0 && r.p + comp <= r.end);
        if (check == PAGES_RAW)
            CHECK_INT(comp, unc);
        else if (check == PAGES_ZSTD)
            CHECK_BYTES(r.p, 4, 0x28, 0xB5, 0x2F, 0xFD);
        if (field_int(h, 1) == 0 && n.data++ == 0)
            n.data_encoding = (int)field_int(field_struct(h, 5), 2);
        r.p += comp;
        n.all++;
    }
    CHECK(r.p == r.end);
    return n;
}

TEST(pq_writer_row_groups_and_pages)
{
    pq_schema *s = flat_schema(PQ_INT64, PQ_LOGICAL_NONE, PQ_REQUIRED);
    pq_colset cs;
    CHECK_OK(pq_colset_init(&cs, s));
    for (int i = 0; i < 25; i++) pq_col_put_i64(&cs.cols[0], i * 1000003LL, 0, 0);
    cs.num_rows = 25;
    pq_writer_options o;
    pq_writer_options_default(&o);
    o.row_group_rows = 10;
    o.page_size = 16; /* two 8-byte values per page */
    o.codec = PQ_CODEC_UNCOMPRESSED;
    o2p_buf out;
    buf_init(&out, 0);
    o2p_error err;
    CHECK_OK(write_file(s, &cs, &o, &out, &err));
    rd f = footer(&out);
    CHECK_INT(field_int(f, 3), 25);
    size_t groups;
    list_elem(f, 4, 0, &groups);
    CHECK_INT(groups, 3);
    const int rows[3] = {10, 10, 5}, pages[3] = {5, 5, 3};
    for (size_t g = 0; g < 3; g++) {
        rd rg = list_elem(f, 4, g, NULL);
        CHECK_INT(field_int(rg, 3), rows[g]);
        CHECK_INT(field_int(rg, 7), (int)g); /* ordinal */
        rd m = column_meta(f, g, 0);
        CHECK(!has_field(m, 11));                              /* unique values: no dictionary */
        CHECK(!has_field(m, 13));                              /* no encoding_stats */
        CHECK_INT(field_int(list_elem(rg, 1, 0, NULL), 2), 0); /* file_offset 0 (deprecated) */
        chunk_pages n = walk_chunk(&out, m, PAGES_ANY);
        CHECK_INT(n.data, pages[g]);
        CHECK_INT(n.data_encoding, 0); /* PLAIN */
    }
    pq_colset_free(&cs);
    buf_free(&out);
    pq_schema_destroy(s);
}

TEST(pq_writer_pages_start_at_row_boundaries)
{
    o2p_error err;
    pq_schema *s;
    CHECK_OK(pq_schema_create(&s, "schema", &err));
    CHECK(pq_schema_add_list_leaf(s, 0, "l", PQ_REQUIRED, PQ_REQUIRED, PQ_INT32, PQ_LOGICAL_NONE) >
          0);
    CHECK_OK(pq_schema_finish(s, &err));
    pq_colset cs;
    CHECK_OK(pq_colset_init(&cs, s));
    for (int r = 0; r < 4; r++)
        for (int k = 0; k < 3; k++) pq_col_put_i32(&cs.cols[0], r * 3 + k, 1, k ? 1 : 0);
    cs.num_rows = 4;
    pq_writer_options o;
    pq_writer_options_default(&o);
    o.page_size = 1; /* every row closes its page */
    o.codec = PQ_CODEC_UNCOMPRESSED;
    o2p_buf out;
    buf_init(&out, 0);
    CHECK_OK(write_file(s, &cs, &o, &out, &err));
    rd f = footer(&out);
    rd m = column_meta(f, 0, 0);
    CHECK_INT(field_int(m, 5), 12);
    /* Walk the pages: each holds exactly one row's 3 entries. */
    rd page = {out.data + field_int(m, 9), out.data + out.len};
    for (int i = 0; i < 4; i++) {
        rd dph = field_struct(page, 5);
        CHECK_INT(field_int(page, 1), 0); /* DATA_PAGE */
        CHECK_INT(field_int(dph, 1), 3);
        int64_t size = field_int(page, 3);
        rd_skip_struct(&page);
        page.p += size;
    }
    pq_colset_free(&cs);
    buf_free(&out);
    pq_schema_destroy(s);
}

static void fill_strings(pq_colset *cs, int rows, int distinct)
{
    char v[32];
    for (int i = 0; i < rows; i++) {
        int n = snprintf(v, sizeof v, "value-%05d", i % distinct);
        pq_col_put_bytes(&cs->cols[0], v, (size_t)n, 0, 0);
    }
    cs->num_rows = (size_t)rows;
}

TEST(pq_writer_dictionary_and_plain_fallback)
{
    pq_schema *s = flat_schema(PQ_BYTE_ARRAY, PQ_LOGICAL_STRING, PQ_REQUIRED);
    pq_colset cs;
    CHECK_OK(pq_colset_init(&cs, s));
    fill_strings(&cs, 1000, 200);
    pq_writer_options o;
    pq_writer_options_default(&o);
    o.codec = PQ_CODEC_UNCOMPRESSED;
    o2p_error err;
    o2p_buf dict, limited, plain;
    buf_init(&dict, 0);
    buf_init(&limited, 0);
    buf_init(&plain, 0);
    CHECK_OK(write_file(s, &cs, &o, &dict, &err));
    o.dictionary_limit = 64; /* 200 entries of 15 bytes do not fit */
    CHECK_OK(write_file(s, &cs, &o, &limited, &err));
    o.dictionary_limit = 0;
    o.dictionary = 0;
    CHECK_OK(write_file(s, &cs, &o, &plain, &err));
    /* The fallback writes exactly what a PLAIN-only writer writes. */
    CHECK_MEM(limited.data, limited.len, plain.data, plain.len);
    /* so does a leaf named in plain_table_columns (names the schema lacks are skipped) */
    o2p_buf named;
    buf_init(&named, 0);
    o.dictionary = 1;
    o.plain_table_columns = "TraceId, v";
    CHECK_OK(write_file(s, &cs, &o, &named, &err));
    CHECK_MEM(named.data, named.len, plain.data, plain.len);
    buf_free(&named);
    CHECK(dict.len < plain.len / 2);
    rd m = column_meta(footer(&dict), 0, 0);
    CHECK_INT(field_int(m, 11), 4); /* dictionary page first */
    size_t n;
    list_elem(m, 2, 0, &n);
    CHECK_INT(n, 3); /* PLAIN, RLE, RLE_DICTIONARY */
    chunk_pages pages = walk_chunk(&dict, m, PAGES_ANY);
    CHECK_INT(pages.data, 1);
    CHECK_INT(pages.data_encoding, 8); /* RLE_DICTIONARY data page */
    /* The dictionary page header: DICTIONARY_PAGE of 200 PLAIN entries. */
    rd page = {dict.data + 4, dict.data + dict.len};
    CHECK_INT(field_int(page, 1), 2);
    rd dph = field_struct(page, 7);
    CHECK_INT(field_int(dph, 1), 200);
    CHECK_INT(field_int(dph, 2), 0);
    CHECK_INT(field_int(page, 2), 200 * (4 + 11));
    rd pm = column_meta(footer(&plain), 0, 0);
    CHECK(!has_field(pm, 11));
    buf_free(&dict);
    buf_free(&limited);
    buf_free(&plain);
    pq_colset_free(&cs);
    pq_schema_destroy(s);
}

TEST(pq_writer_all_codecs)
{
    pq_schema *s = flat_schema(PQ_BYTE_ARRAY, PQ_LOGICAL_STRING, PQ_REQUIRED);
    pq_colset cs;
    CHECK_OK(pq_colset_init(&cs, s));
    fill_strings(&cs, 5000, 5000);
    const pq_codec codecs[] = {PQ_CODEC_UNCOMPRESSED, PQ_CODEC_SNAPPY, PQ_CODEC_GZIP, PQ_CODEC_ZSTD,
                               PQ_CODEC_LZ4_RAW};
    for (size_t i = 0; i < 5; i++) {
        pq_writer_options o;
        pq_writer_options_default(&o);
        o.codec = codecs[i];
        o2p_buf out;
        buf_init(&out, 0);
        o2p_error err;
        CHECK_OK(write_file(s, &cs, &o, &out, &err));
        rd m = column_meta(footer(&out), 0, 0);
        CHECK_INT(field_int(m, 4), codecs[i]);
        rd page = {out.data + 4, out.data + out.len};
        int64_t unc = field_int(page, 2), comp = field_int(page, 3);
        rd_skip_struct(&page);
        const uint8_t *body = page.p;
        switch (codecs[i]) {
        case PQ_CODEC_UNCOMPRESSED:
            CHECK_INT(comp, unc);
            break;
        case PQ_CODEC_SNAPPY: {
            rd b = {body, body + comp}; /* raw snappy starts with the length */
            CHECK_INT(rd_varint(&b), unc);
            break;
        }
        case PQ_CODEC_GZIP:
            CHECK_BYTES(body, 2, 0x1F, 0x8B);
            break;
        case PQ_CODEC_ZSTD:
            CHECK_BYTES(body, 4, 0x28, 0xB5, 0x2F, 0xFD);
            break;
        case PQ_CODEC_LZ4_RAW:
            CHECK(comp < unc / 2);
            break;
        }
        if (codecs[i] != PQ_CODEC_UNCOMPRESSED) CHECK(comp < unc);
        buf_free(&out);
    }
    pq_codec c;
    CHECK_OK(pq_codec_parse("LZ4", &c));
    CHECK_INT(c, PQ_CODEC_LZ4_RAW);
    CHECK_OK(pq_codec_parse("none", &c));
    CHECK_INT(c, PQ_CODEC_UNCOMPRESSED);
    CHECK_INT(pq_codec_parse("brotli", &c), O2P_EUNSUPPORTED);
    CHECK_STR(pq_codec_name(PQ_CODEC_GZIP), "gzip");
    pq_writer_options o;
    pq_writer_options_default(&o);
    o.compression_level = 99;
    o2p_buf out;
    buf_init(&out, 0);
    o2p_error err;
    pq_writer *w;
    CHECK_INT(pq_writer_open(&w, s, &o, pq_sink_buf(&out), &err), O2P_EINVAL);
    CHECK(strstr(err.msg, "zstd compression level 99") != NULL);
    buf_free(&out);
    pq_colset_free(&cs);
    pq_schema_destroy(s);
}

/* Page `index` (0 = the first) of a one-column zstd file: its compressed
 * body (comp_len bytes) and, in plain, its decompressed bytes. */
static const uint8_t *page_at(const o2p_buf *file, int index, o2p_buf *plain, size_t *comp_len)
{
    rd page = {file->data + 4, file->data + file->len};
    for (int i = 0; i < index; i++) {
        int64_t skip = field_int(page, 3);
        rd_skip_struct(&page);
        page.p += skip;
    }
    int64_t unc = field_int(page, 2), comp = field_int(page, 3);
    rd_skip_struct(&page);
    buf_reset(plain);
    CHECK(buf_reserve(plain, (size_t)unc) == 0);
    size_t n = ZSTD_decompress(plain->data, (size_t)unc, page.p, (size_t)comp);
    CHECK_INT(n, unc);
    plain->len = n;
    *comp_len = (size_t)comp;
    return page.p;
}

/* compresses src as `kind` at the default level: is it `body`? */
static int compresses_to(const o2p_buf *src, pq_content kind, const uint8_t *body, size_t len)
{
    pq_compressor c;
    o2p_error err;
    CHECK_OK(pq_compressor_init(&c, PQ_CODEC_ZSTD, 0, &err));
    o2p_buf dst;
    buf_init(&dst, 0);
    CHECK_OK(pq_compress_as(&c, kind, src->data, src->len, &dst, &err));
    int same = dst.len == len && memcmp(dst.data, body, len) == 0;
    buf_free(&dst);
    pq_compressor_free(&c);
    return same;
}

TEST(pq_writer_compresses_ids_dictionaries_entries_and_timestamps_by_content)
{
    pq_schema *s = flat_schema(PQ_BYTE_ARRAY, PQ_LOGICAL_STRING, PQ_REQUIRED);
    pq_colset cs;
    CHECK_OK(pq_colset_init(&cs, s));
    uint64_t x = 0x9e3779b97f4a7c15ull;
    for (int i = 0; i < 5000; i++) {
        char id[32];
        for (int k = 0; k < 32; k++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            id[k] = "0123456789abcdef"[x & 15];
        }
        pq_col_put_bytes(&cs.cols[0], id, i % 5 == 4 ? 0 : 32, 0, 0); /* a fifth empty */
    }
    cs.num_rows = 5000;
    pq_writer_options o;
    pq_writer_options_default(&o);
    o2p_buf out, plain;
    buf_init(&out, 0);
    buf_init(&plain, 0);
    o2p_error err;
    CHECK_OK(write_file(s, &cs, &o, &out, &err));
    size_t comp;
    const uint8_t *body = page_at(&out, 0, &plain, &comp);
    CHECK(compresses_to(&plain, PQ_CONTENT_HEX_IDS, body, comp));
    CHECK(!compresses_to(&plain, PQ_CONTENT_ANY, body, comp));
    /* the same column of words is compressed with the level's parameters */
    pq_colset_reset(&cs);
    fill_strings(&cs, 5000, 5000);
    buf_reset(&out);
    CHECK_OK(write_file(s, &cs, &o, &out, &err));
    body = page_at(&out, 0, &plain, &comp);
    CHECK(compresses_to(&plain, PQ_CONTENT_ANY, body, comp));
    /* a dictionary page of words: distinct values */
    pq_colset_reset(&cs);
    for (unsigned i = 0; i < 20000; i++) {
        char v[32];
        int n = snprintf(v, sizeof v, "user-%x", (i % 2000) * 2654435761u);
        pq_col_put_bytes(&cs.cols[0], v, (size_t)n, 0, 0);
    }
    cs.num_rows = 20000;
    buf_reset(&out);
    CHECK_OK(write_file(s, &cs, &o, &out, &err));
    CHECK(has_field(column_meta(footer(&out), 0, 0), 11)); /* dictionary_page_offset */
    body = page_at(&out, 0, &plain, &comp);
    CHECK(compresses_to(&plain, PQ_CONTENT_DISTINCT, body, comp));
    CHECK(!compresses_to(&plain, PQ_CONTENT_ANY, body, comp));
    /* a data page of entry numbers, mostly drawn at random from 3,000 words */
    pq_colset_reset(&cs);
    for (unsigned i = 0; i < 20000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        char v[32];
        unsigned k = x % 4 == 0 ? i % 8 : (unsigned)(x >> 8) % 3000; /* some repeats */
        int n = snprintf(v, sizeof v, "user-%x", k * 2654435761u);
        pq_col_put_bytes(&cs.cols[0], v, (size_t)n, 0, 0);
    }
    cs.num_rows = 20000;
    buf_reset(&out);
    CHECK_OK(write_file(s, &cs, &o, &out, &err));
    body = page_at(&out, 1, &plain, &comp);
    CHECK(compresses_to(&plain, PQ_CONTENT_ENTRY_NUMBERS, body, comp));
    /* a page of timestamps */
    pq_schema *ts = flat_schema(PQ_INT64, PQ_LOGICAL_TIMESTAMP_NANOS, PQ_REQUIRED);
    pq_colset tcs;
    CHECK_OK(pq_colset_init(&tcs, ts));
    int64_t t = 1767225600000000000ll;
    for (int i = 0; i < 20000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        t += 1000000 + (int64_t)(x % 50000000);
        pq_col_put_i64(&tcs.cols[0], t, 0, 0);
    }
    tcs.num_rows = 20000;
    buf_reset(&out);
    CHECK_OK(write_file(ts, &tcs, &o, &out, &err));
    CHECK(!has_field(column_meta(footer(&out), 0, 0), 11)); /* PLAIN: no dictionary page */
    body = page_at(&out, 0, &plain, &comp);
    CHECK(compresses_to(&plain, PQ_CONTENT_TIMESTAMPS, body, comp));
    CHECK(!compresses_to(&plain, PQ_CONTENT_ANY, body, comp));
    pq_colset_free(&tcs);
    pq_schema_destroy(ts);
    buf_free(&plain);
    buf_free(&out);
    pq_colset_free(&cs);
    pq_schema_destroy(s);
}

static rd chunk_stats(const o2p_buf *file)
{
    return field_struct(column_meta(footer(file), 0, 0), 12);
}

static void check_bin(rd s, int16_t id, const void *want, size_t want_len)
{
    size_t len;
    const uint8_t *p = field_bin(s, id, &len);
    CHECK_MEM(p, len, want, want_len);
}

TEST(pq_writer_statistics_sort_orders)
{
    o2p_error err;
    o2p_buf out;
    buf_init(&out, 0);
    pq_colset cs;
    pq_writer_options o;
    pq_writer_options_default(&o);

    /* Signed INT32 with a null. */
    pq_schema *s = flat_schema(PQ_INT32, PQ_LOGICAL_NONE, PQ_OPTIONAL);
    CHECK_OK(pq_colset_init(&cs, s));
    pq_col_put_i32(&cs.cols[0], 3, 1, 0);
    pq_col_put_null(&cs.cols[0], 0, 0);
    pq_col_put_i32(&cs.cols[0], -5, 1, 0);
    cs.num_rows = 3;
    CHECK_OK(write_file(s, &cs, &o, &out, &err));
    rd st = chunk_stats(&out);
    const int32_t lo = -5, hi = 3;
    check_bin(st, 6, &lo, 4);
    check_bin(st, 5, &hi, 4);
    CHECK_INT(field_int(st, 3), 1);
    pq_colset_free(&cs);
    pq_schema_destroy(s);

    /* UINT32 compares unsigned: 0xFFFFFFFF is the maximum. */
    buf_reset(&out);
    s = flat_schema(PQ_INT32, PQ_LOGICAL_UINT32, PQ_REQUIRED);
    CHECK_OK(pq_colset_init(&cs, s));
    pq_col_put_i32(&cs.cols[0], -1, 0, 0);
    pq_col_put_i32(&cs.cols[0], 7, 0, 0);
    cs.num_rows = 2;
    CHECK_OK(write_file(s, &cs, &o, &out, &err));
    st = chunk_stats(&out);
    const uint32_t ulo = 7, uhi = 0xFFFFFFFFu;
    check_bin(st, 6, &ulo, 4);
    check_bin(st, 5, &uhi, 4);
    CHECK(!has_field(st, 1)); /* no signed-order legacy max */
    pq_colset_free(&cs);
    pq_schema_destroy(s);

    /* Doubles ignore NaN; a zero minimum is written as -0.0. */
    buf_reset(&out);
    s = flat_schema(PQ_DOUBLE, PQ_LOGICAL_NONE, PQ_REQUIRED);
    CHECK_OK(pq_colset_init(&cs, s));
    pq_col_put_f64(&cs.cols[0], NAN, 0, 0);
    pq_col_put_f64(&cs.cols[0], 2.5, 0, 0);
    pq_col_put_f64(&cs.cols[0], 0.0, 0, 0);
    cs.num_rows = 3;
    CHECK_OK(write_file(s, &cs, &o, &out, &err));
    st = chunk_stats(&out);
    const double dlo = -0.0, dhi = 2.5;
    check_bin(st, 6, &dlo, 8);
    check_bin(st, 5, &dhi, 8);
    CHECK_INT(field_int(st, 9), 1); /* nan_count */
    pq_colset_reset(&cs);
    pq_col_put_f64(&cs.cols[0], NAN, 0, 0);
    cs.num_rows = 1;
    buf_reset(&out);
    CHECK_OK(write_file(s, &cs, &o, &out, &err));
    st = chunk_stats(&out);
    CHECK(!has_field(st, 5));
    CHECK(!has_field(st, 6));
    CHECK_INT(field_int(st, 3), 0);
    pq_colset_free(&cs);
    pq_schema_destroy(s);

    /* Strings compare as unsigned bytes; long bounds are truncated. */
    buf_reset(&out);
    s = flat_schema(PQ_BYTE_ARRAY, PQ_LOGICAL_STRING, PQ_REQUIRED);
    CHECK_OK(pq_colset_init(&cs, s));
    pq_col_put_bytes(&cs.cols[0], "b", 1, 0, 0);
    pq_col_put_bytes(&cs.cols[0], "\xff", 1, 0, 0);
    pq_col_put_bytes(&cs.cols[0], "a", 1, 0, 0);
    cs.num_rows = 3;
    CHECK_OK(write_file(s, &cs, &o, &out, &err));
    st = chunk_stats(&out);
    check_bin(st, 6, "a", 1);
    check_bin(st, 5, "\xff", 1);
    CHECK(!has_field(st, 1));
    pq_colset_reset(&cs);
    char longv[100];
    memset(longv, 'a', sizeof longv);
    pq_col_put_bytes(&cs.cols[0], longv, sizeof longv, 0, 0);
    cs.num_rows = 1;
    buf_reset(&out);
    CHECK_OK(write_file(s, &cs, &o, &out, &err));
    st = chunk_stats(&out);
    char want_max[64];
    memset(want_max, 'a', sizeof want_max);
    want_max[63] = 'b';
    check_bin(st, 6, longv, 64);
    check_bin(st, 5, want_max, 64);
    rd flag;
    CHECK_INT(rd_field(st, 7, &flag), 2); /* is_max_value_exact = false */
    CHECK_INT(rd_field(st, 8, &flag), 2); /* is_min_value_exact = false */
    pq_colset_free(&cs);
    pq_schema_destroy(s);
    buf_free(&out);
}

TEST(pq_writer_sink_failure_is_sticky)
{
    pq_schema *s = flat_schema(PQ_INT64, PQ_LOGICAL_NONE, PQ_REQUIRED);
    pq_colset cs;
    CHECK_OK(pq_colset_init(&cs, s));
    for (int i = 0; i < 1000; i++) pq_col_put_i64(&cs.cols[0], i * 7919LL, 0, 0);
    cs.num_rows = 1000;
    o2p_buf out;
    buf_init(&out, 100);
    o2p_error err;
    pq_writer *w;
    CHECK_OK(pq_writer_open(&w, s, NULL, pq_sink_buf(&out), &err));
    CHECK_INT(pq_writer_write(w, &cs, &err), O2P_ELIMIT);
    CHECK(strstr(err.msg, "buffer limit of 100 bytes") != NULL);
    CHECK_INT(pq_writer_write(w, &cs, &err), O2P_ESTATE);
    CHECK_INT(pq_writer_close(w, &err), O2P_ESTATE);
    CHECK_INT(pq_writer_bytes_written(w), 4);
    pq_writer_destroy(w);
    buf_free(&out);
    pq_colset_free(&cs);
    pq_schema_destroy(s);
}

TEST(pq_writer_empty_file_and_fd_sink)
{
    pq_schema *s = flat_schema(PQ_BOOLEAN, PQ_LOGICAL_NONE, PQ_REQUIRED);
    char path[512];
    snprintf(path, sizeof path, "%s/t.parquet", unit_tmpdir());
    FILE *fp = fopen(path, "w+b");
    CHECK(fp != NULL);
    int fd = fileno(fp);
    o2p_error err;
    pq_writer *w;
    CHECK_OK(pq_writer_open(&w, s, NULL, pq_sink_fd(&fd), &err));
    CHECK_OK(pq_writer_close(w, &err));
    CHECK_INT(pq_writer_rows_written(w), 0);
    uint64_t size = pq_writer_bytes_written(w);
    pq_writer_destroy(w);
    o2p_buf file;
    buf_init(&file, 0);
    rewind(fp);
    uint8_t chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, fp)) > 0) CHECK_OK(buf_append(&file, chunk, n));
    fclose(fp);
    CHECK_INT(file.len, size);
    rd f = footer(&file);
    CHECK_INT(field_int(f, 3), 0);
    size_t groups;
    rd v;
    CHECK_INT(rd_field(f, 4, &v), 9);
    int elem;
    groups = rd_list_header(&v, &elem);
    CHECK_INT(groups, 0);
    buf_free(&file);
    pq_schema_destroy(s);
}

/* A workspace carries scratch between files without changing their bytes,
 * and refuses a second writer while one uses it. */
TEST(pq_writer_workspace_reuse_gives_identical_files)
{
    pq_schema *s = flat_schema(PQ_BYTE_ARRAY, PQ_LOGICAL_STRING, PQ_REQUIRED);
    pq_colset cs;
    CHECK_OK(pq_colset_init(&cs, s));
    for (int i = 0; i < 1000; i++) {
        char v[32];
        int n = snprintf(v, sizeof v, "value-%d", i % 37);
        pq_col_put_bytes(&cs.cols[0], v, (size_t)n, 0, 0);
    }
    cs.num_rows = 1000;
    o2p_error err;
    pq_workspace *ws;
    CHECK_OK(pq_workspace_create(&ws, &err));
    o2p_buf plain, reused;
    buf_init(&plain, 0);
    buf_init(&reused, 0);
    for (int round = 0; round < 3; round++) {
        pq_writer_options o;
        pq_writer_options_default(&o);
        o.created_by = "test";
        o2p_buf *out = round == 0 ? &plain : &reused;
        buf_reset(out);
        if (round > 0) o.workspace = ws;
        pq_writer *w;
        CHECK_OK(pq_writer_open(&w, s, &o, pq_sink_buf(out), &err));
        if (round > 0) {
            pq_writer *second;
            CHECK_INT(pq_writer_open(&second, s, &o, pq_sink_buf(out), &err), O2P_ESTATE);
        }
        CHECK_OK(pq_writer_write(w, &cs, &err));
        CHECK_OK(pq_writer_close(w, &err));
        pq_writer_destroy(w);
        if (round > 0) CHECK_MEM(reused.data, reused.len, plain.data, plain.len);
    }
    buf_free(&plain);
    buf_free(&reused);
    pq_workspace_destroy(ws);
    pq_colset_free(&cs);
    pq_schema_destroy(s);
}

TEST(pq_writer_sorts_rows_and_declares_sorting_columns)
{
    pq_schema *s = flat_schema(PQ_INT64, PQ_LOGICAL_NONE, PQ_REQUIRED);
    pq_colset cs;
    CHECK_OK(pq_colset_init(&cs, s));
    /* 20 unique values in a scrambled order: 7 * i mod 20 */
    for (int i = 0; i < 20; i++) pq_col_put_i64(&cs.cols[0], (7 * i) % 20, 0, 0);
    cs.num_rows = 20;
    pq_writer_options o;
    pq_writer_options_default(&o);
    o.codec = PQ_CODEC_UNCOMPRESSED;
    o.row_group_rows = 12;
    o.sort_leaf = 0;
    o2p_buf out;
    buf_init(&out, 0);
    o2p_error err;
    CHECK_OK(write_file(s, &cs, &o, &out, &err));
    rd f = footer(&out);
    /* row groups 0 (values 0..11) and 1 (12..19), each declaring column 0
     * ascending with nulls first; PLAIN pages hold the values in order */
    int64_t next = 0;
    for (size_t g = 0; g < 2; g++) {
        rd rg = list_elem(f, 4, g, NULL);
        size_t nsort;
        rd sc = list_elem(rg, 4, 0, &nsort);
        CHECK_INT(nsort, 1);
        CHECK_INT(field_int(sc, 1), 0);
        CHECK_INT(field_bool(sc, 2), 0); /* descending */
        CHECK_INT(field_bool(sc, 3), 1); /* nulls_first */
        rd m = column_meta(f, g, 0);
        rd page = {out.data + field_int(m, 9), out.data + out.len};
        int64_t nvals = field_int(field_struct(page, 5), 1);
        int64_t size = field_int(page, 3);
        rd_skip_struct(&page);
        for (int64_t k = 0; k < nvals; k++) {
            int64_t v;
            memcpy(&v, page.p + 8 * k, 8);
            CHECK_INT(v, next++);
        }
        CHECK_INT(size, nvals * 8);
    }
    CHECK_INT(next, 20);
    buf_free(&out);

    /* sorting switched off: arrival order, no sorting_columns */
    o.sort_rows = 0;
    buf_init(&out, 0);
    CHECK_OK(write_file(s, &cs, &o, &out, &err));
    f = footer(&out);
    CHECK(!has_field(list_elem(f, 4, 0, NULL), 4));
    rd m = column_meta(f, 0, 0);
    rd page = {out.data + field_int(m, 9), out.data + out.len};
    rd_skip_struct(&page);
    int64_t second;
    memcpy(&second, page.p + 8, 8);
    CHECK_INT(second, 7);
    buf_free(&out);

    /* a sort column that is not a leaf is refused at open */
    o.sort_rows = 1;
    o.sort_leaf = 3;
    pq_writer *w;
    CHECK_INT(pq_writer_open(&w, s, &o, pq_sink_buf(&out), &err), O2P_EINVAL);
    CHECK(strstr(err.msg, "sort column 3") != NULL);
    pq_colset_free(&cs);
    pq_schema_destroy(s);
}

static int64_t stat_i64(rd m, int16_t id)
{
    size_t len;
    const uint8_t *b = field_bin(field_struct(m, 12), id, &len);
    CHECK_INT(len, 8);
    int64_t v;
    memcpy(&v, b, 8);
    return v;
}

TEST(pq_writer_time_aligned_row_groups)
{
    o2p_error err;
    pq_schema *s;
    CHECK_OK(pq_schema_create(&s, "schema", &err));
    CHECK(pq_schema_add_leaf(s, 0, "ts", PQ_REQUIRED, PQ_INT64, PQ_LOGICAL_TIMESTAMP_MICROS, 0) >
          0);
    CHECK_OK(pq_schema_finish(s, &err));
    /* 3,000 rows over 50 minutes (one per second), scrambled */
    enum { ROWS = 3000 };
    const int64_t t0 = 1760738400000000LL; /* an hour's start, in microseconds */
    pq_colset cs;
    CHECK_OK(pq_colset_init(&cs, s));
    for (int i = 0; i < ROWS; i++)
        pq_col_put_i64(&cs.cols[0], t0 + (int64_t)((i * 7) % ROWS) * 1000000, 0, 0);
    cs.num_rows = ROWS;
    pq_writer_options o;
    pq_writer_options_default(&o);
    o.sort_leaf = 0;
    o.row_group_rows = 800; /* ends row groups of more than 800 rows; at least 100 before a cut */
    o.row_group_span_secs = 600;
    o2p_buf out;
    buf_init(&out, 0);
    CHECK_OK(write_file(s, &cs, &o, &out, &err));
    rd f = footer(&out);
    size_t groups;
    list_elem(f, 4, 0, &groups);
    /* 10-minute spans of 600 rows each, all below the 800-row limit */
    CHECK_INT(groups, 5);
    for (size_t g = 0; g < groups; g++) {
        rd m = column_meta(f, g, 0);
        CHECK_INT(field_int(list_elem(f, 4, g, NULL), 3), 600);
        CHECK_INT(stat_i64(m, 6), t0 + (int64_t)g * 600000000);             /* min */
        CHECK_INT(stat_i64(m, 5), t0 + (int64_t)g * 600000000 + 599000000); /* max */
    }
    buf_free(&out);
    /* spans of more rows than the limit: cut by count too (800, then the
     * rest of the span), and the next row group starts at the boundary */
    buf_init(&out, 0);
    o.row_group_span_secs = 1200;
    CHECK_OK(write_file(s, &cs, &o, &out, &err));
    f = footer(&out);
    const int64_t want[] = {800, 400, 800, 400, 600};
    list_elem(f, 4, 0, &groups);
    CHECK_INT(groups, 5);
    for (size_t g = 0; g < groups; g++) CHECK_INT(field_int(list_elem(f, 4, g, NULL), 3), want[g]);
    CHECK_INT(stat_i64(column_meta(f, 2, 0), 6), t0 + 1200000000);
    buf_free(&out);
    /* a span shorter than the rows' spacing: no row group below 800 / 8 rows */
    buf_init(&out, 0);
    o.row_group_span_secs = 1;
    CHECK_OK(write_file(s, &cs, &o, &out, &err));
    f = footer(&out);
    list_elem(f, 4, 0, &groups);
    CHECK_INT(groups, 30);
    for (size_t g = 0; g < groups; g++) CHECK_INT(field_int(list_elem(f, 4, g, NULL), 3), 100);
    buf_free(&out);
    /* span 0, or unsorted rows: row counts only */
    const int sorts[] = {1, 0};
    const uint64_t spans[] = {0, 600};
    for (size_t k = 0; k < 2; k++) {
        buf_init(&out, 0);
        o.sort_rows = sorts[k];
        o.row_group_span_secs = spans[k];
        CHECK_OK(write_file(s, &cs, &o, &out, &err));
        f = footer(&out);
        list_elem(f, 4, 0, &groups);
        CHECK_INT(groups, 4); /* 800, 800, 800, 600 */
        CHECK_INT(field_int(list_elem(f, 4, 3, NULL), 3), 600);
        buf_free(&out);
    }
    pq_colset_free(&cs);
    pq_schema_destroy(s);
}

TEST(pq_writer_page_rows_limit_cuts_pages)
{
    pq_schema *s = flat_schema(PQ_INT64, PQ_LOGICAL_NONE, PQ_REQUIRED);
    pq_colset cs;
    CHECK_OK(pq_colset_init(&cs, s));
    for (int i = 0; i < 1000; i++) pq_col_put_i64(&cs.cols[0], i * 1000003LL, 0, 0);
    cs.num_rows = 1000;
    pq_writer_options o;
    pq_writer_options_default(&o);
    o.page_rows = 300; /* far below the 1 MiB byte limit: 300, 300, 300, 100 */
    o2p_buf out;
    buf_init(&out, 0);
    o2p_error err;
    CHECK_OK(write_file(s, &cs, &o, &out, &err));
    rd m = column_meta(footer(&out), 0, 0);
    CHECK_INT(walk_chunk(&out, m, PAGES_ANY).data, 4);
    buf_free(&out);
    pq_colset_free(&cs);
    pq_schema_destroy(s);
}

/* ---- per-chunk codec ----------------------------------------------------- */

static uint64_t xorshift(uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

TEST(pq_writer_incompressible_chunks_are_uncompressed)
{
    o2p_error err;
    pq_schema *s;
    CHECK_OK(pq_schema_create(&s, "schema", &err));
    /* random values (PLAIN), random picks of 1,000 random values (dictionary
     * page + random entry numbers), a counter (zstd shrinks it) */
    CHECK(pq_schema_add_leaf(s, 0, "rnd", PQ_REQUIRED, PQ_INT64, PQ_LOGICAL_NONE, 0) > 0);
    CHECK(pq_schema_add_leaf(s, 0, "pick", PQ_REQUIRED, PQ_INT64, PQ_LOGICAL_NONE, 0) > 0);
    CHECK(pq_schema_add_leaf(s, 0, "seq", PQ_REQUIRED, PQ_INT64, PQ_LOGICAL_NONE, 0) > 0);
    CHECK_OK(pq_schema_finish(s, &err));
    enum { ROWS = 20000, DISTINCT = 1000 };
    static int64_t rnd[ROWS], pool[DISTINCT];
    uint64_t x = 88172645463325252ull;
    for (int i = 0; i < DISTINCT; i++) pool[i] = (int64_t)xorshift(&x);
    pq_colset cs;
    CHECK_OK(pq_colset_init(&cs, s));
    for (int i = 0; i < ROWS; i++) {
        rnd[i] = (int64_t)xorshift(&x);
        pq_col_put_i64(&cs.cols[0], rnd[i], 0, 0);
        pq_col_put_i64(&cs.cols[1], pool[xorshift(&x) % DISTINCT], 0, 0);
        pq_col_put_i64(&cs.cols[2], 1000000 + i, 0, 0);
    }
    cs.num_rows = ROWS;
    pq_writer_options o;
    pq_writer_options_default(&o);
    o.page_rows = 6000; /* four pages per chunk: the choice holds for all of them */
    o2p_buf out;
    buf_init(&out, 0);
    CHECK_OK(write_file(s, &cs, &o, &out, &err));
    rd f = footer(&out);
    rd m0 = column_meta(f, 0, 0), m1 = column_meta(f, 0, 1), m2 = column_meta(f, 0, 2);
    CHECK_INT(field_int(m0, 4), PQ_CODEC_UNCOMPRESSED);
    CHECK_INT(field_int(m1, 4), PQ_CODEC_UNCOMPRESSED);
    CHECK_INT(field_int(m2, 4), PQ_CODEC_ZSTD);
    CHECK_INT(field_int(m0, 6), field_int(m0, 7));
    CHECK(field_int(m2, 7) < field_int(m2, 6));
    CHECK_INT(walk_chunk(&out, m0, PAGES_RAW).all, 4);
    CHECK_INT(walk_chunk(&out, m1, PAGES_RAW).all, 5); /* dictionary page + 4 */
    CHECK_INT(walk_chunk(&out, m2, PAGES_ZSTD).all, 4);
    /* the dictionary page leads its chunk, the data pages follow it */
    CHECK(has_field(m1, 11));
    CHECK(field_int(m1, 11) < field_int(m1, 9));
    CHECK_INT(field_int(m1, 11), field_int(m0, 9) + field_int(m0, 7));
    /* read back: the raw PLAIN pages hold the values as written */
    rd r = {out.data + field_int(m0, 9), out.data + field_int(m0, 9) + field_int(m0, 7)};
    size_t row = 0;
    while (r.p < r.end) {
        rd h = r;
        int64_t len = field_int(h, 3);
        int64_t nv = field_int(field_struct(h, 5), 1);
        rd_skip_struct(&r);
        CHECK_INT(len, nv * 8);
        CHECK_MEM(r.p, (size_t)len, rnd + row, (size_t)len);
        row += (size_t)nv;
        r.p += len;
    }
    CHECK_INT(row, ROWS);
    /* the dictionary page: the 1,000 values, raw */
    rd dh = {out.data + field_int(m1, 11), out.data + field_int(m1, 9)};
    CHECK_INT(field_int(dh, 1), 2); /* DICTIONARY_PAGE */
    CHECK_INT(field_int(field_struct(dh, 7), 1), DISTINCT);
    CHECK_INT(field_int(dh, 3), DISTINCT * 8);
    /* min_compression_saving = 0: zstd everywhere, as before */
    o2p_buf zstd;
    buf_init(&zstd, 0);
    o.min_compression_saving = 0;
    CHECK_OK(write_file(s, &cs, &o, &zstd, &err));
    rd z = footer(&zstd);
    for (size_t c = 0; c < 3; c++) {
        rd m = column_meta(z, 0, c);
        CHECK_INT(field_int(m, 4), PQ_CODEC_ZSTD);
        CHECK_INT(walk_chunk(&zstd, m, PAGES_ZSTD).all, c == 1 ? 5 : 4);
    }
    /* uncompressed files are what a no-codec writer writes */
    o2p_buf none, none2;
    buf_init(&none, 0);
    buf_init(&none2, 0);
    o.codec = PQ_CODEC_UNCOMPRESSED;
    CHECK_OK(write_file(s, &cs, &o, &none, &err));
    o.min_compression_saving = 0.05;
    CHECK_OK(write_file(s, &cs, &o, &none2, &err));
    CHECK_MEM(none.data, none.len, none2.data, none2.len);
    buf_free(&none);
    buf_free(&none2);
    buf_free(&zstd);
    buf_free(&out);
    pq_colset_free(&cs);
    pq_schema_destroy(s);
}

/* A chunk the codec shrinks by more than min_compression_saving but by
 * less than a bit per value (a severity-like column of two values: 1-bit
 * entry numbers) is UNCOMPRESSED: a reader's fixed cost per compressed page
 * buys less than it costs.  Small pages keep the codec. */
TEST(pq_writer_small_savings_are_uncompressed)
{
    o2p_error err;
    pq_schema *s;
    CHECK_OK(pq_schema_create(&s, "schema", &err));
    CHECK(pq_schema_add_leaf(s, 0, "sev", PQ_REQUIRED, PQ_INT64, PQ_LOGICAL_NONE, 0) > 0);
    CHECK(pq_schema_add_leaf(s, 0, "seq", PQ_REQUIRED, PQ_INT64, PQ_LOGICAL_NONE, 0) > 0);
    CHECK_OK(pq_schema_finish(s, &err));
    enum { ROWS = 50000, SMALL = 500 };
    uint64_t x = 88172645463325252ull;
    pq_colset cs, small;
    CHECK_OK(pq_colset_init(&cs, s));
    CHECK_OK(pq_colset_init(&small, s));
    for (int i = 0; i < ROWS; i++) {
        int64_t sev = xorshift(&x) % 50 == 0 ? 17 : 9;
        pq_col_put_i64(&cs.cols[0], sev, 0, 0);
        pq_col_put_i64(&cs.cols[1], 1000000 + i, 0, 0);
        if (i < SMALL) {
            pq_col_put_i64(&small.cols[0], sev, 0, 0);
            pq_col_put_i64(&small.cols[1], 1000000 + i, 0, 0);
        }
    }
    cs.num_rows = ROWS;
    small.num_rows = SMALL;
    pq_writer_options o;
    pq_writer_options_default(&o);
    o2p_buf out, zstd, few;
    buf_init(&out, 0);
    buf_init(&zstd, 0);
    buf_init(&few, 0);
    CHECK_OK(write_file(s, &cs, &o, &out, &err));
    rd f = footer(&out);
    rd sev = column_meta(f, 0, 0), seq = column_meta(f, 0, 1);
    CHECK(has_field(sev, 11)); /* dictionary-encoded, one data page */
    CHECK_INT(field_int(sev, 4), PQ_CODEC_UNCOMPRESSED);
    CHECK_INT(field_int(sev, 6), field_int(sev, 7));
    CHECK_INT(walk_chunk(&out, sev, PAGES_RAW).all, 2); /* dictionary page + 1, both raw */
    CHECK_INT(field_int(seq, 4), PQ_CODEC_ZSTD);        /* saves far more than a bit per value */
    /* the 500-value counter page saves more than a bit per value too */
    CHECK_OK(write_file(s, &small, &o, &few, &err));
    CHECK_INT(field_int(column_meta(footer(&few), 0, 1), 4), PQ_CODEC_ZSTD);
    /* min_compression_saving = 0: the codec on every chunk; zstd shrinks
     * sev by more than 5 %, by less than a bit per value */
    o.min_compression_saving = 0;
    CHECK_OK(write_file(s, &cs, &o, &zstd, &err));
    rd z = column_meta(footer(&zstd), 0, 0);
    CHECK_INT(field_int(z, 4), PQ_CODEC_ZSTD);
    int64_t saved = field_int(z, 6) - field_int(z, 7);
    CHECK(saved > field_int(z, 6) / 20);
    CHECK(saved * 8 < ROWS);
    CHECK_INT(walk_chunk(&zstd, z, PAGES_ZSTD).all, 2);
    buf_free(&few);
    buf_free(&zstd);
    buf_free(&out);
    pq_colset_free(&small);
    pq_colset_free(&cs);
    pq_schema_destroy(s);
}

/* ---- page index -------------------------------------------------------- */

/* Positions a reader at field `id` (a list) of s; returns the element count. */
static size_t list_field(rd s, int16_t id, rd *out, int *elem)
{
    CHECK_INT(rd_field(s, id, out), 9);
    return rd_list_header(out, elem);
}

TEST(pq_writer_page_index_round_trip)
{
    o2p_error err;
    pq_schema *s;
    CHECK_OK(pq_schema_create(&s, "schema", &err));
    CHECK(pq_schema_add_leaf(s, 0, "str", PQ_OPTIONAL, PQ_BYTE_ARRAY, PQ_LOGICAL_STRING, 0) > 0);
    CHECK(pq_schema_add_leaf(s, 0, "down", PQ_REQUIRED, PQ_INT64, PQ_LOGICAL_NONE, 0) > 0);
    CHECK(pq_schema_add_leaf(s, 0, "mixed", PQ_REQUIRED, PQ_INT64, PQ_LOGICAL_NONE, 0) > 0);
    CHECK_OK(pq_schema_finish(s, &err));
    pq_colset cs;
    CHECK_OK(pq_colset_init(&cs, s));
    char longv[100];
    memset(longv, 'z', sizeof longv);
    /* str pages: [a, b], [null, null], [c, z x 100] */
    pq_col_put_bytes(&cs.cols[0], "a", 1, 1, 0);
    pq_col_put_bytes(&cs.cols[0], "b", 1, 1, 0);
    pq_col_put_null(&cs.cols[0], 0, 0);
    pq_col_put_null(&cs.cols[0], 0, 0);
    pq_col_put_bytes(&cs.cols[0], "c", 1, 1, 0);
    pq_col_put_bytes(&cs.cols[0], longv, sizeof longv, 1, 0);
    const int64_t mixed[6] = {1, 9, 2, 3, 5, 6};
    for (int i = 0; i < 6; i++) {
        pq_col_put_i64(&cs.cols[1], 60 - 10 * i, 0, 0);
        pq_col_put_i64(&cs.cols[2], mixed[i], 0, 0);
    }
    cs.num_rows = 6;
    pq_writer_options o;
    pq_writer_options_default(&o);
    o.page_rows = 2;
    o2p_buf out;
    buf_init(&out, 0);
    CHECK_OK(write_file(s, &cs, &o, &out, &err));
    rd f = footer(&out);
    const int want_order[3] = {1, 2, 0}; /* ASCENDING, DESCENDING, UNORDERED */
    uint64_t prev_end = 0;
    for (size_t col = 0; col < 3; col++) {
        rd cc = list_elem(list_elem(f, 4, 0, NULL), 1, col, NULL);
        rd m = field_struct(cc, 3);
        /* OffsetIndex: three pages, back to back, the first at data_page_offset */
        int64_t oi_off = field_int(cc, 4), oi_len = field_int(cc, 5);
        int64_t ci_off = field_int(cc, 6), ci_len = field_int(cc, 7);
        CHECK(oi_len > 0 && ci_len > 0);
        /* all ColumnIndex structs come after the last data page, before the OffsetIndexes */
        CHECK(ci_off >= field_int(m, 9) + field_int(m, 7) - 1);
        if (col > 0) CHECK_INT((uint64_t)ci_off, prev_end);
        prev_end = (uint64_t)(ci_off + ci_len);
        rd oi = {out.data + oi_off, out.data + oi_off + oi_len};
        rd locs;
        int elem;
        CHECK_INT(list_field(oi, 1, &locs, &elem), 3);
        CHECK_INT(elem, 12);
        int64_t expect_off = field_int(m, 9);
        for (int p = 0; p < 3; p++) {
            CHECK_INT(field_int(locs, 1), expect_off);
            CHECK_INT(field_int(locs, 3), 2 * p);
            /* the location's size covers the page header and body */
            rd hdr = {out.data + expect_off, out.data + out.len};
            int64_t body = field_int(hdr, 3);
            rd_skip_struct(&hdr);
            CHECK_INT(field_int(locs, 2), (int64_t)(hdr.p - (out.data + expect_off)) + body);
            expect_off += field_int(locs, 2);
            rd_skip_struct(&locs);
        }
        /* ColumnIndex */
        rd ci = {out.data + ci_off, out.data + ci_off + ci_len};
        CHECK_INT(field_int(ci, 4), want_order[col]);
        rd nulls, mins, maxs, counts;
        CHECK_INT(list_field(ci, 1, &nulls, &elem), 3);
        CHECK(elem == 1 || elem == 2);
        CHECK_INT(list_field(ci, 2, &mins, &elem), 3);
        CHECK_INT(elem, 8);
        CHECK_INT(list_field(ci, 3, &maxs, &elem), 3);
        CHECK_INT(list_field(ci, 5, &counts, &elem), 3);
        CHECK_INT(elem, 6);
        for (int p = 0; p < 3; p++) {
            int is_null = *nulls.p++ == 1;
            size_t lo_len = (size_t)rd_varint(&mins), hi_len = (size_t)rd_varint(&maxs);
            const uint8_t *lo = mins.p, *hi = maxs.p;
            mins.p += lo_len;
            maxs.p += hi_len;
            int64_t nc = rd_zigzag(&counts);
            if (col == 0) {
                CHECK_INT(is_null, p == 1);
                CHECK_INT(nc, p == 1 ? 2 : 0);
                if (p == 0) {
                    CHECK_MEM(lo, lo_len, "a", 1);
                    CHECK_MEM(hi, hi_len, "b", 1);
                } else if (p == 1) {
                    CHECK_INT(lo_len, 0);
                    CHECK_INT(hi_len, 0);
                } else {
                    CHECK_MEM(lo, lo_len, "c", 1);
                    /* 100 bytes: the upper bound is cut to 64, last byte incremented */
                    char want_hi[64];
                    memset(want_hi, 'z', 64);
                    want_hi[63] = '{';
                    CHECK_MEM(hi, hi_len, want_hi, 64);
                }
            } else {
                CHECK_INT(is_null, 0);
                CHECK_INT(nc, 0);
                int64_t vlo, vhi;
                CHECK_INT(lo_len, 8);
                CHECK_INT(hi_len, 8);
                memcpy(&vlo, lo, 8);
                memcpy(&vhi, hi, 8);
                if (col == 1) {
                    CHECK_INT(vlo, 50 - 20 * p);
                    CHECK_INT(vhi, 60 - 20 * p);
                } else {
                    const int64_t wl[3] = {1, 2, 5}, wh[3] = {9, 3, 6};
                    CHECK_INT(vlo, wl[p]);
                    CHECK_INT(vhi, wh[p]);
                }
            }
        }
    }
    /* the OffsetIndex structs follow the ColumnIndex structs */
    rd cc0 = list_elem(list_elem(f, 4, 0, NULL), 1, 0, NULL);
    CHECK_INT((uint64_t)field_int(cc0, 4), prev_end);
    buf_free(&out);
    pq_colset_free(&cs);
    pq_schema_destroy(s);
}

/* The framing of BYTE_ARRAY values is checked on the writer's first walk
 * over them (the gather of sorted rows) instead of a separate pass; bad
 * framing is refused with the column named, sorted or not. */
TEST(pq_writer_refuses_bad_value_framing_on_every_path)
{
    o2p_error err;
    pq_schema *s;
    CHECK_OK(pq_schema_create(&s, "schema", &err));
    CHECK(pq_schema_add_leaf(s, 0, "ts", PQ_REQUIRED, PQ_INT64, PQ_LOGICAL_NONE, 0) > 0);
    CHECK(pq_schema_add_leaf(s, 0, "msg", PQ_OPTIONAL, PQ_BYTE_ARRAY, PQ_LOGICAL_STRING, 0) > 0);
    CHECK_OK(pq_schema_finish(s, &err));
    for (int sorted_input = 0; sorted_input < 2; sorted_input++) {
        for (int fault = 0; fault < 3; fault++) {
            pq_colset cs;
            CHECK_OK(pq_colset_init(&cs, s));
            const char *msgs[] = {"a", "bb", "ccc"};
            for (int i = 0; i < 3; i++) {
                pq_col_put_i64(&cs.cols[0], sorted_input ? i : 3 - i, 0, 0);
                pq_col_put_bytes(&cs.cols[1], msgs[i], strlen(msgs[i]), 1, 0);
            }
            pq_col_put_i64(&cs.cols[0], sorted_input ? 3 : 0, 0, 0);
            pq_col_put_null(&cs.cols[1], 0, 0);
            cs.num_rows = 4;
            uint8_t *v = cs.cols[1].values.data;
            if (fault == 1) v[5] = 200; /* "bb" claims 200 bytes: runs past the end */
            if (fault == 2) CHECK_OK(buf_push_byte(&cs.cols[1].values, 'x')); /* a stray byte */
            pq_writer_options o;
            pq_writer_options_default(&o);
            o.sort_leaf = 0;
            o2p_buf out;
            buf_init(&out, 0);
            int rc = write_file(s, &cs, &o, &out, &err);
            if (fault == 0) {
                CHECK_OK(rc);
            } else {
                CHECK_INT(rc, O2P_EINVAL);
                CHECK_MSG(strstr(err.msg, "column msg: value bytes do not frame 3") != NULL,
                          "sorted_input %d fault %d: %s", sorted_input, fault, err.msg);
            }
            buf_free(&out);
            pq_colset_free(&cs);
        }
    }
    pq_schema_destroy(s);
}
