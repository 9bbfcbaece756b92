/*
 * pq_writer: streams a Parquet file (format version 1 data pages) to a sink.
 *
 *   pq_writer_open   writes the "PAR1" magic
 *   pq_writer_write  encodes a pq_colset as one or more row groups (at most
 *                    options.row_group_rows rows each) and writes them
 *   pq_writer_close  writes the footer (FileMetaData) and the trailing magic
 *
 * Memory is bounded by one row group: each column chunk is encoded page by
 * page (dictionary page first when the column is dictionary-encoded) and
 * handed to the sink.  Every column (except BOOLEAN, always PLAIN) is tried
 * with RLE_DICTIONARY first; a chunk whose dictionary outgrows
 * options.dictionary_limit, or would not make the chunk smaller, falls back
 * to PLAIN.  Column-chunk and page statistics (min, max, null_count) follow the
 * column's sort order (signed integers, IEEE doubles ignoring NaN, strings as
 * unsigned bytes).
 */
#ifndef O2P_PARQUET_WRITER_H
#define O2P_PARQUET_WRITER_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/error.h"
#include "parquet/pq_column.h"
#include "parquet/pq_schema.h"

/* Values are those of the Thrift `CompressionCodec` enum. */
typedef enum pq_codec {
    PQ_CODEC_UNCOMPRESSED = 0,
    PQ_CODEC_SNAPPY = 1,
    PQ_CODEC_GZIP = 2,
    PQ_CODEC_ZSTD = 6,
    PQ_CODEC_LZ4_RAW = 7
} pq_codec;

/* Parses "zstd", "snappy", "gzip", "lz4_raw"/"lz4", "uncompressed"/"none". */
int pq_codec_parse(const char *name, pq_codec *out);
const char *pq_codec_name(pq_codec codec);

/* Where the file's bytes go.  write() must consume all bytes or fail. */
typedef struct pq_sink {
    int (*write)(void *ctx, const void *data, size_t len, o2p_error *err);
    void *ctx;
} pq_sink;

/* A sink writing to a file descriptor (ctx points at an int holding the fd). */
pq_sink pq_sink_fd(int *fd);
/* A sink appending to a memory buffer. */
pq_sink pq_sink_buf(o2p_buf *out);

typedef struct pq_kv {
    const char *key;
    const char *value;
} pq_kv;

/*
 * A workspace keeps a writer's scratch memory (page and output buffers, the
 * dictionary, the codec context) between files, so a thread that writes
 * many files — a flusher, convert — allocates and page-faults its scratch
 * once instead of once per file.  One writer at a time may use a workspace;
 * it must outlive the writers that use it.
 */
typedef struct pq_workspace pq_workspace;

int pq_workspace_create(pq_workspace **out, o2p_error *err);
void pq_workspace_destroy(pq_workspace *ws);

typedef struct pq_writer_options {
    pq_codec codec;        /* default ZSTD */
    int compression_level; /* codec level; 0 = the codec's default (zstd 3, gzip 6) */
    size_t page_size;      /* target uncompressed data page size, default 1 MiB */
    size_t
        dictionary_limit;  /* max dictionary bytes per chunk before PLAIN fallback, default 1 MiB */
    int dictionary;        /* 1 (default): try dictionary encoding; 0: always PLAIN */
    size_t row_group_rows; /* max rows per row group, default 1,048,576 */
    /* max rows per row group when the rows are sorted (sort_leaf >= 0),
     * default 100,000: DuckDB prunes by row group, not by page, so a sorted
     * file needs several row groups for a time window to skip any; 0 or more
     * than row_group_rows: row_group_rows */
    size_t sorted_row_group_rows;
    /* Time-aligned row groups of sorted files: a row group also ends where
     * the sort column (a TIMESTAMP) enters the next multiple of this many
     * seconds since the epoch, once it holds row_group_rows / 8 rows (so
     * sparse data does not make tiny row groups).  A window inside one
     * aligned span then touches one row group.  0: row counts only. */
    uint64_t row_group_span_secs;
    size_t page_rows;       /* max rows per data page (besides page_size), default 100,000 */
    const char *created_by; /* default O2P_CREATED_BY */
    const pq_kv *metadata;  /* key/value metadata, copied at open */
    size_t num_metadata;
    pq_workspace *workspace; /* NULL: the writer allocates its own scratch */
    /* Row order: when sort_rows is 1 (default) and sort_leaf >= 0, the rows
     * of every pq_writer_write call are reordered by leaf sort_leaf (a flat
     * INT64 column, ascending, nulls first, stable) and each row group
     * declares it in RowGroup.sorting_columns.  sort_leaf defaults to -1
     * (arrival order); the table schema sets it (tbl_sort_leaf). */
    int sort_rows;
    int sort_leaf;
    /* Split-block bloom filters (pq_bloom) on the leaves named in
     * bloom_table_columns (the table's own choice, tbl_bloom_columns) and
     * bloom_columns (configuration), both comma-separated leaf paths; names
     * the schema lacks are skipped.  Sized for a false-positive rate of
     * bloom_fpp (default 0.01). */
    const char *bloom_table_columns;
    const char *bloom_columns;
    double bloom_fpp;
    int bloom_filters; /* 1 (default): write the bloom filters above; 0: none */
    int page_index;    /* 1 (default): ColumnIndex + OffsetIndex per chunk; 0: none */
    /* Leaves written PLAIN, never with a dictionary (comma-separated leaf
     * paths, the table's choice: tbl_plain_columns); names the schema lacks
     * are skipped. */
    const char *plain_table_columns;
    /* A column chunk is written UNCOMPRESSED when the codec makes its first
     * pages (dictionary page + first data page) smaller by less than this
     * fraction (default 0.05); 0: always the codec. */
    double min_compression_saving;
} pq_writer_options;

void pq_writer_options_default(pq_writer_options *opts);

typedef struct pq_writer pq_writer;

int pq_writer_open(pq_writer **out, const pq_schema *schema, const pq_writer_options *opts,
                   pq_sink sink, o2p_error *err);
int pq_writer_write(pq_writer *w, const pq_colset *rows, o2p_error *err);
int pq_writer_close(pq_writer *w, o2p_error *err);
/* Frees the writer (after close, or to abandon a failed file). */
void pq_writer_destroy(pq_writer *w);

/* Bytes handed to the sink so far. */
uint64_t pq_writer_bytes_written(const pq_writer *w);
uint64_t pq_writer_rows_written(const pq_writer *w);

#endif
