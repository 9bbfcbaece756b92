/*
 * pq_writer: the streaming Parquet file writer (see pq_writer.h).
 *
 * A column chunk is encoded in two passes over the pending column data.
 * The first builds the chunk's dictionary and one entry number per value;
 * the chunk falls back to PLAIN when the dictionary passes
 * options.dictionary_limit, or when it does not pay off: when the PLAIN
 * dictionary plus the bit-packed entry numbers would not be smaller than the
 * PLAIN values themselves (unique values such as ids or timestamps).
 * BOOLEAN chunks are always PLAIN: bit-packed booleans cost one bit per
 * value, no less than dictionary indices, and some readers (hyparquet)
 * cannot decode a BOOLEAN dictionary page.  The
 * second pass cuts the entries into pages of about options.page_size
 * estimated encoded bytes, always at a row boundary (rep == 0), and writes
 * each page: repetition and definition levels (4-byte length + RLE hybrid),
 * then the values, then compression, then the header with page statistics.
 * The chunk's codec is chosen at its first data page: UNCOMPRESSED when the
 * codec would save less than options.min_compression_saving of the first
 * pages, or less than a bit per value (choose_codec; the dictionary page
 * waits for that choice).
 *
 * A chunk of a run-mode column (pq_col_run_row) is written from its runs
 * when it is a byte array that may get a dictionary (write_from_runs,
 * pq_runs): only its levels are expanded, each stored row's values are
 * looked up once, and the file is the one the expanded rows give.
 *
 * Pages go into an output buffer that is handed to the sink whenever it
 * holds more than FLUSH_BYTES and at the end of every call, so the writer's
 * memory is its scratch buffers plus the footer metadata.
 */
#include "parquet/pq_writer.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "core/mem.h"
#include "core/version.h"
#include "parquet/pq_bitpack.h"
#include "parquet/pq_bloom.h"
#include "parquet/pq_compress.h"
#include "parquet/pq_dict.h"
#include "parquet/pq_index.h"
#include "parquet/pq_meta.h"
#include "parquet/pq_page.h"
#include "parquet/pq_rle.h"
#include "parquet/pq_runs.h"
#include "parquet/pq_sort.h"
#include "parquet/pq_stats.h"

#define FLUSH_BYTES                   (1u << 20)
#define DEFAULT_PAGE_SIZE             (1u << 20)
#define DEFAULT_DICTIONARY_LIMIT      (1u << 20)
#define DEFAULT_ROW_GROUP_ROWS        1048576u
#define DEFAULT_SORTED_ROW_GROUP_ROWS 100000u
#define DEFAULT_PAGE_ROWS             100000u
#define DEFAULT_ROW_GROUP_SPAN_SECS   600u
/* a chunk is UNCOMPRESSED when the codec saves less than this of its first pages */
#define DEFAULT_MIN_COMPRESSION_SAVING 0.05
/* ... or fewer bits per value than this (a reader's fixed cost per page buys less) */
#define MIN_SAVING_BITS_PER_VALUE 1u
/* values dictionary-encoded before deciding whether a dictionary can pay off */
#define DICT_SAMPLE_VALUES 4096u

static const uint8_t MAGIC[4] = {'P', 'A', 'R', '1'};

enum { W_OPEN, W_FAILED, W_CLOSED };

struct pq_writer {
    const pq_schema *schema;
    pq_writer_options opts;
    char *created_by;
    pq_kv *metadata;
    pq_sink sink;
    int state;
    uint64_t flushed; /* bytes handed to the sink */
    uint64_t rows;
    o2p_buf out;        /* pages (and finally the footer) not yet handed over */
    o2p_buf row_groups; /* encoded RowGroup structs (built at close) */
    size_t num_row_groups;
    o2p_buf chunks;      /* every chunk's ColumnChunk, open (pq_meta_column_chunk_open) */
    o2p_buf chunk_recs;  /* one chunk_rec per chunk of the file */
    o2p_buf rg_recs;     /* one rg_rec per row group */
    pq_index index;      /* page index of the file */
    uint8_t *bloom_leaf; /* per leaf: 1 = write a bloom filter */
    uint8_t *plain_leaf; /* per leaf: 1 = never a dictionary (plain_table_columns) */
    pq_bloom bloom;
    o2p_buf page;        /* scratch: uncompressed page body */
    o2p_buf packed;      /* scratch: compressed page body */
    o2p_buf dict_packed; /* scratch: compressed dictionary page body (dictionary_pending) */
    uint32_t *entries;   /* scratch: dictionary entry number per value */
    size_t entries_cap;
    uint32_t *seen; /* scratch: per dictionary entry, the last page that used it */
    size_t seen_cap;
    uint32_t page_serial; /* numbers pages for `seen` */
    pq_dict dict;
    pq_compressor comp;
    pq_column expand;   /* scratch: one run-mode or sorted column chunk as plain entries */
    pq_runs runs;       /* scratch: one run-mode column chunk as runs of stored rows */
    pq_row_index rowix; /* scratch: row offsets of the column being sorted */
    pq_workspace *ws;   /* where the scratch above came from, or NULL */
};

/* A column chunk written: where its open ColumnChunk ends in w->chunks and
 * where its page index structs are in w->index. */
typedef struct chunk_rec {
    size_t enc_end;
    pq_index_ref ref;
} chunk_rec;

/* A row group written; its RowGroup struct is encoded at close. */
typedef struct rg_rec {
    uint64_t total_unc, num_rows, file_offset, total_comp;
    int sort_leaf;
} rg_rec;

/* The scratch members of a writer, parked between files. */
struct pq_workspace {
    int in_use;
    int has_comp;
    o2p_buf out, row_groups, chunks, page, packed, dict_packed;
    uint32_t *entries;
    size_t entries_cap;
    uint32_t *seen;
    size_t seen_cap;
    uint32_t page_serial;
    pq_dict dict;
    pq_compressor comp;
    pq_column expand;
    pq_runs runs;
    pq_row_index rowix;
};

int pq_workspace_create(pq_workspace **out, o2p_error *err)
{
    pq_workspace *ws = mem_calloc(1, sizeof *ws);
    if (ws == NULL) return o2p_errorf(err, O2P_ENOMEM, "out of memory creating a workspace");
    buf_init(&ws->out, 0);
    buf_init(&ws->row_groups, 0);
    buf_init(&ws->chunks, 0);
    buf_init(&ws->page, 0);
    buf_init(&ws->packed, 0);
    buf_init(&ws->dict_packed, 0);
    pq_dict_init(&ws->dict, 0);
    pq_col_init(&ws->expand, NULL);
    pq_runs_init(&ws->runs);
    pq_row_index_init(&ws->rowix);
    *out = ws;
    return O2P_OK;
}

void pq_workspace_destroy(pq_workspace *ws)
{
    if (ws == NULL) return;
    buf_free(&ws->out);
    buf_free(&ws->row_groups);
    buf_free(&ws->chunks);
    buf_free(&ws->page);
    buf_free(&ws->packed);
    buf_free(&ws->dict_packed);
    mem_free(ws->entries);
    mem_free(ws->seen);
    pq_dict_free(&ws->dict);
    pq_col_free(&ws->expand);
    pq_runs_free(&ws->runs);
    pq_row_index_free(&ws->rowix);
    if (ws->has_comp) pq_compressor_free(&ws->comp);
    mem_free(ws);
}

/* Moves the workspace's scratch into the writer (emptied, capacity kept). */
static void borrow_scratch(pq_writer *w, pq_workspace *ws)
{
    ws->in_use = 1;
    w->ws = ws;
    w->out = ws->out;
    w->row_groups = ws->row_groups;
    w->chunks = ws->chunks;
    w->page = ws->page;
    w->packed = ws->packed;
    w->dict_packed = ws->dict_packed;
    buf_reset(&w->out);
    buf_reset(&w->row_groups);
    buf_reset(&w->chunks);
    buf_reset(&w->page);
    buf_reset(&w->packed);
    buf_reset(&w->dict_packed);
    w->entries = ws->entries;
    w->entries_cap = ws->entries_cap;
    w->seen = ws->seen;
    w->seen_cap = ws->seen_cap;
    w->page_serial = ws->page_serial;
    w->dict = ws->dict;
    w->expand = ws->expand;
    w->runs = ws->runs;
    w->rowix = ws->rowix;
}

/* Hands the scratch back for the next writer. */
static void return_scratch(pq_writer *w)
{
    pq_workspace *ws = w->ws;
    ws->out = w->out;
    ws->row_groups = w->row_groups;
    ws->chunks = w->chunks;
    ws->page = w->page;
    ws->packed = w->packed;
    ws->dict_packed = w->dict_packed;
    ws->entries = w->entries;
    ws->entries_cap = w->entries_cap;
    ws->seen = w->seen;
    ws->seen_cap = w->seen_cap;
    ws->page_serial = w->page_serial;
    ws->dict = w->dict;
    ws->expand = w->expand;
    ws->runs = w->runs;
    ws->rowix = w->rowix;
    ws->comp = w->comp;
    ws->has_comp = pq_compressor_ready(&w->comp);
    if (!ws->has_comp) pq_compressor_free(&w->comp);
    ws->in_use = 0;
}

/* Where one column's rows of a row group lie in its pending buffers. */
typedef struct col_range {
    size_t e0, e1; /* level entries */
    size_t v0, v1; /* values */
    size_t b0, b1; /* value bytes */
} col_range;

static int sink_fd_write(void *ctx, const void *data, size_t len, o2p_error *err)
{
    int fd = *(int *)ctx;
    const uint8_t *p = data;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR) continue;
            return o2p_errorf(err, O2P_EIO, "write to fd %d failed: %s", fd, strerror(errno));
        }
        p += n;
        len -= (size_t)n;
    }
    return O2P_OK;
}

pq_sink pq_sink_fd(int *fd)
{
    pq_sink s = {sink_fd_write, fd};
    return s;
}

static int sink_buf_write(void *ctx, const void *data, size_t len, o2p_error *err)
{
    int rc = buf_append(ctx, data, len);
    if (rc == O2P_ELIMIT)
        return o2p_errorf(err, rc, "parquet output exceeds the buffer limit of %zu bytes",
                          ((o2p_buf *)ctx)->limit);
    if (rc < 0) return o2p_errorf(err, rc, "out of memory for the parquet output buffer");
    return O2P_OK;
}

pq_sink pq_sink_buf(o2p_buf *out)
{
    pq_sink s = {sink_buf_write, out};
    return s;
}

void pq_writer_options_default(pq_writer_options *opts)
{
    memset(opts, 0, sizeof *opts);
    opts->codec = PQ_CODEC_ZSTD;
    opts->page_size = DEFAULT_PAGE_SIZE;
    opts->dictionary_limit = DEFAULT_DICTIONARY_LIMIT;
    opts->dictionary = 1;
    opts->row_group_rows = DEFAULT_ROW_GROUP_ROWS;
    opts->sorted_row_group_rows = DEFAULT_SORTED_ROW_GROUP_ROWS;
    opts->page_rows = DEFAULT_PAGE_ROWS;
    opts->created_by = O2P_CREATED_BY;
    opts->sort_rows = 1;
    opts->sort_leaf = -1;
    opts->bloom_fpp = 0.01;
    opts->bloom_filters = 1;
    opts->page_index = 1;
    opts->min_compression_saving = DEFAULT_MIN_COMPRESSION_SAVING;
    opts->row_group_span_secs = DEFAULT_ROW_GROUP_SPAN_SECS;
}

/* Marks the leaves named in the comma-separated list (names the schema
 * lacks are skipped: one list serves every table). */
static void mark_leaves(const pq_schema *s, const char *list, uint8_t *flags)
{
    if (list == NULL) return;
    char name[256];
    while (*list) {
        const char *comma = strchr(list, ',');
        size_t len = comma ? (size_t)(comma - list) : strlen(list);
        while (len > 0 && (*list == ' ')) list++, len--;
        while (len > 0 && list[len - 1] == ' ') len--;
        if (len > 0 && len < sizeof name) {
            memcpy(name, list, len);
            name[len] = '\0';
            int leaf = pq_schema_find_leaf(s, name);
            if (leaf >= 0) flags[leaf] = 1;
        }
        if (!comma) break;
        list = comma + 1;
    }
}

/* Marks the writer failed: its sink may now hold a partial file. */
static int fail(pq_writer *w, int rc)
{
    w->state = W_FAILED;
    return rc;
}

static uint64_t position(const pq_writer *w)
{
    return w->flushed + w->out.len;
}

static int flush(pq_writer *w, o2p_error *err)
{
    if (w->out.len == 0) return O2P_OK;
    int rc = w->sink.write(w->sink.ctx, w->out.data, w->out.len, err);
    if (rc < 0) return rc;
    w->flushed += w->out.len;
    buf_reset(&w->out);
    return O2P_OK;
}

static int nomem(o2p_error *err, const char *what)
{
    return o2p_errorf(err, O2P_ENOMEM, "parquet writer: out of memory for %s", what);
}

void pq_writer_destroy(pq_writer *w)
{
    if (w == NULL) return;
    mem_free(w->created_by);
    for (size_t i = 0; i < w->opts.num_metadata; i++) {
        mem_free((char *)w->metadata[i].key);
        mem_free((char *)w->metadata[i].value);
    }
    mem_free(w->metadata);
    pq_index_free(&w->index);
    mem_free(w->bloom_leaf);
    mem_free(w->plain_leaf);
    pq_bloom_free(&w->bloom);
    buf_free(&w->chunk_recs);
    buf_free(&w->rg_recs);
    if (w->ws != NULL) {
        return_scratch(w);
    } else {
        buf_free(&w->out);
        buf_free(&w->row_groups);
        buf_free(&w->chunks);
        buf_free(&w->page);
        buf_free(&w->packed);
        buf_free(&w->dict_packed);
        mem_free(w->entries);
        mem_free(w->seen);
        pq_dict_free(&w->dict);
        pq_col_free(&w->expand);
        pq_runs_free(&w->runs);
        pq_row_index_free(&w->rowix);
        pq_compressor_free(&w->comp);
    }
    mem_free(w);
}

static int copy_options(pq_writer *w, const pq_writer_options *opts, o2p_error *err)
{
    w->opts = *opts;
    if (w->opts.page_size == 0) w->opts.page_size = DEFAULT_PAGE_SIZE;
    if (w->opts.dictionary_limit == 0) w->opts.dictionary_limit = DEFAULT_DICTIONARY_LIMIT;
    if (w->opts.row_group_rows == 0) w->opts.row_group_rows = DEFAULT_ROW_GROUP_ROWS;
    if (w->opts.page_rows == 0) w->opts.page_rows = DEFAULT_PAGE_ROWS;
    if (w->opts.sort_leaf >= 0 && (size_t)w->opts.sort_leaf >= pq_schema_num_leaves(w->schema))
        return o2p_errorf(err, O2P_EINVAL, "parquet writer: sort column %d is not a leaf column",
                          w->opts.sort_leaf);
    if (!w->opts.sort_rows) w->opts.sort_leaf = -1;
    if (w->opts.sort_leaf >= 0 && w->opts.sorted_row_group_rows > 0 &&
        w->opts.sorted_row_group_rows < w->opts.row_group_rows)
        w->opts.row_group_rows = w->opts.sorted_row_group_rows;
    if (!(w->opts.bloom_fpp > 0.0 && w->opts.bloom_fpp < 1.0))
        return o2p_errorf(err, O2P_EINVAL,
                          "parquet writer: bloom filter false-positive rate %g is not in (0, 1)",
                          w->opts.bloom_fpp);
    w->bloom_leaf = mem_calloc(pq_schema_num_leaves(w->schema) + 1, 1);
    if (w->bloom_leaf == NULL) return nomem(err, "options");
    if (opts->bloom_filters) {
        mark_leaves(w->schema, opts->bloom_table_columns, w->bloom_leaf);
        mark_leaves(w->schema, opts->bloom_columns, w->bloom_leaf);
    }
    w->opts.bloom_table_columns = NULL; /* not copied: resolved above */
    w->opts.bloom_columns = NULL;
    w->plain_leaf = mem_calloc(pq_schema_num_leaves(w->schema) + 1, 1);
    if (w->plain_leaf == NULL) return nomem(err, "options");
    mark_leaves(w->schema, opts->plain_table_columns, w->plain_leaf);
    w->opts.plain_table_columns = NULL;
    w->created_by = mem_strdup(opts->created_by ? opts->created_by : O2P_CREATED_BY);
    if (w->created_by == NULL) return nomem(err, "options");
    w->opts.created_by = w->created_by;
    w->opts.num_metadata = 0;
    if (opts->num_metadata > 0) {
        w->metadata = mem_calloc(opts->num_metadata, sizeof *w->metadata);
        if (w->metadata == NULL) return nomem(err, "options");
        for (size_t i = 0; i < opts->num_metadata; i++) {
            const pq_kv *kv = &opts->metadata[i];
            if (kv->key == NULL)
                return o2p_errorf(err, O2P_EINVAL, "parquet writer: metadata entry %zu has no key",
                                  i);
            w->opts.num_metadata = i + 1;
            w->metadata[i].key = mem_strdup(kv->key);
            w->metadata[i].value = kv->value ? mem_strdup(kv->value) : NULL;
            if (w->metadata[i].key == NULL || (kv->value && w->metadata[i].value == NULL))
                return nomem(err, "options");
        }
    }
    w->opts.metadata = w->metadata;
    return O2P_OK;
}

int pq_writer_open(pq_writer **out, const pq_schema *schema, const pq_writer_options *opts,
                   pq_sink sink, o2p_error *err)
{
    *out = NULL;
    if (pq_schema_num_nodes(schema) == 0)
        return o2p_errorf(err, O2P_ESTATE, "parquet writer: the schema is not finished");
    pq_writer_options defaults;
    if (opts == NULL) {
        pq_writer_options_default(&defaults);
        opts = &defaults;
    }
    pq_writer *w = mem_calloc(1, sizeof *w);
    if (w == NULL) return nomem(err, "the writer");
    w->schema = schema;
    w->sink = sink;
    pq_index_init(&w->index);
    pq_bloom_init(&w->bloom);
    buf_init(&w->chunk_recs, 0);
    buf_init(&w->rg_recs, 0);
    pq_workspace *ws = opts->workspace;
    if (ws != NULL && ws->in_use) {
        mem_free(w);
        return o2p_errorf(err, O2P_ESTATE,
                          "parquet writer: the workspace is in use by another writer");
    }
    if (ws != NULL) {
        borrow_scratch(w, ws);
    } else {
        buf_init(&w->out, 0);
        buf_init(&w->row_groups, 0);
        buf_init(&w->chunks, 0);
        buf_init(&w->page, 0);
        buf_init(&w->packed, 0);
        buf_init(&w->dict_packed, 0);
        pq_dict_init(&w->dict, 0);
        pq_col_init(&w->expand, NULL);
        pq_runs_init(&w->runs);
        pq_row_index_init(&w->rowix);
    }
    int rc = copy_options(w, opts, err);
    if (rc == O2P_OK) {
        /* a parked codec context is reused when codec and level match */
        int level = w->opts.compression_level;
        if (ws != NULL && ws->has_comp && ws->comp.codec == w->opts.codec &&
            ws->comp.level == pq_compressor_level(w->opts.codec, level)) {
            w->comp = ws->comp;
            ws->has_comp = 0;
        } else {
            if (ws != NULL && ws->has_comp) pq_compressor_free(&ws->comp);
            if (ws != NULL) ws->has_comp = 0;
            rc = pq_compressor_init(&w->comp, w->opts.codec, level, err);
        }
    }
    if (rc == O2P_OK && buf_append(&w->out, MAGIC, sizeof MAGIC) < 0) rc = nomem(err, "output");
    if (rc == O2P_OK) rc = flush(w, err);
    if (rc < 0) {
        pq_writer_destroy(w);
        return rc;
    }
    *out = w;
    return O2P_OK;
}

static size_t byte_array_span(const uint8_t *p, size_t count)
{
    const uint8_t *start = p;
    for (size_t i = 0; i < count; i++) {
        uint32_t n;
        memcpy(&n, p, 4);
        p += 4 + (size_t)n;
    }
    return (size_t)(p - start);
}

/* The range after `prev` that holds the next `rows` rows of column c. */
static void next_range(const pq_column *c, const col_range *prev, size_t rows, int to_end,
                       col_range *r)
{
    const pq_leaf *leaf = c->leaf;
    r->e0 = prev->e1;
    r->v0 = prev->v1;
    r->b0 = prev->b1;
    if (to_end) {
        r->e1 = c->num_entries;
        r->v1 = c->num_values;
        r->b1 = c->values.len;
        return;
    }
    if (leaf->max_rep == 0) {
        r->e1 = r->e0 + rows;
    } else {
        size_t started = 0, i = r->e0;
        for (; i < c->num_entries; i++) {
            if (c->rep.data[i] == 0) {
                if (started == rows) break;
                started++;
            }
        }
        r->e1 = i;
    }
    if (leaf->max_def == 0) {
        r->v1 = r->v0 + (r->e1 - r->e0);
    } else {
        size_t n = 0;
        for (size_t i = r->e0; i < r->e1; i++) n += c->def.data[i] == leaf->max_def;
        r->v1 = r->v0 + n;
    }
    size_t width = pq_value_width(leaf);
    r->b1 = r->b0 + (width ? (r->v1 - r->v0) * width
                           : byte_array_span(c->values.data + r->b0, r->v1 - r->v0));
}

typedef struct chunk_state {
    const pq_column *col;
    const col_range *range;
    /* a run-mode chunk encoded from its runs (w->runs): its source column;
     * col then holds the levels and a prefix of the values only */
    const pq_column *run_src;
    size_t width;    /* stored width, 0 for BYTE_ARRAY */
    int dictionary;  /* 1: data pages are RLE_DICTIONARY */
    int index_width; /* bit width of entry numbers */
    int def_width, rep_width;
    pq_content content; /* of the values: what a PLAIN or dictionary page holds */
    pq_chunk_meta meta;
    pq_stats chunk_stats;
    pq_stats page_stats;
    uint64_t first_row;     /* row of the next data page within the row group */
    pq_codec codec;         /* the chunk's codec (ColumnMetaData.codec) once decided */
    int codec_decided;      /* 0: decided by the first data page (choose_codec) */
    int dictionary_pending; /* 1: the dictionary page waits for the codec choice */
} chunk_state;

/* What a page of the chunk holds, for the codec's parameters: the values'
 * content for PLAIN pages; ENTRY_NUMBERS for dictionary-encoded data
 * pages; for a dictionary page the values' content, or DISTINCT for byte
 * arrays that are not hex ids (every entry differs from the others). */
static pq_content page_content(const chunk_state *cs, int is_dict)
{
    if (!cs->dictionary) return cs->content;
    if (!is_dict) return PQ_CONTENT_ENTRY_NUMBERS;
    if (cs->content == PQ_CONTENT_HEX_IDS || cs->width != 0) return cs->content;
    return PQ_CONTENT_DISTINCT;
}

/* The chunk's codec, chosen once from its first bytes: the dictionary page
 * (if any) and the first data page of num_values values, both already
 * compressed into w->dict_packed and w->packed.  When the codec saves less
 * than options.min_compression_saving of those bytes, or (with that
 * fraction above 0) less than MIN_SAVING_BITS_PER_VALUE bits per value, the
 * whole chunk is written UNCOMPRESSED (the codec is per column chunk in
 * Parquet): readers then skip decompressing its pages, a fixed cost per
 * page (~20 us in DuckDB) that buys nothing for bit-packed entry numbers or
 * random values, and little for the 1-bit entry numbers of a two-value
 * column (SeverityText: ~3 KiB saved on an 86,000-row page).  A small file
 * keeps the codec: a 500-row page saving 1 KiB saves 16 bits per value. */
static void choose_codec(pq_writer *w, chunk_state *cs, size_t num_values)
{
    uint64_t raw = w->page.len, packed = w->packed.len;
    if (cs->dictionary_pending) {
        raw += w->dict.values.len;
        packed += w->dict_packed.len;
    }
    double keep = 1.0 - w->opts.min_compression_saving;
    int small_saving = packed + (uint64_t)num_values * MIN_SAVING_BITS_PER_VALUE / 8 > raw;
    cs->codec =
        (double)packed > (double)raw * keep || small_saving ? PQ_CODEC_UNCOMPRESSED : w->opts.codec;
    cs->codec_decided = 1;
}

/* Appends a page header and body to w->out and counts them in the chunk. */
static int append_page(pq_writer *w, chunk_state *cs, int is_dict, size_t num_values,
                       const o2p_buf *raw, const o2p_buf *body, o2p_error *err)
{
    size_t header_start = w->out.len;
    int rc = is_dict ? pq_page_dict_header(&w->out, raw->len, body->len, num_values)
                     : pq_page_data_header(&w->out, raw->len, body->len, num_values,
                                           cs->dictionary ? PQ_ENC_RLE_DICTIONARY : PQ_ENC_PLAIN,
                                           &cs->page_stats);
    if (rc == O2P_ELIMIT)
        return o2p_errorf(err, rc, "column %s: a page of %zu bytes is too large",
                          cs->col->leaf->path, raw->len);
    if (rc < 0) return nomem(err, "a page header");
    size_t header_len = w->out.len - header_start;
    if (!is_dict && pq_index_page(&w->index, &cs->page_stats, w->flushed + header_start,
                                  header_len + body->len, cs->first_row) < 0)
        return nomem(err, "the page index");
    if (buf_append(&w->out, body->data, body->len) < 0) return nomem(err, "output");
    cs->meta.uncompressed_size += header_len + raw->len;
    cs->meta.compressed_size += header_len + body->len;
    return O2P_OK;
}

/* Writes the dictionary page that waited for the chunk's codec. */
static int emit_pending_dictionary(pq_writer *w, chunk_state *cs, o2p_error *err)
{
    cs->dictionary_pending = 0;
    cs->meta.dictionary_page_offset = position(w);
    const o2p_buf *raw = &w->dict.values;
    const o2p_buf *body = cs->codec == PQ_CODEC_UNCOMPRESSED ? raw : &w->dict_packed;
    return append_page(w, cs, 1, w->dict.count, raw, body, err);
}

/* Compresses w->page (with the chunk's codec, choosing it at the first data
 * page) and appends header + body to w->out, after a pending dictionary
 * page. */
static int emit_page(pq_writer *w, chunk_state *cs, int is_dict, size_t num_values, o2p_error *err)
{
    int rc;
    const o2p_buf *body = &w->page;
    if (cs->codec != PQ_CODEC_UNCOMPRESSED || !cs->codec_decided) {
        rc = pq_compress_as(&w->comp, page_content(cs, is_dict), w->page.data, w->page.len,
                            &w->packed, err);
        if (rc < 0) return rc;
        if (!cs->codec_decided) choose_codec(w, cs, num_values);
        if (cs->codec != PQ_CODEC_UNCOMPRESSED) body = &w->packed;
    }
    if (cs->dictionary_pending && (rc = emit_pending_dictionary(w, cs, err)) < 0) return rc;
    if (is_dict)
        cs->meta.dictionary_page_offset = position(w);
    else if (cs->meta.num_data_pages++ == 0)
        cs->meta.data_page_offset = position(w);
    rc = append_page(w, cs, is_dict, num_values, &w->page, body, err);
    if (rc < 0) return rc;
    if (w->out.len >= FLUSH_BYTES) return flush(w, err);
    return O2P_OK;
}

/* Dictionary-encodes the chunk's values [from, to), which start at byte
 * from_byte of the chunk's PLAIN values, into w->entries. */
static int encode_values(pq_writer *w, const chunk_state *cs, size_t from, size_t to,
                         size_t from_byte)
{
    if (cs->run_src != NULL)
        return pq_runs_dict_encode(&w->runs, cs->run_src, &w->dict, from, to, w->entries,
                                   w->opts.dictionary_limit);
    const uint8_t *plain = cs->col->values.data + cs->range->b0 + from_byte;
    return pq_dict_encode(&w->dict, plain, to - from, w->entries + from, w->opts.dictionary_limit);
}

/* PLAIN bytes of the chunk's first `count` values. */
static size_t values_bytes(const pq_writer *w, const chunk_state *cs, size_t count)
{
    if (cs->run_src != NULL) return pq_runs_bytes(&w->runs, cs->run_src, count);
    if (cs->width) return count * cs->width;
    return byte_array_span(cs->col->values.data + cs->range->b0, count);
}

/* First pass: dictionary-encodes the chunk's values into w->entries.
 * Returns 1 when the chunk should use the dictionary, 0 for PLAIN. */
static int try_dictionary(pq_writer *w, chunk_state *cs, o2p_error *err)
{
    const col_range *r = cs->range;
    size_t nvalues = r->v1 - r->v0;
    if (!w->opts.dictionary || nvalues == 0 || cs->col->leaf->physical == PQ_BOOLEAN) return 0;
    if (nvalues > w->entries_cap) {
        uint32_t *entries = mem_realloc(w->entries, nvalues * sizeof *entries);
        if (entries == NULL) return nomem(err, "dictionary entry numbers");
        w->entries = entries;
        w->entries_cap = nvalues;
    }
    pq_dict_reset(&w->dict, cs->width);
    /* Encode a sample first: when nearly every sampled value is new (ids,
     * timestamps, unique messages) the dictionary cannot pay off, and
     * hashing the rest of the chunk would be wasted work. */
    size_t sample = nvalues < DICT_SAMPLE_VALUES ? nvalues : DICT_SAMPLE_VALUES;
    int rc = encode_values(w, cs, 0, sample, 0);
    if (rc == O2P_ELIMIT) return 0;
    if (rc < 0) return nomem(err, "the dictionary");
    if (sample < nvalues) {
        if (w->dict.count * 10 > sample * 9) return 0;
        size_t sample_bytes = values_bytes(w, cs, sample);
        /* The final test below, applied to the sample: when the sample is
         * no smaller as a dictionary than as PLAIN (mostly unique values
         * such as trace ids, with a few repeated empty ones), the whole
         * chunk rarely is, and hashing all of it to find that out was the
         * costliest step of writing such a column.  (A chunk whose values
         * start repeating only after the sample is written PLAIN.) */
        int sample_bits = pq_bit_width(w->dict.count - 1);
        if (w->dict.values.len + pq_bitpack_bytes(sample, sample_bits) >= sample_bytes) return 0;
        rc = encode_values(w, cs, sample, nvalues, sample_bytes);
        if (rc == O2P_ELIMIT) return 0;
        if (rc < 0) return nomem(err, "the dictionary");
    }
    int bits = pq_bit_width(w->dict.count - 1);
    if (w->dict.values.len + pq_bitpack_bytes(nvalues, bits) >= r->b1 - r->b0) return 0;
    cs->index_width = bits;
    return 1;
}

/* Writes the dictionary page, or, while the chunk's codec is undecided,
 * compresses it and holds it back (emit_page writes it before the first data
 * page). */
static int write_dictionary_page(pq_writer *w, chunk_state *cs, o2p_error *err)
{
    if (!cs->codec_decided) {
        cs->dictionary_pending = 1;
        return pq_compress_as(&w->comp, page_content(cs, 1), w->dict.values.data,
                              w->dict.values.len, &w->dict_packed, err);
    }
    buf_reset(&w->page);
    if (buf_append(&w->page, w->dict.values.data, w->dict.values.len) < 0)
        return nomem(err, "a page");
    return emit_page(w, cs, 1, w->dict.count, err);
}

/* Entries page_end counts at once when they cannot end the page. */
#define PAGE_END_BLOCK 64

/* How many of the PAGE_END_BLOCK levels at p equal `level`. */
static size_t count_equal(const uint8_t *p, uint8_t level)
{
    size_t n = 0;
    for (size_t i = 0; i < PAGE_END_BLOCK; i++) n += p[i] == level;
    return n;
}

/* The end of the page starting at entry e: the first row boundary after
 * the estimated encoded size reaches page_size, or after page_rows rows
 * (so a page index has pages to skip even in small columns). */
static void page_end(const pq_writer *w, const chunk_state *cs, size_t e, size_t v, size_t b,
                     size_t *pe, size_t *pv, size_t *pb)
{
    const pq_column *c = cs->col;
    const pq_leaf *leaf = c->leaf;
    const size_t e1 = cs->range->e1;
    const uint64_t budget = (uint64_t)w->opts.page_size * 8;
    const int is_bool = leaf->physical == PQ_BOOLEAN;
    const uint64_t level_bits = (uint64_t)(cs->def_width + cs->rep_width);
    uint64_t fixed_bits = cs->dictionary ? (uint64_t)cs->index_width
                          : is_bool      ? 1
                                         : (uint64_t)cs->width * 8;
    /* Dictionary pages of byte arrays never look at the values' bytes (the
     * entry numbers are written and the statistics come from the
     * dictionary), so their byte position is not tracked: *pb stays b. */
    const int walk_bytes = cs->width == 0 && !cs->dictionary;
    if (leaf->max_def == 0 && leaf->max_rep == 0 && !walk_bytes) {
        uint64_t per = fixed_bits + level_bits;
        uint64_t n = per ? (budget + per - 1) / per : e1 - e;
        size_t count = n < e1 - e ? (size_t)n : e1 - e;
        if (count > w->opts.page_rows) count = w->opts.page_rows;
        if (count == 0) count = 1;
        *pe = e + count;
        *pv = v + count;
        *pb = b + count * cs->width;
        return;
    }
    uint64_t acc = 0;
    size_t rows = 0;
    const uint8_t *values = c->values.data;
    while (e < e1) {
        if (!walk_bytes && e1 - e >= PAGE_END_BLOCK) {
            /* a block that cannot end the page (the sums only grow) is
             * counted at once, in loops without branches */
            size_t brows = PAGE_END_BLOCK, bvals = PAGE_END_BLOCK;
            if (leaf->max_rep > 0) brows = count_equal(c->rep.data + e, 0);
            if (leaf->max_def > 0) bvals = count_equal(c->def.data + e, (uint8_t)leaf->max_def);
            uint64_t bacc = acc + bvals * fixed_bits + PAGE_END_BLOCK * level_bits;
            if (bacc < budget && rows + brows < w->opts.page_rows) {
                acc = bacc;
                rows += brows;
                v += bvals;
                b += bvals * cs->width;
                e += PAGE_END_BLOCK;
                continue;
            }
        }
        if (leaf->max_rep == 0 || c->rep.data[e] == 0) rows++;
        if (leaf->max_def == 0 || c->def.data[e] == leaf->max_def) {
            if (walk_bytes) {
                uint32_t n;
                memcpy(&n, values + b, 4);
                acc += (4 + (uint64_t)n) * 8;
                b += 4 + (size_t)n;
            } else {
                acc += fixed_bits;
                b += cs->width;
            }
            v++;
        }
        acc += level_bits;
        e++;
        if ((acc >= budget || rows >= w->opts.page_rows) &&
            (e == e1 || leaf->max_rep == 0 || c->rep.data[e] == 0))
            break;
    }
    *pe = e;
    *pv = v;
    *pb = b;
}

static int append_levels(o2p_buf *page, const uint8_t *levels, size_t count, int width)
{
    size_t at = page->len;
    if (buf_extend(page, 4) == NULL) return O2P_ENOMEM;
    int rc = pq_rle_encode_u8(page, levels, count, width);
    if (rc < 0) return rc;
    uint32_t len = (uint32_t)(page->len - at - 4);
    memcpy(page->data + at, &len, 4);
    return O2P_OK;
}

/* Statistics of a dictionary-encoded byte-array page from its distinct
 * entries: each entry's bytes are compared once per page, not once per
 * value (attribute keys and values repeat thousands of times). */
static int dictionary_page_stats(pq_writer *w, chunk_state *cs, const uint32_t *idx, size_t n)
{
    if (w->dict.count > w->seen_cap) {
        uint32_t *seen = mem_realloc(w->seen, w->dict.count * sizeof *seen);
        if (seen == NULL) return O2P_ENOMEM;
        memset(seen + w->seen_cap, 0, (w->dict.count - w->seen_cap) * sizeof *seen);
        w->seen = seen;
        w->seen_cap = w->dict.count;
    }
    if (++w->page_serial == 0) { /* wrapped: forget all marks */
        memset(w->seen, 0, w->seen_cap * sizeof *w->seen);
        w->page_serial = 1;
    }
    uint32_t serial = w->page_serial;
    uint32_t prev = UINT32_MAX;
    for (size_t i = 0; i < n; i++) {
        uint32_t e = idx[i];
        if (e == prev) continue; /* runs of one entry (sorted, shared values) */
        prev = e;
        if (w->seen[e] == serial) continue;
        w->seen[e] = serial;
        size_t len;
        const uint8_t *bytes = pq_dict_entry(&w->dict, e, &len);
        pq_stats_add_bytes(&cs->page_stats, bytes, len);
    }
    return O2P_OK;
}

static int write_data_page(pq_writer *w, chunk_state *cs, size_t e, size_t pe, size_t v, size_t pv,
                           size_t b, size_t pb, o2p_error *err)
{
    const pq_column *c = cs->col;
    const pq_leaf *leaf = c->leaf;
    size_t entries = pe - e, nvalues = pv - v;
    buf_reset(&w->page);
    int rc = O2P_OK;
    if (leaf->max_rep > 0) rc = append_levels(&w->page, c->rep.data + e, entries, cs->rep_width);
    if (rc == O2P_OK && leaf->max_def > 0)
        rc = append_levels(&w->page, c->def.data + e, entries, cs->def_width);
    if (rc == O2P_OK) {
        if (cs->dictionary) {
            rc = buf_push_byte(&w->page, (uint8_t)cs->index_width);
            if (rc == O2P_OK)
                rc = pq_rle_encode_u32(&w->page, w->entries + (v - cs->range->v0), nvalues,
                                       cs->index_width);
        } else if (leaf->physical == PQ_BOOLEAN) {
            uint8_t *dst = buf_extend(&w->page, (nvalues + 7) / 8);
            if (dst == NULL)
                rc = O2P_ENOMEM;
            else
                pq_bitpack_bools(c->values.data + b, nvalues, dst);
        } else {
            rc = buf_append(&w->page, c->values.data + b, pb - b);
        }
    }
    if (rc < 0) return nomem(err, "a page");
    pq_stats_reset(&cs->page_stats);
    cs->page_stats.null_count = entries - nvalues;
    if (cs->dictionary && cs->page_stats.order == PQ_ORDER_BYTES) {
        rc = dictionary_page_stats(w, cs, w->entries + (v - cs->range->v0), nvalues);
        if (rc < 0) return nomem(err, "page statistics");
    } else {
        pq_stats_add_plain(&cs->page_stats, c->values.data + b, nvalues);
    }
    pq_stats_merge(&cs->chunk_stats, &cs->page_stats);
    rc = emit_page(w, cs, 0, entries, err);
    if (leaf->max_rep == 0) {
        cs->first_row += entries;
    } else {
        size_t rows = 0; /* a local sum: the loop vectorizes */
        for (size_t i = e; i < pe; i++) rows += c->rep.data[i] == 0;
        cs->first_row += rows;
    }
    return rc;
}

/* Writes one column chunk: rows r of c, or, with run_src, the chunk of
 * run_src whose runs are in w->runs (c holding its levels and a prefix of
 * its values, r its expanded counts).  Returns 1, having written nothing,
 * when such a chunk is not dictionary-encoded and has values: the caller
 * then writes it expanded. */
static int write_chunk(pq_writer *w, size_t col, const pq_column *c, const col_range *r,
                       const pq_column *run_src, uint64_t *total_unc, uint64_t *total_comp,
                       o2p_error *err)
{
    const pq_leaf *leaf = c->leaf;
    chunk_state cs;
    memset(&cs, 0, sizeof cs);
    cs.col = c;
    cs.range = r;
    cs.run_src = run_src;
    cs.width = pq_value_width(leaf);
    cs.def_width = pq_bit_width(leaf->max_def);
    cs.rep_width = pq_bit_width(leaf->max_rep);
    pq_stats_init(&cs.chunk_stats, leaf);
    pq_stats_init(&cs.page_stats, leaf);
    int rc = w->plain_leaf[col] ? 0 : try_dictionary(w, &cs, err);
    if (rc < 0) return rc;
    cs.dictionary = rc;
    if (run_src != NULL && !cs.dictionary && r->v1 > r->v0) return 1;
    if (leaf->physical == PQ_BYTE_ARRAY)
        cs.content = pq_content_of_byte_arrays(c->values.data + r->b0, r->v1 - r->v0);
    else if (leaf->physical == PQ_INT64 && (leaf->logical == PQ_LOGICAL_TIMESTAMP_MILLIS ||
                                            leaf->logical == PQ_LOGICAL_TIMESTAMP_MICROS ||
                                            leaf->logical == PQ_LOGICAL_TIMESTAMP_NANOS))
        cs.content = PQ_CONTENT_TIMESTAMPS;
    cs.meta.leaf = leaf;
    cs.codec = w->opts.codec;
    cs.codec_decided =
        w->opts.codec == PQ_CODEC_UNCOMPRESSED || w->opts.min_compression_saving <= 0;
    cs.meta.has_dictionary = cs.dictionary;
    cs.meta.num_values = r->e1 - r->e0;
    if (cs.dictionary && (rc = write_dictionary_page(w, &cs, err)) < 0) return rc;
    pq_index_chunk_begin(&w->index, cs.page_stats.order);
    size_t e = r->e0, v = r->v0, b = r->b0;
    do {
        size_t pe, pv, pb;
        page_end(w, &cs, e, v, b, &pe, &pv, &pb);
        rc = write_data_page(w, &cs, e, pe, v, pv, b, pb, err);
        if (rc < 0) return rc;
        e = pe;
        v = pv;
        b = pb;
    } while (e < r->e1);
    cs.meta.stats = &cs.chunk_stats;
    cs.meta.codec = cs.codec;
    if (w->bloom_leaf[col] && r->v1 > r->v0) {
        /* the chunk's bloom filter, right after its pages */
        pq_bloom_reset(&w->bloom);
        /* a dictionary holds the chunk's distinct values, all the filter needs */
        int added =
            cs.dictionary
                ? pq_bloom_add_plain(&w->bloom, leaf, w->dict.values.data, w->dict.count)
                : pq_bloom_add_plain(&w->bloom, leaf, c->values.data + r->b0, r->v1 - r->v0);
        if (added < 0 || pq_bloom_build(&w->bloom, w->opts.bloom_fpp) < 0)
            return nomem(err, "a bloom filter");
        uint64_t at = position(w);
        size_t before = w->out.len;
        if (pq_bloom_write(&w->bloom, &w->out) < 0) return nomem(err, "a bloom filter");
        cs.meta.bloom_filter_offset = at;
        cs.meta.bloom_filter_length = (uint32_t)(w->out.len - before);
        if (w->out.len >= FLUSH_BYTES && (rc = flush(w, err)) < 0) return rc;
    }
    chunk_rec rec;
    if (pq_index_chunk_end(&w->index, &rec.ref) < 0) return nomem(err, "the page index");
    if (pq_meta_column_chunk_open(&w->chunks, &cs.meta) < 0) return nomem(err, "footer metadata");
    rec.enc_end = w->chunks.len;
    if (buf_append(&w->chunk_recs, &rec, sizeof rec) < 0) return nomem(err, "footer metadata");
    *total_unc += cs.meta.uncompressed_size;
    *total_comp += cs.meta.compressed_size;
    return O2P_OK;
}

/* The sort column's units per row_group_span_secs (0: no time-aligned
 * row groups: off, or the sort column is not a TIMESTAMP). */
static int64_t row_group_span(const pq_writer *w, const pq_column *key)
{
    uint64_t secs = w->opts.row_group_span_secs;
    int64_t per_sec = key->leaf->logical == PQ_LOGICAL_TIMESTAMP_MILLIS   ? 1000
                      : key->leaf->logical == PQ_LOGICAL_TIMESTAMP_MICROS ? 1000000
                      : key->leaf->logical == PQ_LOGICAL_TIMESTAMP_NANOS  ? 1000000000
                                                                          : 0;
    if (secs == 0 || per_sec == 0 || secs > (uint64_t)(INT64_MAX / per_sec)) return 0;
    return (int64_t)secs * per_sec;
}

/* Whether run-mode column i is encoded from its runs (write_from_runs):
 * byte arrays that may get a dictionary, whose pages then never read the
 * values (their statistics come from the dictionary). */
static int encodes_from_runs(const pq_writer *w, size_t i, const pq_column *c)
{
    return w->opts.dictionary && !w->plain_leaf[i] && c->leaf->physical == PQ_BYTE_ARRAY &&
           pq_stats_order(c->leaf) == PQ_ORDER_BYTES;
}

/* Reports rows that cannot be gathered: bad framing (which the full check
 * names) or rows out of range. */
static int bad_rows(const pq_colset *rows, const pq_column *c, o2p_error *err)
{
    int rc = pq_colset_check(rows, err);
    if (rc < 0) return rc;
    return o2p_errorf(err, O2P_EINVAL, "parquet writer: column %s: rows out of range",
                      c->leaf->path);
}

/* Writes the chunk of run-mode column i from its runs: levels expanded, the
 * values looked up in the dictionary once per stored row.  Returns 1 when
 * the chunk is to be written expanded instead (see write_chunk). */
static int write_from_runs(pq_writer *w, const pq_colset *rows, size_t i, const uint32_t *perm,
                           size_t done, size_t n, uint64_t *total_unc, uint64_t *total_comp,
                           o2p_error *err)
{
    const pq_column *c = &rows->cols[i];
    int rc = pq_runs_build(&w->runs, c, rows->num_rows, perm ? perm + done : NULL, done, n);
    if (rc == O2P_EINVAL) return bad_rows(rows, c, err);
    if (rc < 0) return nomem(err, "the runs of shared column values");
    pq_col_reset(&w->expand);
    w->expand.leaf = c->leaf;
    if (pq_runs_levels(&w->runs, c, &w->expand) < 0 ||
        pq_runs_prefix(&w->runs, c, PQ_CONTENT_SNIFF_VALUES, &w->expand.values) < 0)
        return nomem(err, "the levels of shared column values");
    col_range r = {0, w->expand.num_entries,
                   0, w->expand.num_values,
                   0, pq_runs_bytes(&w->runs, c, w->runs.values)};
    return write_chunk(w, i, &w->expand, &r, c, total_unc, total_comp, err);
}

/* Writes column i's chunk of rows [done, done + n) (in perm's order when
 * perm is not NULL; to_end: the last chunk of rows).  prev is the range of
 * the column's previous chunk of rows in arrival order. */
static int write_column(pq_writer *w, const pq_colset *rows, size_t i, const uint32_t *perm,
                        size_t done, size_t n, int to_end, col_range *prev, uint64_t *total_unc,
                        uint64_t *total_comp, o2p_error *err)
{
    const pq_column *c = &rows->cols[i];
    if (pq_col_is_run(c) && encodes_from_runs(w, i, c)) {
        int rc = write_from_runs(w, rows, i, perm, done, n, total_unc, total_comp, err);
        if (rc != 1) return rc;
    }
    col_range r;
    if (perm != NULL) {
        /* sorted: this chunk's rows gathered in order, one column at a time */
        pq_col_reset(&w->expand);
        w->expand.leaf = c->leaf;
        int grc = pq_col_gather(&w->expand, c, rows->num_rows, perm + done, n, &w->rowix);
        if (grc == O2P_EINVAL) return bad_rows(rows, c, err);
        if (grc < 0) return nomem(err, "sorting column values");
        c = &w->expand;
        r = (col_range){0, c->num_entries, 0, c->num_values, 0, c->values.len};
    } else if (pq_col_is_run(c)) {
        /* shared values: this chunk's rows as plain entries, one column at a time */
        pq_col_reset(&w->expand);
        w->expand.leaf = c->leaf;
        if (pq_col_expand_rows(&w->expand, c, done, n) < 0)
            return nomem(err, "expanding shared column values");
        c = &w->expand;
        r = (col_range){0, c->num_entries, 0, c->num_values, 0, c->values.len};
    } else {
        next_range(c, prev, n, to_end, &r);
        *prev = r;
    }
    return write_chunk(w, i, c, &r, NULL, total_unc, total_comp, err);
}

int pq_writer_write(pq_writer *w, const pq_colset *rows, o2p_error *err)
{
    if (w->state != W_OPEN)
        return o2p_errorf(err, O2P_ESTATE, "parquet writer: %s",
                          w->state == W_CLOSED ? "already closed" : "an earlier write failed");
    if (rows->schema != w->schema)
        return o2p_errorf(err, O2P_EINVAL, "parquet writer: rows of a different schema");
    /* Levels and counts first (cheap, vectorized scans); the framing of
     * BYTE_ARRAY values is checked by the first walk over them: the gather
     * of sorted rows checks it, the other paths need the separate pass. */
    int rc = pq_colset_check_levels(rows, err);
    if (rc < 0) return rc;
    size_t ncols = rows->num_cols;
    uint32_t *perm = NULL; /* sorted order, or NULL: arrival order */
    int sort_leaf = w->opts.sort_leaf;
    int64_t span = 0; /* time-aligned row groups: sort column units per span */
    if (sort_leaf >= 0) {
        rc = pq_sort_perm(&rows->cols[sort_leaf], rows->num_rows, &w->rowix, &perm, err);
        if (rc < 0) return fail(w, rc);
        span = row_group_span(w, &rows->cols[sort_leaf]);
    }
    if (perm == NULL && (rc = pq_colset_check(rows, err)) < 0) return rc;
    col_range *ranges = mem_calloc(ncols, sizeof *ranges);
    if (ranges == NULL) {
        mem_free(perm);
        return nomem(err, "column ranges");
    }
    size_t done = 0;
    while (done < rows->num_rows && rc == O2P_OK) {
        size_t left = rows->num_rows - done;
        size_t n = left < w->opts.row_group_rows ? left : w->opts.row_group_rows;
        if (span > 0) {
            size_t min_rows = w->opts.row_group_rows / 8 ? w->opts.row_group_rows / 8 : 1;
            n = pq_sort_time_cut(&rows->cols[sort_leaf], perm, done, done + min_rows, done + n,
                                 span) -
                done;
        }
        uint64_t start = position(w), total_unc = 0, total_comp = 0;
        for (size_t i = 0; i < ncols && rc == O2P_OK; i++)
            rc = write_column(w, rows, i, perm, done, n, n == left, &ranges[i], &total_unc,
                              &total_comp, err);
        rg_rec rg = {total_unc, n, start, total_comp, sort_leaf};
        if (rc == O2P_OK && buf_append(&w->rg_recs, &rg, sizeof rg) < 0)
            rc = nomem(err, "footer metadata");
        if (rc == O2P_OK) {
            w->num_row_groups++;
            w->rows += n;
            done += n;
        }
    }
    mem_free(ranges);
    mem_free(perm);
    if (rc == O2P_OK) rc = flush(w, err);
    return rc < 0 ? fail(w, rc) : O2P_OK;
}

/* Writes the page index (all ColumnIndex structs, then all OffsetIndex
 * structs) after the last row group, then encodes the RowGroup structs
 * with ColumnChunks pointing at it. */
static int write_page_index(pq_writer *w)
{
    uint64_t column_start = position(w);
    uint64_t offset_start = column_start + w->index.column_indexes.len;
    if (w->opts.page_index &&
        (buf_append(&w->out, w->index.column_indexes.data, w->index.column_indexes.len) < 0 ||
         buf_append(&w->out, w->index.offset_indexes.data, w->index.offset_indexes.len) < 0))
        return O2P_ENOMEM;
    buf_reset(&w->row_groups);
    size_t nchunks = w->chunk_recs.len / sizeof(chunk_rec);
    size_t ncols = pq_schema_num_leaves(w->schema);
    size_t chunk = 0, enc = 0;
    for (size_t g = 0; g < w->num_row_groups; g++) {
        rg_rec rg;
        memcpy(&rg, w->rg_recs.data + g * sizeof rg, sizeof rg);
        buf_reset(&w->page); /* scratch: this row group's finished ColumnChunks */
        for (size_t i = 0; i < ncols && chunk < nchunks; i++, chunk++) {
            chunk_rec rec;
            memcpy(&rec, w->chunk_recs.data + chunk * sizeof rec, sizeof rec);
            pq_chunk_index ci = {0, 0, 0, 0};
            if (!w->opts.page_index) {
                /* no page index: the ColumnChunk ends without fields 4..7 */
            } else if (rec.ref.offset_len > 0) {
                ci.offset_index_offset = offset_start + rec.ref.offset_off;
                ci.offset_index_length = (uint32_t)rec.ref.offset_len;
            }
            if (w->opts.page_index && rec.ref.column_len > 0) {
                ci.column_index_offset = column_start + rec.ref.column_off;
                ci.column_index_length = (uint32_t)rec.ref.column_len;
            }
            if (buf_append(&w->page, w->chunks.data + enc, rec.enc_end - enc) < 0 ||
                pq_meta_column_chunk_close(&w->page, &ci) < 0)
                return O2P_ENOMEM;
            enc = rec.enc_end;
        }
        if (pq_meta_row_group(&w->row_groups, &w->page, ncols, rg.total_unc, rg.num_rows,
                              rg.file_offset, rg.total_comp, g, rg.sort_leaf) < 0)
            return O2P_ENOMEM;
    }
    return O2P_OK;
}

int pq_writer_close(pq_writer *w, o2p_error *err)
{
    if (w->state != W_OPEN)
        return o2p_errorf(err, O2P_ESTATE, "parquet writer: %s",
                          w->state == W_CLOSED ? "already closed" : "an earlier write failed");
    int rc = write_page_index(w);
    if (rc < 0) return fail(w, nomem(err, "the page index"));
    size_t start = w->out.len;
    rc = pq_meta_footer(&w->out, w->schema, w->rows, &w->row_groups, w->num_row_groups, w->metadata,
                        w->opts.num_metadata, w->created_by);
    if (rc < 0) return fail(w, nomem(err, "the footer"));
    size_t footer_len = w->out.len - start;
    if (footer_len > UINT32_MAX)
        return fail(w, o2p_errorf(err, O2P_ELIMIT, "parquet writer: footer too large"));
    uint32_t len32 = (uint32_t)footer_len;
    if (buf_append(&w->out, &len32, 4) < 0 || buf_append(&w->out, MAGIC, sizeof MAGIC) < 0)
        return fail(w, nomem(err, "the footer"));
    rc = flush(w, err);
    if (rc < 0) return fail(w, rc);
    w->state = W_CLOSED;
    return O2P_OK;
}

uint64_t pq_writer_bytes_written(const pq_writer *w)
{
    return w->flushed;
}

uint64_t pq_writer_rows_written(const pq_writer *w)
{
    return w->rows;
}
